"""Outgoing letters through the services and the delivery consumer (embedded mode): drafted
and approved by clerks (a second person where the template asks for it), rendered, delivered
to the Postfach or queued for print, print batches, read receipts, returns, the fallback of
unread Postfach documents to print, and the Eingangsbestätigung of new cases."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from pypdf import PdfReader

from aggregates.outgoing_document import DocumentState, OutgoingDocument
from aggregates.station import ScanningStation, hash_token
from aggregates.values import Applicant
from mailroom.auth.principal import Principal, Role, system_principal
from mailroom.bootstrap import Mailroom
from mailroom.services import ForbiddenError, NotFoundError, ServiceError
from mailroom.services.intake import Upload
from mailroom.services.letters import MissingLetterFieldsError
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.pdf_documents import text_pdf

ERIKA = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
JONAS = Principal(
    "staff:jonas", "jonas", "Jonas Lind", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
OLAF = Principal("staff:olaf", "olaf", "Olaf Berg", frozenset({Role.CLERK}), frozenset({"abfall"}))
POST = Principal("staff:paul", "paul", "Paul", frozenset({Role.MAILROOM}), frozenset())
ADDRESS = "Lindenallee 1, 59999 Lindenau"
BESCHEID = {
    "decision": "Die beantragte Geburtsurkunde wird ausgestellt.",
    "reasoning": "Die Voraussetzungen nach § 62 PStG liegen vor.",
}


def portal_case(mailroom: Mailroom, account: str | None = None) -> str:
    applicant = Applicant(name="Eva Musterfrau", email="eva@example.org", address=ADDRESS)
    receipt = mailroom.intake.submit(
        submission(applicant=applicant, citizen_account_id=account), [], uuid4().hex
    )
    mailroom.runner.run_until_idle()
    case_id = mailroom.app.get_item(receipt.item_id).case_id
    case = mailroom.app.find_case(case_id)
    assert case is not None
    return case.reference


def document(mailroom: Mailroom, document_id: UUID) -> OutgoingDocument:
    found = mailroom.app.find_document(document_id)
    assert found is not None
    return found


def approved_bescheid(mailroom: Mailroom, reference: str) -> UUID:
    letters = mailroom.services.letters
    drafted = letters.draft(ERIKA, reference, "bescheid", BESCHEID)
    letters.approve(JONAS, drafted.id, drafted.version)
    mailroom.runner.run_until_idle()
    return drafted.id


def test_a_notice_needs_a_second_person_then_goes_by_post_without_a_bürgerkonto(mailroom):
    reference = portal_case(mailroom)
    letters = mailroom.services.letters
    drafted = letters.draft(ERIKA, reference, "bescheid", BESCHEID)
    preview = letters.preview(ERIKA, drafted.id)
    assert preview.startswith(b"%PDF")
    with pytest.raises(ServiceError) as own:
        letters.approve(ERIKA, drafted.id, drafted.version)
    assert own.value.code == "invalid_state"
    assert document(mailroom, drafted.id).state is DocumentState.DRAFT
    letters.approve(JONAS, drafted.id, drafted.version)
    mailroom.runner.run_until_idle()
    letter = document(mailroom, drafted.id)
    assert letter.state is DocumentState.PRINT_QUEUED and letter.print_reason == "no_account"
    assert letter.pages >= 1 and letter.blob_key is not None
    rendered = mailroom.blobs.get(letter.blob_key)
    text = "".join(page.extract_text() for page in PdfReader_from(rendered).pages)
    assert "Eva Musterfrau" in text and "Lindenallee 1" in text and reference in text
    rows = letters.of_case(ERIKA, reference)
    assert [(r.template, r.state, r.channel) for r in rows] == [
        ("bescheid", "print_queued", "print")
    ]


def test_a_clerk_of_another_department_cannot_draft_or_see_the_letters(mailroom):
    reference = portal_case(mailroom)
    drafted = mailroom.services.letters.draft(ERIKA, reference, "bescheid", BESCHEID)
    with pytest.raises(NotFoundError):
        mailroom.services.letters.draft(OLAF, reference, "bescheid", BESCHEID)
    with pytest.raises(NotFoundError):
        mailroom.services.letters.approve(OLAF, drafted.id)
    with pytest.raises(NotFoundError):
        mailroom.services.letters.of_case(OLAF, reference)


def test_a_missing_field_is_named_and_nothing_is_stored(mailroom):
    reference = portal_case(mailroom)
    before = mailroom.app.max_notification_id()
    with pytest.raises(MissingLetterFieldsError) as missing:
        mailroom.services.letters.draft(ERIKA, reference, "bescheid", {"decision": "Ja."})
    assert "reasoning" in missing.value.fields
    assert mailroom.app.max_notification_id() == before


def test_print_batch_marks_each_letter_printed_and_returns_are_recorded(mailroom, tmp_path):
    first = approved_bescheid(mailroom, portal_case(mailroom))
    second = approved_bescheid(mailroom, portal_case(mailroom))
    letters = mailroom.services.letters
    with pytest.raises(ForbiddenError):
        letters.build_print_batch(ERIKA, tmp_path / "x.pdf")
    out = tmp_path / "stapel.pdf"
    result = letters.build_print_batch(POST, out)
    manifest = json.loads(out.with_suffix(".json").read_text())["letters"]
    assert result.letters == 2 and {m["letter_id"] for m in manifest} == {str(first), str(second)}
    pages = len(PdfReader(out).pages)
    assert pages == 2 * result.sheets  # duplex: every letter starts on a front side
    assert all(document(mailroom, d).state is DocumentState.BATCHED for d in (first, second))
    with pytest.raises(ServiceError) as empty:
        letters.build_print_batch(POST, tmp_path / "leer.pdf")
    assert empty.value.code == "print_queue_empty"
    letters.mark_batch_printed(POST, result.batch_id)
    assert all(document(mailroom, d).state is DocumentState.PRINTED for d in (first, second))
    for letter_id in (first, second):  # an event per letter
        topics = [e.topic for e in mailroom.app.recorder.select_events(letter_id)]
        assert topics[-1].endswith("OutgoingDocument.Printed")
    letters.record_returned(POST, first, "moved", "Empfänger verzogen")
    assert document(mailroom, first).state is DocumentState.RETURNED
    with pytest.raises(ServiceError):
        letters.record_returned(POST, second, "no-such-reason")


def test_postfach_delivery_read_receipt_once_and_fallback_to_print(mailroom, settings):
    account = "sub-eva-123"
    mailroom.services.letters.set_digital_delivery(account, True, "eva@example.org")
    reference = portal_case(mailroom, account=account)
    rows = mailroom.read_models.outgoing.postfach(account)
    assert [r.template for r in rows] == ["eingangsbestaetigung"]  # the acknowledgement
    acknowledgement = UUID(rows[0].id)
    letters = mailroom.services.letters
    with pytest.raises(NotFoundError):
        letters.open_in_postfach("someone-else", acknowledgement)
    assert letters.open_in_postfach(account, acknowledgement).startswith(b"%PDF")
    version = document(mailroom, acknowledgement).version
    letters.open_in_postfach(account, acknowledgement)
    assert document(mailroom, acknowledgement).version == version  # one receipt only
    assert document(mailroom, acknowledgement).state is DocumentState.READ

    notice = approved_bescheid(mailroom, reference)
    assert document(mailroom, notice).state is DocumentState.IN_INBOX
    assert letters.fall_back_unread() == 0
    clock = mailroom.services.letters.clock
    assert isinstance(clock, FakeClock)
    clock.now += timedelta(days=30)
    assert letters.fall_back_unread() == 1
    letter = document(mailroom, notice)
    assert letter.state is DocumentState.PRINT_QUEUED and letter.print_reason == "inbox_unread"


def test_a_scanned_letter_with_a_sender_address_gets_an_acknowledgement_by_post(mailroom):
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    text = (
        "Eva Musterfrau\nLindenallee 1\n59999 Lindenau\n\nStadt Lindenau\nStandesamt\n\n"
        "Antrag auf eine Geburtsurkunde\n\nSehr geehrte Damen und Herren,\n"
        "bitte senden Sie mir eine Geburtsurkunde meiner Tochter zu. Die Geburt wurde im "
        "Standesamt Lindenau beurkundet.\nMit freundlichen Grüßen\nEva Musterfrau\n"
    )
    receipt = mailroom.intake.scan(station, [Upload("brief.pdf", text_pdf([text]))], None)
    for _ in range(3):
        mailroom.runner.run_until_idle()
    item = mailroom.app.get_item(receipt.item_id)
    assert item.case_id is not None, item.status
    case = mailroom.app.find_case(item.case_id)
    rows = mailroom.services.letters.of_case(system_principal("t"), case.reference)
    assert [(r.template, r.state, r.print_reason) for r in rows] == [
        ("eingangsbestaetigung", "print_queued", "no_account")
    ]
    assert rows[0].recipient_address.splitlines() == ["Lindenallee 1", "59999 Lindenau"]


def PdfReader_from(data: bytes) -> PdfReader:
    import io

    return PdfReader(io.BytesIO(data))


def test_an_information_request_sends_the_anforderung_with_due_date_and_access_code(mailroom):
    from datetime import date

    from aggregates.access_code import derive_access_code

    reference = portal_case(mailroom)
    mailroom.services.casework.request_information(
        ERIKA, reference, "Kopie Ihres Personalausweises", date(2026, 3, 20)
    )
    mailroom.runner.run_until_idle()
    rows = mailroom.services.letters.of_case(ERIKA, reference)
    assert [(r.template, r.state) for r in rows] == [("anforderung_unterlagen", "print_queued")]
    letter = document(mailroom, UUID(rows[0].id))
    case = mailroom.services.casework.find_visible(ERIKA, reference)
    assert letter.data["requested"] == "Kopie Ihres Personalausweises"
    assert letter.data["due_date"] == "20.03.2026"
    assert letter.data["access_code"] == derive_access_code(
        mailroom.settings.secret(), case.first_item_id
    )
    assert letter.data["info"]["clerk"] == "Standesamt"  # no local account named erika
    mailroom.runner.run_until_idle()
    assert len(mailroom.services.letters.of_case(ERIKA, reference)) == 1  # once


def test_mail_that_opens_no_case_gets_no_acknowledgement(mailroom):
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    advert = (
        "Möbelhaus Sonnenschein\nGewerbestraße 9\n59999 Lindenau\n\n"
        "Nur diese Woche: 30 % Rabatt auf alle Sofas! Gratis-Lieferung, Gewinnspiel,"
        " Sonderangebot, jetzt zugreifen. Werbung\n"
    )
    receipt = mailroom.intake.scan(station, [Upload("werbung.pdf", text_pdf([advert]))], None)
    for _ in range(3):
        mailroom.runner.run_until_idle()
    item = mailroom.app.get_item(receipt.item_id)
    assert item.case_id is None
    from sqlalchemy import text

    with mailroom.views.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outgoing_documents")).scalar_one() == 0


def test_a_letter_that_cannot_be_rendered_is_recorded_as_failed_and_nothing_is_sent(
    mailroom, monkeypatch
):
    from letters import LetterError

    reference = portal_case(mailroom)
    letters = mailroom.services.letters
    drafted = letters.draft(ERIKA, reference, "bescheid", BESCHEID)
    attempts = []

    def broken(*args, **kwargs):
        attempts.append(1)
        raise LetterError("font missing")

    monkeypatch.setattr(letters.library, "render", broken)
    letters.approve(JONAS, drafted.id, drafted.version)
    for _ in range(5):
        mailroom.runner.run_until_idle()
    letter = document(mailroom, drafted.id)
    assert len(attempts) == mailroom.retry_policy.max_attempts  # retried, then given up
    assert letter.state is DocumentState.FAILED and letter.blob_key is None
    assert [r.state for r in letters.of_case(ERIKA, reference)] == ["failed"]
