"""Outgoing letters in a real browser against a real (embedded) mailroom: a clerk drafts an
Anforderung von Unterlagen and a Bescheid from the case page, a second clerk approves the
Bescheid (four eyes), the letters wait for print; the Poststelle builds a print batch,
downloads it, marks it printed and records a returned letter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from tests.fixtures.web_casework import (
    PASSWORD,
    RUECKRUF,
    case_from_triage,
    start_mailroom,
    station,
)
from tests.harness.browser import check_accessibility, screenshot, serve_app

SLOW = 30_000  # ms: the delivery consumer renders the letter in the background


@dataclass
class Site:
    url: str
    mailroom: Mailroom
    reference: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    mailroom = start_mailroom(Path(tmp_path_factory.mktemp("briefe")) / "var")
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


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_label("Benutzername")).to_be_visible()


def flash(page: Page) -> Locator:
    return page.locator(".flash--success")


def letter(page: Page, title: str) -> Locator:
    return page.locator(".letter", has=page.get_by_role("link", name=title, exact=True))


def new_letter(page: Page, template: str) -> None:
    page.get_by_label("Neues Schreiben aus Vorlage").select_option(label=template)
    page.get_by_role("button", name="Entwurf anlegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{template}: neuer Entwurf")


def test_letters_are_drafted_approved_printed_and_returned(browser_page: Page, site: Site) -> None:
    page = browser_page
    case_url = f"{site.url}/faelle/{site.reference}"
    sign_in(page, case_url, "erika")
    expect(page.get_by_role("heading", name="Schreiben")).to_be_visible()

    # An Anforderung von Unterlagen: the missing fields are named, then saved and approved.
    new_letter(page, "Anforderung von Unterlagen")
    expect(page.get_by_label("Name der Empfängerin oder des Empfängers")).to_have_value(
        "Hans Meier"
    )
    page.get_by_role("button", name="Entwurf speichern").click()
    error = page.locator("#schreiben-fehler")
    expect(error).to_contain_text("Es fehlen Angaben: Benötigte Unterlagen (eine je Zeile), Frist")
    expect(error).to_contain_text("Es wurde nichts gespeichert.")
    requested = page.get_by_label("Benötigte Unterlagen (eine je Zeile)")
    expect(requested).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, "schreiben-fehler")
    requested.fill("Kopie des Personalausweises\nGeburtsurkunde der Mutter")
    page.get_by_label("Frist (Pflichtfeld)", exact=True).fill("16.03.2026")
    vorschau = page.get_by_role("button", name="Vorschau")
    expect(vorschau).to_have_attribute("formtarget", "_blank")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(flash(page)).to_have_text("Der Entwurf „Anforderung von Unterlagen“ ist gespeichert.")
    expect(page.get_by_role("button", name="Freigeben")).to_be_enabled()
    page.get_by_role("button", name="Freigeben").click()
    expect(flash(page)).to_contain_text("„Anforderung von Unterlagen“ ist freigegeben.")
    expect(page).to_have_url(f"{case_url}#schreiben-titel")
    anforderung = letter(page, "Anforderung von Unterlagen")
    expect(anforderung).to_contain_text("Wartet auf Druck", timeout=SLOW)  # htmx refreshes
    expect(anforderung).to_contain_text("Per Post: Kein Bürgerkonto verknüpft")

    # A Bescheid needs a second person: the drafter cannot approve it.
    new_letter(page, "Bescheid")
    page.get_by_label("Entscheidung (Tenor)").fill(
        "Die beantragte Geburtsurkunde wird ausgestellt."
    )
    page.get_by_label("Begründung").fill("Die Voraussetzungen nach § 62 PStG liegen vor.")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(flash(page)).to_have_text("Der Entwurf „Bescheid“ ist gespeichert.")
    approve = page.get_by_role("button", name="Freigeben")
    expect(approve).to_be_disabled()
    expect(page.locator("#freigabe-hinweis")).to_contain_text(
        "Freigabe durch eine zweite Person erforderlich"
    )
    check_accessibility(page, "schreiben-entwurf")
    screenshot(page, "schreiben-entwurf")
    sign_out(page)

    # The Poststelle: the Anforderung waits for print; a batch of it.
    outbox_url = f"{site.url}/postausgang"
    sign_in(page, f"{site.url}/arbeitskorb", "paul")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Postausgang"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Postausgang")
    queue = page.locator("table").first
    expect(queue).to_contain_text("Anforderung von Unterlagen")
    expect(queue).to_contain_text(site.reference)
    expect(queue).to_contain_text("Kein Bürgerkonto verknüpft")
    page.get_by_role("button", name="Druckstapel erstellen").click()
    expect(flash(page)).to_contain_text("Druckstapel erstellt:")
    batch = page.locator(".batch--new")
    expect(batch).to_contain_text("gerade erstellt")
    expect(batch.locator("table")).to_contain_text(site.reference)
    with page.expect_download() as download:
        batch.get_by_role("link", name="PDF herunterladen").click()
    assert download.value.suggested_filename.startswith("druckstapel-")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    sign_out(page)

    # A second clerk approves the Bescheid from the case page.
    sign_in(page, case_url, "hans")
    bescheid = letter(page, "Bescheid")
    expect(bescheid).to_contain_text("Freigabe durch eine zweite Person")
    bescheid.get_by_role("link", name="Prüfen und freigeben").click()
    expect(page.get_by_label("Begründung")).to_have_value(
        "Die Voraussetzungen nach § 62 PStG liegen vor."
    )
    page.get_by_role("button", name="Freigeben").click()
    expect(flash(page)).to_contain_text("„Bescheid“ ist freigegeben.")
    bescheid = letter(page, "Bescheid")
    expect(bescheid).to_contain_text("Wartet auf Druck", timeout=SLOW)
    expect(bescheid).to_contain_text("Freigabe: Hans Berger")
    expect(letter(page, "Anforderung von Unterlagen")).to_contain_text("Im Druckstapel")
    page.evaluate("window.scrollTo(0, 0)")  # the document column is sticky
    check_accessibility(page, "fall-schreiben")
    screenshot(page, "fall-schreiben")
    sign_out(page)

    # The Poststelle: the Bescheid waits, the batch is open; marked printed, then returned.
    sign_in(page, outbox_url, "paul")
    expect(page.locator("table").first).to_contain_text("Bescheid")
    expect(page.locator(".batch")).to_have_count(1)
    check_accessibility(page, "postausgang")
    screenshot(page, "postausgang")
    page.locator(".batch").get_by_role("button", name="Als gedruckt markieren").click()
    expect(flash(page)).to_contain_text("Der Druckstapel ist als gedruckt vermerkt")
    expect(page.locator(".batch")).to_have_count(0)

    page.get_by_label("Brief-Nr. oder Aktenzeichen").fill(site.reference)
    page.get_by_label("Grund").select_option(label="Empfänger/in verzogen")
    page.get_by_role("button", name="Rücklauf erfassen").click()
    choices = page.get_by_role("radio")
    if choices.count():  # the case's Eingangsbestätigung was printed in the same batch
        page.get_by_label("Anforderung von Unterlagen", exact=False).check()
        page.get_by_label("Grund").select_option(label="Empfänger/in verzogen")
        page.get_by_role("button", name="Rücklauf erfassen").click()
    expect(flash(page)).to_contain_text(
        f"Rücklauf erfasst: Anforderung von Unterlagen zu {site.reference}"
    )
