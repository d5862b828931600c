"""The Bürgerkonto (issue 10, part 2): citizens sign in with OpenID Connect at the city's
citizen-account provider — the loopback test provider, as for staff sign-in, as a second
client — and see their requests and their Postfach; bad tokens sign nobody in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.texts_de import CITIZEN_SIGN_IN_FAILED
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.citizen import deliver_to_postfach, settle
from tests.fixtures.pdf_documents import text_pdf
from tests.harness.oidc_provider import OidcProvider, running_oidc_provider

BASE = "http://testserver"
CITIZENS = {
    "eva-7f3a": {"name": "Eva Musterfrau", "email": "eva@example.org", "email_verified": True},
    "max-91c2": {"given_name": "Max", "family_name": "Muster"},
}
ADMIN = system_principal("test")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    mailroom: Mailroom
    provider: OidcProvider
    app: object
    eva_reference: str
    max_reference: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_oidc_provider(CITIZENS) as provider:
        provider.client_id = "mailroom-buergerkonto"
        provider.redirect_uri = f"{BASE}/buergerkonto/zurueck"
        settings = Settings(
            data_dir=Path(tmp_path_factory.mktemp("konto")) / "var",
            secret_key="test-secret-" + "c" * 40,
            public_url=BASE,
            citizen_oidc_issuer=provider.issuer,
            citizen_oidc_client_id=provider.client_id,
            citizen_oidc_client_secret=provider.client_secret,
        )
        mailroom = build(settings, clock=FakeClock())
        mailroom.start()  # pages wait for their read models (read your own writes)
        try:
            eva = mailroom.intake.submit(submission(citizen_account_id="eva-7f3a"), [], uuid4().hex)
            other = mailroom.intake.submit(
                submission(citizen_account_id="max-91c2", subject="Sterbeurkunde"), [], None
            )
            settle(mailroom)
            yield World(mailroom, provider, create_app(mailroom), eva.reference, other.reference)
        finally:
            mailroom.stop()


def sign_in(world: World, login: str) -> tuple[TestClient, httpx.Response]:
    """The browser's way: mailroom → provider (signs ``login`` in at once) → mailroom."""
    browser = TestClient(world.app, follow_redirects=False)  # type: ignore[arg-type]
    to_provider = browser.get("/buergerkonto/anmelden")
    assert to_provider.status_code == 303
    location = to_provider.headers["location"]
    assert location.startswith(world.provider.issuer)
    authorize = httpx.get(f"{location}&login_hint={login}", timeout=10)
    assert authorize.status_code in (302, 303), authorize.text
    back = urlsplit(authorize.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{BASE}/buergerkonto/zurueck"
    return browser, browser.get(f"{back.path}?{back.query}")


def test_a_citizen_signs_in_and_sees_the_requests_of_the_account(world):
    browser, answer = sign_in(world, "eva-7f3a")
    assert answer.status_code == 303 and answer.headers["location"] == "/buergerkonto"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = browser.get("/buergerkonto")
    assert page.status_code == 200
    assert "Guten Tag, Eva Musterfrau" in page.text
    assert world.eva_reference in page.text and "In Bearbeitung beim Standesamt" in page.text
    assert world.max_reference not in page.text  # another account's request
    detail = browser.get(f"/buergerkonto/anliegen/{world.eva_reference.lower()}")
    assert detail.status_code == 200 and world.eva_reference in detail.text
    other = browser.get(f"/buergerkonto/anliegen/{world.max_reference}")
    assert other.status_code == 404 and "Bürgerservice" in other.text


def test_a_letter_a_clerk_links_to_the_account_shows_among_its_requests(world):
    receipt = world.mailroom.intake.submit(submission(subject="Brief"), [], None)
    settle(world.mailroom)
    browser, _ = sign_in(world, "max-91c2")  # registers the account on first sign-in
    assert receipt.reference not in browser.get("/buergerkonto").text
    case = world.mailroom.app.find_case(world.mailroom.app.get_item(receipt.item_id).case_id)
    world.mailroom.services.casework.link_to_account(ADMIN, case.reference, "max-91c2")
    settle(world.mailroom)
    page = browser.get("/buergerkonto").text
    assert "Guten Tag, Max Muster" in page and receipt.reference in page


def test_a_citizen_session_has_no_staff_rights(world):
    browser, _ = sign_in(world, "eva-7f3a")
    for path in ("/arbeitskorb", "/triage", f"/faelle/{world.eva_reference}"):
        answer = browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/anmelden")
    assert browser.get("/api/v1/scans").status_code in (401, 405)


@pytest.mark.parametrize("misbehaviour", ["forged", "expired", "wrong_audience", "unsigned"])
def test_a_bad_id_token_shows_a_german_page_and_signs_nobody_in(world, misbehaviour):
    world.provider.misbehave = misbehaviour
    try:
        browser, answer = sign_in(world, "eva-7f3a")
    finally:
        world.provider.misbehave = None
    assert answer.status_code == 401 and CITIZEN_SIGN_IN_FAILED in answer.text
    page = browser.get("/buergerkonto")
    assert "Mit dem Bürgerkonto anmelden" in page.text and "Guten Tag" not in page.text


def test_a_callback_without_a_started_sign_in_is_refused(world):
    browser = TestClient(world.app, follow_redirects=False)  # type: ignore[arg-type]
    answer = browser.get("/buergerkonto/zurueck?code=abc&state=xyz")
    assert answer.status_code == 401 and CITIZEN_SIGN_IN_FAILED in answer.text


def test_staff_sign_in_ends_the_citizen_session_and_back(world):
    world.mailroom.services.staff.add(ADMIN, "erika", "Erika", ["clerk"], ["standesamt"], "p" * 16)
    browser, _ = sign_in(world, "eva-7f3a")
    token = CSRF.search(browser.get("/anmelden").text).group(1)
    signed = browser.post(
        "/anmelden", data={"login": "erika", "password": "p" * 16, "csrf_token": token}
    )
    assert signed.status_code == 303
    assert "Guten Tag" not in browser.get("/buergerkonto").text  # no citizen any more
    assert browser.get("/arbeitskorb").status_code == 200


def test_the_postfach_lists_delivered_documents_and_records_the_first_opening(world):
    document_id = deliver_to_postfach(
        world.mailroom, world.eva_reference, "eva-7f3a", "Bescheid Geburtsurkunde"
    )
    settle(world.mailroom)
    browser, _ = sign_in(world, "eva-7f3a")
    page = browser.get("/buergerkonto").text
    assert "Bescheid Geburtsurkunde" in page and "Neu" in page
    pdf = browser.get(f"/buergerkonto/postfach/{document_id}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    document = world.mailroom.app.find_document(document_id)
    assert document.read_at is not None and document.state == "read"
    version = document.version
    browser.get(f"/buergerkonto/postfach/{document_id}")  # again: no second receipt
    assert world.mailroom.app.find_document(document_id).version == version
    assert "gelesen am" in browser.get("/buergerkonto").text
    # Another citizen gets nothing of it, and nothing changes.
    other, _ = sign_in(world, "max-91c2")
    assert other.get(f"/buergerkonto/postfach/{document_id}").status_code == 404
    assert other.get("/buergerkonto/postfach/kein-dokument").status_code == 404
    assert world.mailroom.app.find_document(document_id).version == version


def test_the_citizen_agrees_to_digital_delivery(world):
    browser, _ = sign_in(world, "eva-7f3a")
    token = CSRF.search(browser.get("/buergerkonto").text).group(1)
    refused = browser.post(
        "/buergerkonto/zustellung", data={"csrf_token": token, "digital": "1", "email": "eva@"}
    )
    assert refused.status_code == 422 and "gültige E-Mail-Adresse" in refused.text
    assert world.mailroom.services.citizen.digital_delivery("eva-7f3a")[0] is False
    saved = browser.post(
        "/buergerkonto/zustellung",
        data={"csrf_token": token, "digital": "1", "email": "eva@example.org"},
    )
    assert saved.status_code == 303
    page = browser.get("/buergerkonto").text
    assert "kommen ab jetzt digital in Ihr Postfach" in page
    assert re.search(r'id="feld-digital"[^>]*checked', page)
    assert world.mailroom.services.citizen.digital_delivery("eva-7f3a") == (
        True,
        "eva@example.org",
    )
    browser.post("/buergerkonto/zustellung", data={"csrf_token": token, "email": ""})
    assert world.mailroom.services.citizen.digital_delivery("eva-7f3a")[0] is False


def test_signing_out_ends_the_citizen_session(world):
    browser, _ = sign_in(world, "eva-7f3a")
    token = CSRF.search(browser.get("/buergerkonto").text).group(1)
    answer = browser.post("/buergerkonto/abmelden", data={"csrf_token": token})
    assert answer.status_code == 303
    page = browser.get("/buergerkonto").text
    assert "Sie sind vom Bürgerkonto abgemeldet." in page and "Guten Tag" not in page
    assert browser.get(f"/buergerkonto/anliegen/{world.eva_reference}").status_code == 303


def test_a_signed_in_citizen_answers_from_the_buergerkonto(world):
    receipt = world.mailroom.intake.submit(
        submission(citizen_account_id="eva-7f3a", subject="Eheurkunde"), [], None
    )
    settle(world.mailroom)
    app = world.mailroom.app
    case = app.find_case(app.get_item(receipt.item_id).case_id)
    world.mailroom.services.casework.request_information(
        ADMIN, case.reference, "Bitte senden Sie die Heiratsurkunde.", date(2026, 3, 20)
    )
    settle(world.mailroom)
    browser, _ = sign_in(world, "eva-7f3a")
    overview = browser.get("/buergerkonto").text
    assert "Jetzt antworten" in overview and "Bitte antworten Sie bis" in overview
    page = browser.get(f"/buergerkonto/anliegen/{receipt.reference}")
    assert "Bitte senden Sie die Heiratsurkunde." in page.text
    assert 'name="access_code"' not in page.text  # the account is the proof
    token = CSRF.search(page.text).group(1)
    answer = browser.post(
        f"/buergerkonto/anliegen/{receipt.reference}/antwort",
        data={"csrf_token": token, "nachricht": "Liegt bei."},
        files=[("dateien", ("urkunde.pdf", text_pdf("Heiratsurkunde"), "application/pdf"))],
    )
    assert answer.status_code == 200 and "Vielen Dank!" in answer.text
    case = app.find_case(case.id)
    assert case.open_request_id is None
    item = app.get_item(case.item_ids[-1])
    assert item.citizen_account_id == "eva-7f3a" and item.submission.form_fields == {
        "nachricht": "Liegt bei."
    }
    detail = world.mailroom.services.workspace.case_page(ADMIN, case.reference)
    assert detail.detail.timeline[-1].actor_id == "citizen:eva-7f3a"
    # The answer is no request of its own in the Bürgerkonto: one entry per case.
    assert browser.get("/buergerkonto").text.count(receipt.reference) >= 1
    assert item.reference not in browser.get("/buergerkonto").text
