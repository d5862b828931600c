"""The citizen's status page and answer (issue 10, part 1) against a real embedded mailroom:
references as people type them, one answer for unknown reference and wrong code, the rate
limit shared with the API, and an answer that attaches to the case, resumes its deadline and
shows in the clerk's timeline — or is refused and changes nothing."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from aggregates.case import Case
from aggregates.station import ScanningStation, hash_token
from mailroom.api.app import create_app
from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.services.intake import AnswerRefusedError, Upload
from mailroom.services.status import StatusNotFoundError, TooManyAttemptsError
from mailroom.texts_de import CITIZEN_NOT_FOUND, CITIZEN_NOTE_TITLE
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.citizen import settle
from tests.fixtures.pdf_documents import text_pdf

ADMIN = system_principal("test")
CLIENT = "198.51.100.7"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Request:
    reference: str
    code: str
    case_reference: str


@pytest.fixture(scope="module")
def mailroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailroom]:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("buerger")) / "var",
        secret_key="test-secret-" + "b" * 40,
        status_failures_allowed=1000,
    )
    composed = build(settings, clock=FakeClock())
    composed.start()  # pages wait for their read models (read your own writes)
    yield composed
    composed.stop()


@pytest.fixture(scope="module")
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    with TestClient(create_app(mailroom), follow_redirects=False) as test_client:
        yield test_client


def new_request(mailroom: Mailroom, service: str = "geburtsurkunde", **fields) -> Request:
    receipt = mailroom.intake.submit(submission(service_key=service, **fields), [], uuid4().hex)
    settle(mailroom)
    case = mailroom.app.find_case(mailroom.app.get_item(receipt.item_id).case_id)
    return Request(receipt.reference, receipt.access_code, case.reference)


def ask_for_documents(mailroom: Mailroom, request: Request) -> None:
    mailroom.services.casework.request_information(
        ADMIN,
        request.case_reference,
        "Bitte senden Sie eine Kopie Ihres Ausweises.",
        date(2026, 3, 20),
    )
    settle(mailroom)


def everything_stored(mailroom: Mailroom) -> tuple[int, set[str]]:
    """The event store's last position and every blob: what "nothing changed" compares."""
    return mailroom.app.max_notification_id(), {b.key for b in mailroom.blobs.iter_blobs()}


def csrf(client: TestClient) -> str:
    found = CSRF.search(client.get("/status").text)
    assert found
    return found.group(1)


def main_part(html: str) -> str:
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found
    return re.sub(r'value="[^"]{20,}"', "", found.group(0))


# -- the status page ---------------------------------------------------------------------


def test_references_typed_with_spaces_lower_case_or_o_for_zero_are_found(mailroom):
    request = new_request(mailroom)
    compact = request.reference.replace("-", "")
    typed = [
        request.reference.lower(),
        " ".join(compact),
        request.reference.replace("0", "O").replace("-", " "),
        compact[3:],  # the city's prefix left out
        request.reference.replace("-", "\u2013"),
    ]
    citizen = mailroom.services.citizen
    code = request.code.lower().replace("-", " ")
    for text in typed:
        assert citizen.status_page(text, code, CLIENT).reference == request.reference, text


def test_the_page_says_where_it_stands_who_handles_it_and_when_it_will_be_done(mailroom):
    request = new_request(mailroom, service="kfz-zulassung-umschreibung-halterwechsel")
    status = mailroom.services.citizen.status_page(request.reference, request.code, CLIENT)
    assert status.stage == "in_progress"
    assert status.headline == "In Bearbeitung beim Straßenverkehrsamt"
    assert status.contact.phone == "02999 120-3600" and status.contact.street
    assert status.expected_by is not None and status.expected_by > date(2026, 3, 2)
    assert status.open_request is None and not status.may_answer


