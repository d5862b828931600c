"""The citizen pages in a real browser against a real (embedded) mailroom: the status form and
page, answering an information request with a file, and the Bürgerkonto (sign-in at the
loopback OpenID provider, requests, Postfach, digital delivery) — on a desktop and a phone,
with axe-core and screenshots (``buerger-*.png``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from mailroom.api.app import create_app
from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.services.intake import Receipt
from mailroom.web.routes_citizen import wochentag_datum
from tests.fixtures.builders import submission
from tests.fixtures.citizen import deliver_to_postfach, settle
from tests.fixtures.pdf_documents import text_pdf
from tests.harness.browser import check_accessibility, screenshot
from tests.harness.oidc_provider import OidcProvider, running_oidc_provider
from tests.harness.ports import LOOPBACK, free_port

ADMIN = system_principal("test")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ACCOUNT = "eva-7f3a"
CITIZENS = {ACCOUNT: {"name": "Eva Musterfrau", "email": "eva@example.org"}}
ASKED = (
    "Bitte senden Sie uns eine Kopie Ihres Personalausweises (Vorder- und Rückseite). "
    "Bitte geben Sie dabei das Aktenzeichen an."
)


@dataclass
class Site:
    url: str
    mailroom: Mailroom
    waiting: Receipt  # the Standesamt asks for a copy of the ID card
    decided: Receipt  # closed with a decision
    in_progress: Receipt  # Straßenverkehrsamt, nothing to do
    asked_again: Receipt  # asked too; in the Bürgerkonto, not answered
    document_title: str
    due: str  # the answer's due date as the page says it


def _case_reference(mailroom: Mailroom, receipt: Receipt) -> str:
    return mailroom.app.find_case(mailroom.app.get_item(receipt.item_id).case_id).reference


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_oidc_provider(CITIZENS) as provider:
        yield from _site(Path(tmp_path_factory.mktemp("buerger-e2e")), provider)


def _site(tmp: Path, provider: OidcProvider) -> Iterator[Site]:
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    provider.client_id = "mailroom-buergerkonto"
    provider.redirect_uri = f"{url}/buergerkonto/zurueck"
    settings = Settings(
        data_dir=tmp / "var",
        secret_key="test-secret-" + "e" * 40,
        public_url=url,
        citizen_oidc_issuer=provider.issuer,
        citizen_oidc_client_id=provider.client_id,
        citizen_oidc_client_secret=provider.client_secret,
    )
    mailroom = build(settings)  # the real clock: the timeline's moments come from both
    mailroom.start()
    intake, casework = mailroom.intake, mailroom.services.casework
    waiting = intake.submit(
        submission(subject="Geburtsurkunde für meine Tochter", citizen_account_id=ACCOUNT),
        [],
        uuid4().hex,
    )
    decided = intake.submit(
        submission(service_key="sterbeurkunde", subject="Sterbeurkunde meines Vaters"),
        [],
        uuid4().hex,
    )
    in_progress = intake.submit(
        submission(
            service_key="kfz-zulassung-umschreibung-halterwechsel",
            subject="Ummeldung meines Autos",
            citizen_account_id=ACCOUNT,
        ),
        [],
        uuid4().hex,
    )
    asked_again = intake.submit(
        submission(
            service_key="bewohnerparkausweis",
            subject="Bewohnerparkausweis Lindenstraße",
            citizen_account_id=ACCOUNT,
        ),
        [],
        uuid4().hex,
    )
    settle(mailroom)
    due = mailroom.services.workspace.today() + timedelta(days=14)
    casework.request_information(ADMIN, _case_reference(mailroom, waiting), ASKED, due)
    casework.request_information(
        ADMIN,
        _case_reference(mailroom, asked_again),
        "Bitte senden Sie uns eine Kopie Ihres Fahrzeugscheins.",
        due,
    )
    casework.close(ADMIN, _case_reference(mailroom, decided), "granted")
    title = "Bescheid über die Ummeldung"
    deliver_to_postfach(mailroom, in_progress.reference, ACCOUNT, title, [title, "Seite 2"])
    settle(mailroom)
    server = uvicorn.Server(
        uvicorn.Config(create_app(mailroom), host=LOOPBACK, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield Site(
            url, mailroom, waiting, decided, in_progress, asked_again, title, wochentag_datum(due)
        )
    finally:
        server.should_exit = True
        thread.join(10)
        mailroom.stop()


def look_up(page: Page, site: Site, reference: str, code: str) -> None:
    page.goto(f"{site.url}/status")
    page.get_by_label("Aktenzeichen").fill(reference)
    page.get_by_label("Zugangscode").fill(code)
    page.get_by_role("button", name="Status anzeigen").click()


def test_the_status_form_finds_a_request_and_refuses_a_wrong_code(
    browser_page: Page, site: Site
) -> None:
    page = browser_page
    page.goto(f"{site.url}/status")
    expect(page).to_have_title("Status Ihres Anliegens – Bürgerservice – Stadt Lindenau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wie weit ist mein Anliegen?")
    check_accessibility(page, "buerger-status-formular")
    screenshot(page, "buerger-status-formular")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    check_accessibility(page, "buerger-status-formular-handy")
    screenshot(page, "buerger-status-formular-handy")
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]

    look_up(page, site, site.waiting.reference, "AAAA-BBBB-CCCC")
    expect(page.get_by_role("alert")).to_contain_text("Wir haben kein Anliegen mit diesem")
    expect(page.get_by_label("Aktenzeichen")).to_have_value(site.waiting.reference)
    expect(page.get_by_label("Zugangscode")).to_have_value("")
    check_accessibility(page, "buerger-status-falsch")

    # Typed as people do: lower case, spaces, O for 0 (the year 2026 has one).
    typed = site.decided.reference.lower().replace("-", " ").replace("0", "o")
    look_up(page, site, typed, site.decided.access_code.lower())
    expect(page.get_by_role("heading", level=1)).to_have_text("Entschieden")
    expect(page.locator(".b-status")).to_contain_text("entschieden")
    expect(page.locator(".b-steps [aria-current='step']")).to_contain_text("Abgeschlossen")


def test_a_citizen_reads_what_is_needed_and_answers_with_a_file(
    browser_page: Page, site: Site, tmp_path: Path
) -> None:
    page = browser_page
    look_up(page, site, site.waiting.reference, site.waiting.access_code)
    expect(page.get_by_role("heading", level=1)).to_have_text("Wir brauchen Unterlagen von Ihnen")
    need = page.locator("#antwort")
    expect(need).to_contain_text(ASKED)
    expect(need).to_contain_text(f"Bitte antworten Sie bis {site.due}.")
    facts = page.locator(".b-facts")
    expect(facts).to_contain_text("Standesamt")
    expect(facts).to_contain_text("verschiebt sich dieses Datum")
    contact = page.locator(".b-contact")
    expect(contact.get_by_role("link", name="02999 120-3400")).to_have_attribute(
        "href", "tel:02999120-3400"
    )
    check_accessibility(page, "buerger-status-unterlagen")
    screenshot(page, "buerger-status-unterlagen")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    check_accessibility(page, "buerger-status-unterlagen-handy")
    screenshot(page, "buerger-status-unterlagen-handy")

    # A file that fails the content checks: a German message, nothing sent, text kept.
    bad = tmp_path / "ausweis.pdf"
    bad.write_bytes(b"PK\x03\x04 not a pdf at all")
    page.get_by_label("Unterlagen hochladen").set_input_files(str(bad))
    page.get_by_label("Ihre Nachricht an uns").fill("Anbei mein Ausweis.")
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.get_by_role("alert")).to_contain_text("„ausweis.pdf“")
    expect(page.get_by_role("alert")).to_contain_text("Es wurde nichts gespeichert")
    expect(page.get_by_label("Ihre Nachricht an uns")).to_have_value("Anbei mein Ausweis.")
    check_accessibility(page, "buerger-antwort-fehler")

    good = tmp_path / "ausweis-scan.pdf"
    good.write_bytes(text_pdf(["Personalausweis Eva Musterfrau", "Rückseite"]))
    page.get_by_label("Unterlagen hochladen").set_input_files(str(good))
    page.get_by_role("button", name="Antwort senden").click()
    expect(page.get_by_role("status").filter(has_text="Vielen Dank")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("In Bearbeitung beim Standesamt")
    expect(page.locator("#antwort")).to_have_count(0)
    expect(page.locator(".b-timeline")).to_contain_text("Ihre Antwort ist eingegangen.")
    check_accessibility(page, "buerger-antwort-gesendet")
    screenshot(page, "buerger-antwort-gesendet-handy")
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]

    case = site.mailroom.app.find_case(site.mailroom.app.get_item(site.waiting.item_id).case_id)
    assert case.open_request_id is None and len(case.item_ids) == 2


def test_the_buergerkonto_shows_requests_postfach_and_delivery_choice(
    browser_page: Page, site: Site
) -> None:
    page = browser_page
    page.goto(f"{site.url}/buergerkonto")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bürgerkonto")
    check_accessibility(page, "buerger-konto-anmelden")
    page.get_by_role("link", name="Mit dem Bürgerkonto anmelden").click()
    expect(page).to_have_url(f"{site.url}/buergerkonto")  # the provider signs Eva in at once
    expect(page.get_by_role("heading", level=1)).to_have_text("Guten Tag, Eva Musterfrau")
    requests = page.locator("#anliegen-titel + .b-list")
    expect(requests).to_contain_text(site.in_progress.reference)
    expect(requests).to_contain_text("In Bearbeitung beim Straßenverkehrsamt")
    expect(requests).not_to_contain_text(site.decided.reference)  # not linked to the account
    todo = requests.locator(".b-request-card--action")
    expect(todo).to_contain_text("Bewohnerparkausweis Lindenstraße")
    expect(todo).to_contain_text("Wir brauchen Unterlagen von Ihnen")
    expect(todo).to_contain_text(f"Bitte antworten Sie bis {site.due}.")
    postfach = page.locator("#postfach-titel + .b-list")
    expect(postfach).to_contain_text(site.document_title)
    expect(postfach.locator(".badge")).to_have_text("Neu")
    check_accessibility(page, "buerger-konto")
    screenshot(page, "buerger-konto")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    check_accessibility(page, "buerger-konto-handy")
    screenshot(page, "buerger-konto-handy")
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]

    with page.expect_download() as download:
        postfach.get_by_role("link", name=f"Öffnen {site.document_title}").click()
    assert download.value.suggested_filename == f"{site.document_title}.pdf"
    page.reload()
    expect(postfach).to_contain_text("gelesen am")
    expect(postfach.locator(".badge")).to_have_count(0)

    page.get_by_label("Bescheide und Schreiben digital in mein Postfach statt per Post").check()
    page.get_by_label("E-Mail-Adresse für die Benachrichtigung").fill("eva@example.org")
    page.get_by_role("button", name="Speichern").click()
    expect(page.locator(".flash--success")).to_contain_text("digital in Ihr Postfach")
    assert site.mailroom.services.citizen.digital_delivery(ACCOUNT) == (True, "eva@example.org")

    page.get_by_role("link", name="Ummeldung meines Autos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "In Bearbeitung beim Straßenverkehrsamt"
    )
    expect(page.get_by_role("link", name="Zurück zum Bürgerkonto")).to_be_visible()
    check_accessibility(page, "buerger-konto-anliegen")

    page.get_by_role("button", name="Abmelden").click()
    expect(page.locator(".flash--success")).to_have_text("Sie sind vom Bürgerkonto abgemeldet.")
