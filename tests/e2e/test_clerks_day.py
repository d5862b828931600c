"""A clerk's day, as people do it, in a real browser against a real (embedded) mailroom:
the mailroom places a scanned letter from triage, the clerk finds it in the department's
queue, reads the scan and its text, takes it, notes, asks the citizen, and closes it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from mailroom.api.app import create_app
from tests.fixtures.web_casework import (
    ADMIN,
    PASSWORD,
    RUECKRUF,
    scan_to_triage,
    start_mailroom,
    station,
)
from tests.harness.browser import check_accessibility, screenshot, serve_app


def sign_in(page: Page, url: str, login: str) -> None:
    page.goto(f"{url}/anmelden")
    page.get_by_label("Benutzername").fill(login)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def test_a_letter_goes_from_the_scanner_through_triage_to_a_closed_case(
    browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    mailroom = start_mailroom(tmp_path / "var")
    try:
        item_id = scan_to_triage(mailroom, station(mailroom), RUECKRUF, "rueckruf.pdf")
        with serve_app(create_app(mailroom)) as url:
            # The mailroom places the letter: search a department, Enter.
            sign_in(page, url, "paul")
            page.goto(f"{url}/triage")
            page.keyboard.press("/")
            page.keyboard.type("Standesamt")
            page.keyboard.press("Enter")
            expect(page.locator(".flash").first).to_contain_text("an Standesamt weitergeleitet")
            reference = mailroom.services.workspace.triage_item(ADMIN, item_id).case_reference
            assert reference is not None
            page.get_by_role("button", name="Abmelden").click()

            # The clerk finds it in the Standesamt's queue and opens it.
            sign_in(page, url, "erika")
            expect(page).to_have_url(f"{url}/arbeitskorb")
            page.goto(f"{url}/fachdienste/standesamt")
            page.get_by_role("link", name=reference).click()
            expect(page).to_have_url(f"{url}/faelle/{reference}")
            image = page.locator("#dokument img.viewer__page")
            expect(image).to_be_visible()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
            )
            expect(page.locator(".document-text")).to_contain_text("bitte um Rückruf")

            page.get_by_role("button", name="Übernehmen").click()
            page.get_by_label("Notiz", exact=True).fill("Herr Meier ist ab 16 Uhr erreichbar.")
            page.get_by_role("button", name="Notiz speichern").click()
            page.locator("summary", has_text="Unterlagen anfordern").click()
            page.get_by_label("Nachricht an die Bürgerin / den Bürger").fill(
                "Bitte senden Sie uns eine Kopie Ihres Personalausweises."
            )
            page.get_by_role("button", name="Unterlagen anfordern").click()
            expect(page.locator(".case-header__reference")).to_contain_text("Wartet auf Bürger/in")
            check_accessibility(page, "tag-fall")
            page.locator("summary", has_text="Abschließen").click()
            page.get_by_label("Ergebnis").select_option(label="Erledigt")
            page.get_by_role("button", name="Vorgang abschließen").click()
            expect(page.locator(".case-header__reference")).to_contain_text("Abgeschlossen")
            screenshot(page, "tag-abgeschlossen")

        case = mailroom.services.casework.find_visible(ADMIN, reference)
        assert case.closed and case.assignee_id == "staff:erika"
        timeline = mailroom.services.workspace.case_page(ADMIN, reference).detail.timeline
        kinds = {entry.kind for entry in timeline}
        assert {"opened", "taken", "note", "information_requested", "closed"} <= kinds, kinds
    finally:
        mailroom.stop()