def test_unknown_reference_and_wrong_code_get_the_same_answer(mailroom, client):
    request = new_request(mailroom)
    citizen = mailroom.services.citizen
    unknown = "LIN-2026-0000-0000"
    for reference, code in ((unknown, request.code), (request.reference, "AAAA-BBBB-CCCC")):
        with pytest.raises(StatusNotFoundError):
            citizen.status_page(reference, code, CLIENT)
    token = csrf(client)
    pages = [
        client.post("/status", data={"csrf_token": token, "reference": ref, "access_code": code})
        for ref, code in ((unknown, request.code), (request.reference, "AAAA-BBBB-CCCC"))
    ]
    assert [p.status_code for p in pages] == [404, 404]
    assert main_part(pages[0].text).replace(unknown, "X") == main_part(pages[1].text).replace(
        request.reference, "X"
    )
    assert CITIZEN_NOT_FOUND in pages[0].text


def test_missing_fields_are_named_and_not_counted_as_a_failed_attempt(client):
    page = client.post("/status", data={"csrf_token": csrf(client), "reference": " "})
    assert page.status_code == 422
    assert "Bitte geben Sie das Aktenzeichen ein." in page.text
    assert "Bitte geben Sie den Zugangscode ein." in page.text


def test_a_lookup_needs_no_form_token_but_an_answer_does(mailroom, client):
    """The lookup changes nothing (a portal or a form elsewhere may post to it); the answer
    changes a case, so a forged one is refused."""
    request = new_request(mailroom)
    page = client.post(
        "/status", data={"reference": request.reference, "access_code": request.code}
    )
    assert page.status_code == 200 and request.reference in page.text
    answer = client.post(
        "/status/antwort",
        data={"reference": request.reference, "access_code": request.code, "nachricht": "x"},
    )
    assert answer.status_code == 403 and "Formular abgelaufen" in answer.text


