"""The case page in a real browser against a real (embedded) mailroom: a clerk reads the scan
and its text with the search hit marked, takes the case, notes, asks the citizen for
documents and closes it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.texts_de import INFORMATION_REQUEST_TEXTS
from tests.fixtures.web_casework import (
    ADMIN,
    PASSWORD,
    RUECKRUF,
    case_from_triage,
    start_mailroom,
    station,
)
from tests.harness.browser import TABLET_VIEWPORT, check_accessibility, screenshot, serve_app


@dataclass
class Site:
    url: str
    mailroom: Mailroom
    reference: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    mailroom = start_mailroom(Path(tmp_path_factory.mktemp("fall")) / "var")
    try:
        _, reference = case_from_triage(
            mailroom, station(mailroom), RUECKRUF, "rückruf.pdf", "standesamt"
        )
        with serve_app(create_app(mailroom)) as url:
            yield Site(url, mailroom, reference)
    finally:
        mailroom.stop()


def sign_in(page: Page, target: str, login: str) -> None:
    page.goto(target)
    page.get_by_label("Benutzername").fill(login)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(target)


def wait_loaded(page: Page, image: Locator) -> int:
    """The image's natural width once it has loaded (0 would be a broken image)."""
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    return int(image.evaluate("img => img.naturalWidth"))


def flash(page: Page) -> Locator:
    return page.locator(".flash--success")


def test_a_clerk_works_a_case_from_reading_to_closing(browser_page: Page, site: Site) -> None:
    page = browser_page
    case_url = f"{site.url}/faelle/{site.reference}"
    sign_in(page, f"{case_url}?q=r%C3%BCckruf", "erika")  # "rückruf"
    expect(page.get_by_role("heading", level=1)).to_have_text("bitte um Rückruf.")
    expect(page.locator(".case-header")).to_contain_text("Hans Meier")
    expect(page.locator(".case-header__reference")).to_contain_text("Neu")
    facts = page.locator(".case-facts")
    expect(facts).to_contain_text("Standesamt")
    expect(facts).to_contain_text("noch niemand")
    expect(facts.locator(".badge--deadline")).to_contain_text("im Plan")

    # The scan, rendered on the server, and the recognised text with the hits marked.
    viewer = page.locator("#dokument")
    assert wait_loaded(page, viewer.locator("img.viewer__page")) == 600
    expect(viewer).to_contain_text("Seite 1 von 2")
    marks = page.locator(".document-text mark")
    expect(marks.first).to_have_text("Rückruf")
    expect(marks).to_have_count(2)  # "Rückruf" (page 1) and "Rückruf" (page 2)
    expect(page.locator(".case-text__hits")).to_contain_text("2 Treffer für „rückruf“")
    check_accessibility(page, "fall")

    # Zoom and pages swap only the viewer (htmx) and keep the search.
    viewer.get_by_role("link", name="900 px").click()
    expect(page).to_have_url(f"{case_url}?q=r%C3%BCckruf&dokument=1&seite=1&breite=900")
    assert wait_loaded(page, page.locator("#dokument img.viewer__page")) == 900
    page.locator("#dokument").get_by_role("link", name="Nächste Seite").click()
    expect(page.locator("#dokument")).to_contain_text("Seite 2 von 2")
    wait_loaded(page, page.locator("#dokument img.viewer__page"))
    expect(marks).to_have_count(2)
    text = page.locator(".case-text")
    expect(text.locator(".document-text__page")).to_have_text(
        ["Seite 1 · 1 Treffer", "Seite 2 · 1 Treffer"]
    )
    text.get_by_role("link", name="Seite 1").click()  # a page of the text, in the viewer
    expect(page.locator("#dokument")).to_contain_text("Seite 1 von 2")
    download = page.locator("#dokument").get_by_role("link", name="Original herunterladen (PDF)")
    expect(download).to_have_attribute("href", f"/dokumente/{_item_id(site)}/0/original")
    page.locator("#dokument").get_by_role("link", name="600 px").click()
    wait_loaded(page, page.locator("#dokument img.viewer__page"))

    # Take it, note something, ask for documents.
    page.get_by_role("button", name="Übernehmen").click()
    expect(flash(page)).to_have_text("Sie haben den Vorgang übernommen.")
    expect(facts).to_contain_text("Erika Muster (Sie)")
    expect(page.get_by_role("button", name="Übernehmen")).to_have_count(0)

    page.get_by_label("Notiz", exact=True).fill("Rückruf am Dienstag versucht,\nniemand erreicht.")
    page.get_by_role("button", name="Notiz speichern").click()
    expect(flash(page)).to_have_text("Die Notiz ist gespeichert.")
    timeline = page.locator(".timeline")
    expect(timeline.locator(".timeline__item").first).to_contain_text("Notiz")
    expect(timeline.locator(".timeline__text").first).to_have_text(
        "Rückruf am Dienstag versucht,\nniemand erreicht."
    )

    page.locator("summary", has_text="Unterlagen anfordern").click()
    page.get_by_label("Textbaustein").select_option(label=INFORMATION_REQUEST_TEXTS[1][0])
    message = page.get_by_label("Nachricht an die Bürgerin / den Bürger")
    expect(message).to_have_value(INFORMATION_REQUEST_TEXTS[1][1])  # filled by fall.js
    expect(page.get_by_label("Antwort erbeten bis")).to_have_value("2026-03-16")
    page.get_by_role("button", name="Unterlagen anfordern").click()
    expect(flash(page)).to_contain_text("Unterlagen angefordert (Antwort bis 16.03.2026)")
    expect(page.locator(".case-header__reference")).to_contain_text("Wartet auf Bürger/in")
    expect(facts).to_contain_text("Antwort erbeten bis")
    expect(timeline.locator(".timeline__item").first).to_contain_text(
        "Unterlagen angefordert (Frist 16.03.2026)"
    )
    check_accessibility(page, "fall-bearbeitet")
    screenshot(page, "fall")
    page.set_viewport_size(TABLET_VIEWPORT)  # type: ignore[arg-type]
    check_accessibility(page, "fall-tablet")
    screenshot(page, "fall-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Close it: only "Wieder eröffnen" is left.
    page.locator("summary", has_text="Abschließen").click()
    page.get_by_label("Ergebnis").select_option(label="Erledigt")
    page.get_by_role("button", name="Vorgang abschließen").click()
    expect(flash(page)).to_have_text("Der Vorgang ist abgeschlossen: Erledigt.")
    expect(page.locator(".case-header__reference")).to_contain_text("Abgeschlossen")
    actions = page.locator(".case-actions")
    expect(actions.get_by_role("button")).to_have_count(1)
    expect(actions.get_by_role("button", name="Wieder eröffnen")).to_be_visible()
    case = site.mailroom.services.casework.find_visible(ADMIN, site.reference)
    assert case.closed and case.outcome == "done" and case.assignee_id == "staff:erika"
    screenshot(page, "fall-abgeschlossen")


def _item_id(site: Site) -> str:
    page = site.mailroom.services.workspace.case_page(ADMIN, site.reference)
    return page.items[0].item_id
