"""No poison message: a letter that cannot be read, or that breaks a consumer, goes to
triage with its reason and every letter behind it is still routed; a read model that
cannot apply an event stops visibly instead of skipping it."""

from __future__ import annotations

import io
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from aggregates.mail_item import ItemStatus
from aggregates.station import ScanningStation, hash_token
from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.services.intake import Receipt, Upload
from mailroom.texts_de import extraction_failure
from tests.fixtures import ocr_documents
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.documents import text_pdf
from tests.integration.stack import all_visible, wait_until

pytestmark = pytest.mark.slow

GOOD_LETTER = (
    "Erika Brandt\nLindenallee 4\n47137 Lindenau\n\nStadt Lindenau\n47131 Lindenau\n\n"
    "Sperrmüll-Termin {n}\n\nSehr geehrte Damen und Herren,\nich möchte einen Termin für die "
    "Abholung von Sperrmüll vereinbaren: ein alter Schrank und ein Sofa.\n\n"
    "Mit freundlichen Grüßen\nErika Brandt"
)


def station_of(mailroom: Mailroom) -> ScanningStation:
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    return station


def scan_with_good_letters_behind(
    mailroom: Mailroom, bad: dict[str, bytes]
) -> tuple[list[Receipt], list[Receipt]]:
    station = station_of(mailroom)
    bad_receipts, good_receipts = [], []
    for name, data in bad.items():
        bad_receipts.append(mailroom.intake.scan(station, [Upload(name, data)], None))
        for n in range(3):
            letter = text_pdf(GOOD_LETTER.format(n=f"{name} {n}"))
            good_receipts.append(mailroom.intake.scan(station, [Upload("brief.pdf", letter)], None))
    return bad_receipts, good_receipts


def break_engine_on(mailroom: Mailroom, poison: bytes, monkeypatch) -> list[int]:
    """Make the OCR engine fail on one file as the pypdfium2 5 crash did; returns the
    list that counts its attempts at that file."""
    engine = mailroom.ocr_engine.get()
    original, calls = engine.read, []

    def read(data, **options):
        payload = data.read() if hasattr(data, "read") else data
        if payload == poison:
            calls.append(1)
            raise AttributeError("'PdfImage' object has no attribute 'get_pos'")
        return original(io.BytesIO(payload), **options)

    monkeypatch.setattr(engine, "read", read)
    return calls


def test_unreadable_scans_go_to_triage_and_the_letters_behind_them_are_routed(stack):
    """The original failure: the speck PNG (and some noise PNGs) made Tesseract fail on
    every retry, and OCR and routing stopped for all later mail, across restarts."""
    mailroom = stack.mailroom
    bad, good = scan_with_good_letters_behind(
        mailroom,
        {
            "speck.png": ocr_documents.speck_png(),
            "noise.png": ocr_documents.noise_png(),
            "broken-page.pdf": ocr_documents.broken_page_pdf(),
        },
    )
    wait_until(lambda: all_visible(mailroom, good, "in_progress"), 240, "the good letters")
    wait_until(lambda: all_visible(mailroom, bad, "triage"), 240, "the bad ones in triage")
    for receipt in good:
        assert mailroom.app.get_item(receipt.item_id).department_id == "abfall"
    for receipt in bad:
        item = mailroom.app.get_item(receipt.item_id)
        assert item.status is ItemStatus.TRIAGE and item.triage_reason == "rescan", item.reference
        assert item.triage_detail, item.reference  # names what was wrong
    assert mailroom.health.problems() == []


def test_a_document_that_breaks_the_engine_is_recorded_as_failed_after_bounded_attempts(
    mailroom: Mailroom, monkeypatch
):
    """Whatever the cause (here an engine bug on one file), the letter goes to triage with
    "Text konnte nicht gelesen werden" after three attempts, and the next one is read."""
    poison = ocr_documents.speck_png()
    calls = break_engine_on(mailroom, poison, monkeypatch)
    bad, good = scan_with_good_letters_behind(mailroom, {"speck.png": poison})
    mailroom.runner.run_until_idle()
    assert len(calls) == mailroom.settings.consumer_max_attempts
    item = mailroom.app.get_item(bad[0].item_id)
    assert item.status is ItemStatus.TRIAGE
    (failure,) = item.extraction_failures.values()
    assert failure.code == "processing_failed" and "get_pos" in failure.detail
    assert item.triage_reason == "rescan" and item.triage_detail == "processing_failed"
    assert extraction_failure("processing_failed").startswith("Text konnte nicht gelesen werden")
    for receipt in good:
        assert mailroom.app.get_item(receipt.item_id).status is ItemStatus.ROUTED