def test_the_rate_limit_is_shared_with_the_api(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", secret_key="k" * 48, status_failures_allowed=3)
    mailroom = build(settings, clock=FakeClock())
    mailroom.start()
    try:
        request = new_request(mailroom)
        with TestClient(create_app(mailroom), follow_redirects=False) as client:
            api = f"/api/v1/status/{request.reference}"
            for _ in range(2):
                assert client.get(api, headers={"X-Access-Code": "WRONG"}).status_code == 404
            token = csrf(client)
            wrong = {"csrf_token": token, "reference": request.reference, "access_code": "X"}
            assert client.post("/status", data=wrong).status_code == 404
            right = {**wrong, "access_code": request.code}
            limited = client.post("/status", data=right)
            assert limited.status_code == 429 and "Zu viele Versuche" in limited.text
            assert int(limited.headers["retry-after"]) > 0
            assert client.get(api, headers={"X-Access-Code": request.code}).status_code == 429
            with pytest.raises(TooManyAttemptsError):
                mailroom.services.citizen.status_page(request.reference, request.code, "testclient")
    finally:
        mailroom.stop()


def test_a_letter_in_triage_and_a_misdirected_one_are_told_in_plain_words(mailroom):
    station = ScanningStation(
        name="S", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    letter = text_pdf(["Sehr geehrte Damen und Herren,\nbitte rufen Sie mich zurück."])
    receipt = mailroom.intake.scan(station, [Upload("brief.pdf", letter)], None)
    settle(mailroom)
    citizen = mailroom.services.citizen
    status = citizen.status_page(receipt.reference, receipt.access_code, CLIENT)
    assert status.stage == "triage" and status.headline == "Eingegangen – wird zugeordnet"
    assert status.contact == mailroom.catalog.city.contact and status.step == 0
    version = mailroom.app.get_item(receipt.item_id).version
    mailroom.services.triage.mark_misdirected(
        ADMIN, receipt.item_id, "Kreisverwaltung Lindenau-Land", "", version
    )
    settle(mailroom)
    status = citizen.status_page(receipt.reference, receipt.access_code, CLIENT)
    assert status.headline == "Nicht für uns bestimmt"
    assert "Kreisverwaltung Lindenau-Land" in status.explanation


def test_a_case_closed_with_a_decision_says_entschieden(mailroom):
    request = new_request(mailroom)
    mailroom.services.casework.close(ADMIN, request.case_reference, "granted")
    settle(mailroom)
    status = mailroom.services.citizen.status_page(request.reference, request.code, CLIENT)
    assert status.headline == "Entschieden" and "entschieden" in status.explanation
    assert status.expected_by is None and status.closed_at is not None and status.step == 2
    assert "Entschieden." in [step.text for step in status.timeline]


# -- answering an information request ---------------------------------------------------


def test_an_answer_attaches_to_the_case_resumes_the_deadline_and_shows_in_the_timeline(
    mailroom, client
):
    request = new_request(mailroom)
    ask_for_documents(mailroom, request)
    citizen = mailroom.services.citizen
    waiting = citizen.status_page(request.reference, request.code, CLIENT)
    assert waiting.stage == "waiting" and waiting.headline == "Wir brauchen Unterlagen von Ihnen"
    assert waiting.open_request.message == "Bitte senden Sie eine Kopie Ihres Ausweises."
    assert waiting.open_request.due_on == date(2026, 3, 20) and waiting.deadline_paused

    files = [Upload("ausweis.pdf", text_pdf("Personalausweis Eva Musterfrau"))]
    receipt = citizen.answer_request(
        request.reference.lower(), request.code, CLIENT, "Anbei mein Ausweis.", files
    )
    settle(mailroom)
    app = mailroom.app
    item = app.get_item(receipt.item_id)
    case = app.find_case(item.case_id)
    assert case.reference == request.case_reference and item.id in case.item_ids
    assert case.status == "open" and case.open_request_id is None  # the deadline runs again
    assert item.routing_method == "citizen-answer" and len(item.documents) == 1
    opened = [n for n in app.iter_notifications() if n.topic == get_topic(Case.Opened)]
    assert item.id not in {app.to_domain_event(n).first_item_id for n in opened}

    page = mailroom.services.workspace.case_page(ADMIN, request.case_reference)
    assert page.detail.case.paused_since is None
    kinds = [entry.kind for entry in page.detail.timeline]
    assert kinds[-3:] == ["item_attached", "note", "information_received"]
    assert str(item.id) in page.detail.item_ids
    after = citizen.status_page(request.reference, request.code, CLIENT)
    assert after.stage == "in_progress" and not after.may_answer
    texts = [step.text for step in after.timeline]
    assert "Ihre Antwort ist eingegangen. Die Bearbeitung geht weiter." in texts

    # The clerk's case page: the citizen's message, and the answer's document.
    clerk = TestClient(create_app(mailroom))
    mailroom.services.staff.add(ADMIN, "erika", "Erika", ["clerk"], ["standesamt"], "p" * 16)
    token = CSRF.search(clerk.get("/anmelden").text).group(1)
    clerk.post("/anmelden", data={"login": "erika", "password": "p" * 16, "csrf_token": token})
    case_page = clerk.get(f"/faelle/{request.case_reference}").text
    assert CITIZEN_NOTE_TITLE in case_page and "Anbei mein Ausweis." in case_page
    assert "ausweis.pdf" in case_page


def test_the_same_answer_sent_twice_is_one_item(mailroom):
    request = new_request(mailroom)
    ask_for_documents(mailroom, request)
    citizen = mailroom.services.citizen
    files = [Upload("scan.pdf", text_pdf("Unterlage"))]
    request_id = _request_id_of(mailroom, request)
    first = citizen.answer_request(request.reference, request.code, CLIENT, "Hier.", files)
    again = citizen.answer_request(
        request.reference, request.code, CLIENT, "Hier.", files, request_id=request_id
    )
    assert first.created and again.item_id == first.item_id and not again.created


def _request_id_of(mailroom: Mailroom, request: Request) -> str:
    page = mailroom.services.workspace.case_page(ADMIN, request.case_reference)
    return next(
        e.data["request_id"] for e in page.detail.timeline if e.kind == "information_requested"
    )


def test_an_answer_without_an_open_request_is_refused_and_stores_nothing(mailroom):
    request = new_request(mailroom)
    citizen = mailroom.services.citizen
    before = everything_stored(mailroom)
    files = [Upload("scan.pdf", text_pdf("Noch eine Unterlage"))]
    with pytest.raises(AnswerRefusedError) as refused:
        citizen.answer_request(request.reference, request.code, CLIENT, "Hallo", files)
    assert refused.value.code == "no_open_request"
    ask_for_documents(mailroom, request)
    request_id = _request_id_of(mailroom, request)
    citizen.answer_request(request.reference, request.code, CLIENT, "Erste Antwort", [])
    settle(mailroom)
    before = everything_stored(mailroom)
    with pytest.raises(AnswerRefusedError) as refused:  # that request is answered already
        citizen.answer_request(
            request.reference, request.code, CLIENT, "Zweite", files, request_id=request_id
        )
    assert refused.value.code == "no_open_request"
    assert everything_stored(mailroom) == before


def test_an_answer_to_a_closed_case_is_refused_with_a_german_message(mailroom, client):
    request = new_request(mailroom)
    ask_for_documents(mailroom, request)
    token = csrf(client)
    shown = client.post(
        "/status",
        data={"csrf_token": token, "reference": request.reference, "access_code": request.code},
    )
    request_id = re.search(r'name="anfrage" value="([^"]+)"', shown.text).group(1)
    mailroom.services.casework.close(ADMIN, request.case_reference, "withdrawn")
    settle(mailroom)
    before = everything_stored(mailroom)
    answer = client.post(
        "/status/antwort",
        data={
            "csrf_token": token,
            "reference": request.reference,
            "access_code": request.code,
            "anfrage": request_id,
            "nachricht": "Zu spät?",
        },
        files=[("dateien", ("spaet.pdf", text_pdf("Zu spät"), "application/pdf"))],
    )
    assert answer.status_code == 409
    assert "Ihr Anliegen ist bereits abgeschlossen" in answer.text
    assert "Zurückgezogen" in answer.text  # the page shows where it stands now
    assert everything_stored(mailroom) == before


def test_an_upload_that_fails_the_content_checks_is_refused_and_stores_nothing(mailroom, client):
    request = new_request(mailroom)
    ask_for_documents(mailroom, request)
    token = csrf(client)
    archive = BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ausweis.pdf", text_pdf("Ausweis"))
    before = everything_stored(mailroom)
    answer = client.post(
        "/status/antwort",
        data={
            "csrf_token": token,
            "reference": request.reference,
            "access_code": request.code,
            "nachricht": "Mein Ausweis als ZIP",
        },
        files=[
            ("dateien", ("gut.pdf", text_pdf("Seite"), "application/pdf")),
            ("dateien", ("ausweis.pdf", archive.getvalue(), "application/pdf")),
        ],
    )
    assert answer.status_code == 422
    assert "„ausweis.pdf“: ZIP-Archive gehen leider nicht" in answer.text
    assert "Es wurde nichts gespeichert" in answer.text
    assert "Mein Ausweis als ZIP" in answer.text  # what was typed is kept
    assert everything_stored(mailroom) == before
    status = mailroom.services.citizen.status_page(request.reference, request.code, CLIENT)
    assert status.stage == "waiting"


def test_an_empty_answer_is_refused(mailroom, client):
    request = new_request(mailroom)
    ask_for_documents(mailroom, request)
    answer = client.post(
        "/status/antwort",
        data={
            "csrf_token": csrf(client),
            "reference": request.reference,
            "access_code": request.code,
            "nachricht": "   ",
        },
        files=[("dateien", ("", b"", "application/octet-stream"))],  # no file chosen
    )
    assert answer.status_code == 422 and "Bitte schreiben Sie eine Nachricht" in answer.text


def test_the_answer_form_answers_with_the_status_page(mailroom, client):
    request = new_request(mailroom)
    ask_for_documents(mailroom, request)
    answer = client.post(
        "/status/antwort",
        data={
            "csrf_token": csrf(client),
            "reference": request.reference,
            "access_code": request.code,
            "nachricht": "Ich rufe morgen an.",
        },
    )
    assert answer.status_code == 200
    assert "Vielen Dank! Ihre Antwort ist bei uns eingegangen." in answer.text
    assert "In Bearbeitung beim Standesamt" in answer.text
    assert 'name="anfrage"' not in answer.text  # nothing is asked any more


def test_a_link_from_a_letter_or_an_e_mail_fills_in_the_reference_never_the_code(client):
    page = client.get("/status", params={"aktenzeichen": "LIN-2026-7K3F-92QD"})
    assert page.status_code == 200
    assert 'value="LIN-2026-7K3F-92QD"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script" not in page.text.lower()  # the citizen pages need no JavaScript
