"""The public event contract on Kafka: CloudEvents (binary mode) whose data is plain JSON,
valid against the JSON Schema published for its type under docs/events/, and free of secrets."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from jsonschema import Draft202012Validator, FormatChecker

import aggregates
from aggregates.station import ScanningStation, hash_token
from aggregates.values import Applicant
from mailroom.adapters.cloudevents import (
    EventContract,
    EventReference,
    city_slug,
    from_kafka_record,
    kafka_topic_for,
)
from mailroom.adapters.event_schemas import all_schemas, render, stale
from mailroom.adapters.public_events import PRIVATE_EVENTS, by_topic, public_data
from mailroom.auth.principal import Principal, Role, system_principal
from mailroom.bootstrap import Mailroom
from mailroom.relay import RELAY, OutboxRelay
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.documents import image_pdf
from tests.fixtures.pdf_documents import text_pdf

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"
TYPE = re.compile(r"^de\.lindenau\.mailroom\.[a-z0-9-]+\.[a-z0-9-]+\.v[0-9]+$")
SECRET_KEY = re.compile(r"hash|secret|token|password|access_code", re.I)
ERIKA = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
JONAS = Principal(
    "staff:jonas", "jonas", "Jonas Lind", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
BESCHEID = {
    "decision": "Die beantragte Geburtsurkunde wird ausgestellt.",
    "reasoning": "Die Voraussetzungen nach § 62 PStG liegen vor.",
}
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _timestamp_with_offset(value: object) -> bool:
    """RFC 3339 needs an offset; a naive ISO timestamp is not one."""
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def event_classes_in_aggregates() -> set[str]:
    """Every stored event class, found independently of the registry under test."""
    topics = set()
    for info in pkgutil.iter_modules(aggregates.__path__):
        module = importlib.import_module(f"aggregates.{info.name}")
        for aggregate in vars(module).values():
            if not (isinstance(aggregate, type) and issubclass(aggregate, Aggregate)):
                continue
            if aggregate is Aggregate or aggregate.__module__ != module.__name__:
                continue
            for name, cls in vars(aggregate).items():
                own = isinstance(cls, type) and issubclass(cls, Aggregate.Event)
                if own and name not in ("Event", "Created"):
                    topics.add(get_topic(cls))
    return topics


def secret_keys(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        found = [f"{path}.{k}" for k in value if SECRET_KEY.search(str(k))]
        return found + [p for k, v in value.items() for p in secret_keys(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for v in value for p in secret_keys(v, f"{path}[]")]
    return []


def schema_of(name: str) -> dict[str, Any]:
    return json.loads((DOCS / f"{name}.json").read_text("utf-8"))


# -- the published schemas -------------------------------------------------------------------


def test_every_event_class_in_aggregates_is_public_or_private_and_has_a_schema_file():
    public = set(by_topic())
    assert event_classes_in_aggregates() == public | PRIVATE_EVENTS
    assert not public & PRIVATE_EVENTS
    for event in by_topic().values():
        assert (DOCS / f"{event.name}.json").is_file(), f"no schema for {event.name}"


def test_the_committed_schemas_are_the_generated_ones():
    """Regenerate with ``python -m mailroom.adapters.event_schemas --write docs/events``."""
    assert stale(DOCS) == []
    for name, schema in all_schemas().items():
        assert (DOCS / name).read_text("utf-8") == render(schema)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"/events/{name}"


def test_no_schema_has_a_property_named_like_a_secret():
    for name, schema in all_schemas().items():
        assert secret_keys(schema.get("properties", {})) == [], name


def test_the_city_slug_comes_from_the_official_name():
    assert city_slug("Stadt Lindenau") == "lindenau"
    assert city_slug("Gemeinde Groß Öhringen") == "gross-oehringen"
    assert city_slug("Landeshauptstadt Düsseldorf") == "duesseldorf"


# -- a realistic flow, as the outside sees it ----------------------------------------------------


def realistic_flow(mailroom: Mailroom) -> dict[str, str]:
    """A portal request with a notice, a scanned letter read by OCR, a triage decision,
    stations, portal clients and staff. Returns the secrets the flow created."""
    from tests.fixtures.builders import portal_client_key

    secrets = {"client key": portal_client_key(mailroom)}
    token = uuid4().hex
    station = ScanningStation(
        name="Poststelle", token_hash=hash_token(token), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    secrets["station token hash"] = station.token_hash
    mailroom.services.staff.add(
        system_principal("test"), "erika", "Erika", ["clerk"], ["standesamt"], "geheim" * 4
    )
    account = "sub-eva-123"
    mailroom.services.letters.set_digital_delivery(account, True, "eva@example.org")
    applicant = Applicant(name="Eva Musterfrau", email="eva@example.org", address="Markt 2")
    receipt = mailroom.intake.submit(
        submission(applicant=applicant, citizen_account_id=account), [], "k-contract"
    )
    secrets["access code"] = receipt.access_code
    letter = (
        "Eva Musterfrau\nLindenallee 1\n59999 Lindenau\n\nStadt Lindenau\nStandesamt\n\n"
        "Antrag auf eine Geburtsurkunde\n\nbitte senden Sie mir eine Geburtsurkunde zu.\n"
    )
    mailroom.intake.scan(station, [Upload("brief.pdf", text_pdf([letter]))], None)
    mailroom.intake.scan(station, [Upload("scan.pdf", image_pdf())], None)
    for _ in range(3):
        mailroom.runner.run_until_idle()
    item = mailroom.app.get_item(receipt.item_id)
    secrets["access code hash"] = item.access_code_hash
    case = mailroom.app.find_case(item.case_id)
    assert case is not None
    mailroom.services.casework.take(ERIKA, case.reference)
    mailroom.services.casework.add_note(ERIKA, case.reference, "Unterlagen vollständig.")
    drafted = mailroom.services.letters.draft(ERIKA, case.reference, "bescheid", BESCHEID)
    mailroom.services.letters.approve(JONAS, drafted.id, drafted.version)
    mailroom.runner.run_until_idle()
    mailroom.services.casework.close(ERIKA, case.reference, "granted")
    mailroom.runner.run_until_idle()
    return secrets


def test_every_event_of_a_realistic_flow_is_a_valid_public_cloudevent_without_secrets(mailroom):
    secrets = realistic_flow(mailroom)
    contract = EventContract(mailroom.catalog.city.name, "/mailroom")
    seen = set()
    for notification in mailroom.app.iter_notifications():
        if contract.public_event(notification.topic) is None:
            assert notification.topic in PRIVATE_EVENTS
            continue
        event = mailroom.app.to_domain_event(notification)
        cloudevent = contract.to_cloudevent(notification, event)
        name = by_topic()[notification.topic].name
        seen.add(name)
        assert TYPE.match(cloudevent.get_type()) and cloudevent.get_type().endswith(name)
        assert cloudevent.get_subject() == str(notification.originator_id)
        assert cloudevent.get_time().utcoffset() is not None
        assert cloudevent.get_datacontenttype() == "application/json"
        schema = schema_of(name)
        assert cloudevent.get_dataschema() == schema["$id"]
        data = cloudevent.get_data()
        Draft202012Validator(schema, format_checker=FORMATS).validate(data)
        assert secret_keys(data) == [], name
        message = contract.to_kafka_message(notification, event)
        wire = message.value + b"".join(message.headers.values())
        assert b"_type_" not in wire and b"originator_topic" not in wire
        for what, secret in secrets.items():
            assert secret.encode() not in wire, f"{what} in {name}"
    assert {
        "item.received.v1",
        "item.text-extracted.v2",
        "item.routed.v1",
        "item.attached-to-case.v1",
        "case.opened.v2",
        "case.assigned.v1",
        "case.closed.v2",
        "letter.drafted.v1",
        "letter.approved.v1",
        "letter.rendered.v1",
        "station.registered.v2",
        "staff.registered.v1",
    } <= seen


def test_the_public_data_of_a_received_item_is_plain_json(mailroom):
    receipt = mailroom.intake.submit(submission(), [], "k-plain")
    (received,) = [
        e for e in mailroom.app.recorder.select_events(receipt.item_id) if "Received" in e.topic
    ]
    data = public_data(mailroom.app.mapper.to_domain_event(received))
    assert data["reference"] == receipt.reference
    assert datetime.fromisoformat(data["received_at"]).utcoffset() is not None
    assert data["submission"]["applicant"]["name"] == "Eva Musterfrau"
    assert data["station_id"] is None
    assert "access_code_hash" not in data and "request_fingerprint" not in data


# -- over the real broker --------------------------------------------------------------------


def test_a_relayed_event_read_back_with_the_sdk_has_the_contract_attributes(
    mailroom, settings, kafka_bootstrap
):
    """GIVEN an item received in the event store WHEN the relay publishes it to the broker
    THEN a consumer using the CloudEvents SDK's Kafka binding reads the attributes, the key
    is the aggregate id, and the worker's reference names the stored event."""
    from kafka import KafkaConsumer

    from mailroom.adapters.kafka_bus import ensure_topics, make_producer

    prefix = f"contract-{uuid4().hex[:8]}"
    bus = settings.model_copy(update={"bus": f"kafka://{kafka_bootstrap}", "kafka_partitions": 1})
    receipt = mailroom.intake.submit(submission(), [], "k-kafka")
    contract = EventContract(mailroom.catalog.city.name, "/mailroom")
    relay = OutboxRelay(
        mailroom.app,
        lambda: make_producer(bus),
        prefix,
        contract,
        ensure_topic=lambda topic: ensure_topics(bus, [topic]),
    )
    assert relay.publish_batch() > 0
    assert mailroom.app.position(RELAY) == mailroom.app.max_notification_id()
    relay.producer.close(timeout=10)

    topic = kafka_topic_for(get_topic(type(mailroom.app.get_item(receipt.item_id))), prefix)
    consumer = KafkaConsumer(
        topic, bootstrap_servers=[kafka_bootstrap], auto_offset_reset="earliest"
    )
    try:
        records: list[Any] = []
        deadline = time.monotonic() + 30
        while not records and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    (record,) = records
    event = from_kafka_record(record.headers, record.key, record.value)
    item_id = str(receipt.item_id)
    assert record.key == item_id.encode()
    assert event.get_specversion() == "1.0"
    assert event.get_type() == "de.lindenau.mailroom.item.received.v1"
    assert event.get_source() == "/mailroom"
    assert event.get_subject() == item_id and event.get_id() == f"{item_id}/1"
    assert event.get_dataschema() == "/events/item.received.v1.json"
    assert event.get_datacontenttype() == "application/json"
    assert event.get_time().utcoffset() is not None
    assert event.get_extension("esversion") == "1"
    assert int(event.get_extension("esnotification")) >= 1
    assert event.get_extension("partitionkey") == item_id
    assert event.get_data()["reference"] == receipt.reference
    Draft202012Validator(schema_of("item.received.v1"), format_checker=FORMATS).validate(
        event.get_data()
    )
    reference = EventReference.from_headers(record.headers)
    assert reference is not None
    assert (reference.public_name, str(reference.originator_id), reference.version) == (
        "item.received.v1",
        item_id,
        1,
    )


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("ce_specversion", b"0.3")],
        [("ce_specversion", b"1.0"), ("ce_type", b"x"), ("ce_subject", b"not-a-uuid")],
    ],
)
def test_a_record_that_is_not_one_of_our_cloudevents_names_no_stored_event(headers):
    assert EventReference.from_headers(headers) is None


