"""Application tests on SQLite: intake -> runner -> consumers -> status view."""

from uuid import uuid4

import pytest

from aggregates.mail_item import ItemStatus
from aggregates.station import ScanningStation, hash_token
from mailroom.bootstrap import Mailroom, build
from mailroom.runner import EmbeddedRunner
from mailroom.services.intake import IdempotencyConflictError, Upload
from mailroom.services.status import StatusNotFoundError
from routing.catalog import UnknownServiceError
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.documents import image_pdf, png_page, text_pdf


def register_station(mailroom: Mailroom) -> ScanningStation:
    station = ScanningStation(
        name="Poststelle", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    return station


def test_a_portal_submission_is_routed_by_its_service_and_opens_a_case(mailroom):
    """GIVEN a portal submission for a birth certificate
    WHEN the runner has processed the log
    THEN the item is routed to the Standesamt, a case is open, and the status view says so."""
    receipt = mailroom.intake.submit(submission(), [], idempotency_key="k-1")
    mailroom.runner.run_until_idle()

    item = mailroom.app.get_item(receipt.item_id)
    assert item.status is ItemStatus.ROUTED and item.department_id == "standesamt"
    case = mailroom.app.find_case(item.case_id)
    assert case is not None and case.reference == receipt.reference
    record = mailroom.status.lookup(receipt.reference, receipt.access_code, "client")
    assert record.department_id == "standesamt"
    assert record.status == "in_progress"
    assert [e.status for e in record.timeline] == ["received", "routed", "in_progress"]


def test_a_born_digital_pdf_has_its_text_layer_recorded(mailroom):
    pdf = text_pdf("Sehr geehrte Damen und Herren, ich beantrage eine Geburtsurkunde.")
    receipt = mailroom.intake.submit(submission(), [Upload("antrag.pdf", pdf)], "k-2")
    mailroom.runner.run_until_idle()

    item = mailroom.app.get_item(receipt.item_id)
    (pages,) = item.texts.values()
    assert pages[0].method == "text-layer"
    assert "Geburtsurkunde" in pages[0].text


def test_an_image_only_scan_is_read_by_ocr_and_gets_a_searchable_pdf(mailroom):
    station = register_station(mailroom)
    original = image_pdf()
    receipt = mailroom.intake.scan(station, [Upload("brief.pdf", original)], None)
    mailroom.runner.run_until_idle()

    item = mailroom.app.get_item(receipt.item_id)
    (document,) = item.documents
    pages = item.texts[document.blob_key]
    assert pages[0].method == "ocr"
    assert pages[0].confidence > 0
    searchable = mailroom.blobs.get(item.searchable_pdfs[document.blob_key])
    assert searchable.startswith(b"%PDF-") and searchable != original
    assert mailroom.blobs.get(document.blob_key) == original  # the original is never changed
    assert item.status is not ItemStatus.RECEIVED  # routed or in triage, never left waiting


def test_a_retried_submission_is_the_same_item(mailroom):
    first = mailroom.intake.submit(submission(), [Upload("a.png", png_page())], "same-key")
    again = mailroom.intake.submit(submission(), [Upload("a.png", png_page())], "same-key")
    assert (again.reference, again.access_code, again.created) == (
        first.reference,
        first.access_code,
        False,
    )
    assert mailroom.app.max_notification_id() == 2  # one Received + one reference index


def test_reusing_an_idempotency_key_for_another_request_is_refused(mailroom):
    mailroom.intake.submit(submission(), [], "key")
    with pytest.raises(IdempotencyConflictError):
        mailroom.intake.submit(submission(subject="Etwas anderes"), [], "key")


def test_an_unknown_service_stores_nothing(mailroom):
    with pytest.raises(UnknownServiceError):
        mailroom.intake.submit(submission(service_key="nope"), [Upload("a.png", png_page())], None)
    assert mailroom.app.max_notification_id() == 0
    assert not any((mailroom.settings.data_dir / "blobs").rglob("*"))


def test_a_wrong_access_code_looks_like_an_unknown_reference(mailroom):
    receipt = mailroom.intake.submit(submission(), [], None)
    with pytest.raises(StatusNotFoundError):
        mailroom.status.lookup(receipt.reference, "AAAA-BBBB-CCCC", "c")
    with pytest.raises(StatusNotFoundError):
        mailroom.status.lookup("LIN-2026-0000-0000", receipt.access_code, "c")


def test_a_restart_in_the_middle_neither_loses_nor_repeats_an_effect(settings):
    """GIVEN items accepted while no runner was running, and a runner stopped halfway
    WHEN a new process starts its runner
    THEN every item is routed exactly once and the view shows each once."""
    first = build(settings, clock=FakeClock())
    receipts = [first.intake.submit(submission(), [], f"k{i}") for i in range(6)]
    # Only the first consumer gets through, as if the process died after it.
    EmbeddedRunner(first.app, first.consumers[:1], first.health).run_until_idle()
    first.stop()

    second = build(settings, clock=FakeClock())
    second.runner.run_until_idle()
    second.runner.run_until_idle()  # a second pass finds nothing left to do
    for receipt in receipts:
        item = second.app.get_item(receipt.item_id)
        assert item.status is ItemStatus.ROUTED
        routed = [e for e in second.app.events.get(item.id) if type(e).__name__ == "Routed"]
        assert len(routed) == 1
        record = second.status.lookup(receipt.reference, receipt.access_code, "c")
        assert [e.status for e in record.timeline].count("routed") == 1
    second.stop()


def test_a_redelivered_event_has_no_second_effect(mailroom):
    from eventsourcing.persistence import Tracking

    receipt = mailroom.intake.submit(submission(), [], None)
    mailroom.runner.run_until_idle()
    notification = mailroom.app.notifications_after(0, 1)[0]
    event = mailroom.app.to_domain_event(notification)
    for consumer in mailroom.consumers:
        assert consumer.process(event, Tracking("log", notification.id)) is False
    record = mailroom.status.lookup(receipt.reference, receipt.access_code, "c")
    assert [e.status for e in record.timeline].count("received") == 1


def test_the_status_view_can_be_rebuilt_from_zero_by_the_cli(settings, monkeypatch):
    from typer.testing import CliRunner

    from mailroom.cli import app

    first = build(settings, clock=FakeClock())
    receipts = [first.intake.submit(submission(), [], f"r{i}") for i in range(3)]
    first.runner.run_until_idle()
    before = [first.status.lookup(r.reference, r.access_code, "c") for r in receipts]
    first.stop()

    monkeypatch.setenv("MAILROOM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", settings.secret_key.get_secret_value())
    result = CliRunner().invoke(app, ["projections", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "status: 9 events applied" in result.output
    assert "case-directory: 3 events applied" in result.output

    again = build(settings, clock=FakeClock())
    after = [again.status.lookup(r.reference, r.access_code, "c") for r in receipts]
    assert [(b.status, b.department_id, len(b.timeline)) for b in before] == [
        (a.status, a.department_id, len(a.timeline)) for a in after
    ]
    again.stop()


def test_an_event_published_twice_at_a_later_position_changes_nothing(mailroom):
    """The relay may publish an event again after a crash; it then arrives at a new
    offset, so the position alone cannot recognise it — the consumers must."""
    from eventsourcing.persistence import Tracking

    receipt = mailroom.intake.submit(submission(), [], None)
    mailroom.runner.run_until_idle()
    head = mailroom.app.max_notification_id()
    for offset, notification in enumerate(mailroom.app.notifications_after(0, 100), start=1):
        event = mailroom.app.to_domain_event(notification)
        for consumer in mailroom.consumers:
            if notification.topic in consumer.topics:
                consumer.process(event, Tracking("replayed", offset))
    assert mailroom.app.max_notification_id() == head  # no new events, no second case
    record = mailroom.status.lookup(receipt.reference, receipt.access_code, "c")
    assert [e.status for e in record.timeline] == ["received", "routed", "in_progress"]