def test_a_read_model_that_cannot_apply_an_event_stops_visibly(mailroom: Mailroom, monkeypatch):
    """GIVEN the status view fails on one item's event
    WHEN the runner has tried the allowed number of times
    THEN the view has not skipped it: it stops there, /readyz says "degraded" and names it
    (still 200: the API keeps taking mail), /metrics counts a stalled consumer; once the
    cause is gone it goes on by itself."""
    first = mailroom.intake.submit(submission(subject="Erster Antrag"), [], None)
    stuck = mailroom.intake.submit(submission(subject="Kaputter Antrag"), [], None)
    after = mailroom.intake.submit(submission(subject="Späterer Antrag"), [], None)
    projection = mailroom.status_projection
    original = projection.process
    broken = {stuck.item_id}

    def process(event, tracking):
        if event.originator_id in broken:
            raise ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return original(event, tracking)

    monkeypatch.setattr(projection, "process", process)
    mailroom.start()
    client = TestClient(create_app(mailroom))
    try:
        wait_until(lambda: client.get("/readyz").json()["status"] == "degraded", 30, "degraded")
        ready = client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        (problem,) = [c for c in body["consumers"] if c["consumer"] == "status"]
        assert problem["state"] == "stalled" and problem["attempts"] >= 3
        assert "NUL" not in client.get("/readyz").text  # no exception texts
        assert "mailroom_consumers_stalled 1.0" in client.get("/metrics").text
        assert projection.find(first.reference) is not None
        assert projection.find(after.reference) is None  # stopped, not skipped
        broken.clear()
        wait_until(lambda: projection.find(after.reference) is not None, 90, "going on")
        wait_until(lambda: client.get("/readyz").json()["status"] == "ready", 30, "ready again")
    finally:
        mailroom.stop()


def test_the_kafka_worker_gives_up_on_a_record_after_bounded_attempts_and_goes_on(
    tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint, monkeypatch
):
    """The same rule under the Kafka runner: the OCR worker (here in this process, its
    engine broken for one file) retries the record, records the failure, commits past it,
    and the letters behind it on every partition are read and routed."""
    import threading

    from mailroom.adapters.cloudevents import kafka_topic_for
    from mailroom.adapters.kafka_bus import ensure_topics, make_consumer
    from mailroom.bootstrap import build
    from mailroom.consumers.delivery import Delivery
    from mailroom.kafka_runner import KafkaWorker
    from tests.integration.stack import ProcessGroup, production_settings

    settings = production_settings(
        tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
    )
    mailroom = build(settings, clock=FakeClock())
    processes = ProcessGroup(settings, tmp_path)
    for name in ("router", "status"):
        processes.start(name, "worker", name)
    processes.start("relay", "relay")
    poison = ocr_documents.speck_png()
    calls = break_engine_on(mailroom, poison, monkeypatch)
    consumer = mailroom.consumer("ocr")
    topics = sorted({kafka_topic_for(t, settings.kafka_topic_prefix) for t in consumer.topics})
    ensure_topics(settings, topics)
    kafka = make_consumer(settings, f"{settings.kafka_group_prefix}.ocr", slow=True)
    delivery = Delivery(consumer, mailroom.retry_policy, mailroom.health)
    stop = threading.Event()
    worker = threading.Thread(
        target=KafkaWorker(consumer, mailroom.app, kafka, topics, delivery).run, args=(stop,)
    )
    worker.start()
    try:
        bad, good = scan_with_good_letters_behind(mailroom, {"speck.png": poison})
        wait_until(lambda: all_visible(mailroom, good, "in_progress"), 120, "the good letters")
        wait_until(lambda: all_visible(mailroom, bad, "triage"), 60, "the poison in triage")
        assert len(calls) == settings.consumer_max_attempts
        (failure,) = mailroom.app.get_item(bad[0].item_id).extraction_failures.values()
        assert failure.code == "processing_failed"
    finally:
        stop.set()
        worker.join(timeout=30)
        processes.stop_all()
        mailroom.stop()


def test_a_nul_in_an_event_stored_before_the_edge_was_clean_does_not_stop_postgresql_views(
    tmp_path, postgres_url, postgres_schema
):
    """Old installs hold events with NUL characters (accepted before text was checked at
    the edge); PostgreSQL text columns cannot hold NUL, so the views store the text without
    it instead of failing on every retry."""
    from dataclasses import replace

    from aggregates.values import Channel
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from routing.references import reference_key

    views = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    settings = Settings(
        data_dir=tmp_path / "var",
        secret_key="k" * 40,
        event_store=f"{postgres_url}?schema={postgres_schema}",
        views_db=f"{views}?options=-csearch_path%3D{postgres_schema}",
        consumer_retry_base_s=0.05,
        consumer_retry_max_s=1.0,
    )
    mailroom = build(settings, clock=FakeClock())
    try:
        intake = mailroom.intake
        unchecked = replace(submission(), subject="Antrag\u0000NUL")
        old = intake._receive(  # past the edge's check, as an older version stored it
            Channel.PORTAL, "old-install", [], [], "fingerprint", submission=unchecked
        )
        later = intake.submit(submission(subject="Späterer Antrag"), [], None)
        mailroom.runner.run_until_idle()
        record = mailroom.status_projection.find(old.reference)
        assert record is not None and record.subject == "AntragNUL"
        assert record.status == "in_progress"
        assert mailroom.status_projection.find(later.reference).status == "in_progress"
        case = mailroom.case_directory.by_reference(reference_key(old.reference))
        assert case is not None and "\x00" not in case.subject
    finally:
        mailroom.stop()