def test_a_record_in_the_format_before_the_contract_still_names_its_stored_event():
    """Records published before an upgrade (internal type, ``ce_estopic``) are not skipped."""
    item_id = uuid4()
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_type", b"de.mailroom.MailItem.Received"),
        ("ce_subject", str(item_id).encode()),
        ("ce_estopic", b"aggregates.mail_item:MailItem.Received"),
        ("ce_esversion", b"1"),
        ("ce_esnotification", b"7"),
    ]
    reference = EventReference.from_headers(headers)
    assert reference == EventReference("item.received.v1", item_id, 1, 7)
    assert reference.event_name == "item.received"


def test_the_kafka_worker_hands_its_consumer_the_stored_event_with_what_the_bus_lacks(mailroom):
    """GIVEN a record naming an item's Received event WHEN the worker loads it THEN the
    consumer gets the domain event from the event store, access-code hash included; an event
    the store does not hold is an error to retry, never a record to skip."""
    from aggregates.mail_item import MailItem
    from mailroom.kafka_runner import KafkaWorker, StoredEventNotFoundError

    receipt = mailroom.intake.submit(submission(), [], "k-worker")
    status = mailroom.consumer("status")
    worker = KafkaWorker(status, mailroom.app, kafka=None, topics=[], delivery=None)
    assert "item.received" in worker.event_names
    event = worker._event(EventReference("item.received.v1", receipt.item_id, 1, 1))
    assert isinstance(event, MailItem.Received)
    assert event.access_code_hash == mailroom.app.get_item(receipt.item_id).access_code_hash
    with pytest.raises(StoredEventNotFoundError):
        worker._event(EventReference("item.received.v1", receipt.item_id, 9, 99))
