"""Domain events as CloudEvents 1.0 in the Kafka protocol binding, binary content mode.

The Kafka record key is the aggregate id (one aggregate's events stay in order on one
partition). Attributes travel as ``ce_*`` headers, the record value is the event's JSON as
stored in the event store, ``content-type: application/json``. Extension attributes:
``ce_estopic`` (the eventsourcing topic, to rebuild the domain event),
``ce_esversion`` (the aggregate version) and ``ce_esnotification`` (the position in the
event store's notification log, which makes duplicates recognisable).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

SPEC_VERSION = "1.0"
TYPE_PREFIX = "de.mailroom."


@dataclass(frozen=True)
class KafkaMessage:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def kafka_topic_for(es_topic: str, prefix: str) -> str:
    """One Kafka topic per aggregate type:
    ``aggregates.mail_item:MailItem.Received`` -> ``PREFIX.mail-item``."""
    aggregate = es_topic.rsplit(":", 1)[-1].split(".", 1)[0]
    kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", aggregate).lower()
    return f"{prefix}.{kebab}"


def event_type(es_topic: str) -> str:
    """``aggregates.mail_item:MailItem.Received`` -> ``de.mailroom.MailItem.Received``."""
    return TYPE_PREFIX + es_topic.rsplit(":", 1)[-1]


def to_kafka_message(notification: Notification, source: str) -> KafkaMessage:
    state = json.loads(notification.state)
    timestamp = _event_time(state)
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": f"{notification.originator_id}/{notification.originator_version}",
        "ce_source": source,
        "ce_type": event_type(notification.topic),
        "ce_subject": str(notification.originator_id),
        "ce_time": timestamp,
        "ce_estopic": notification.topic,
        "ce_esversion": str(notification.originator_version),
        "ce_esnotification": str(notification.id),
        "content-type": "application/json",
    }
    return KafkaMessage(
        key=str(notification.originator_id).encode(),
        value=notification.state,
        headers=[(k, v.encode()) for k, v in headers.items() if v],
    )


def to_stored_event(headers: list[tuple[str, bytes]], value: bytes) -> StoredEvent:
    attributes = {k: v.decode() for k, v in headers}
    if attributes.get("ce_specversion") != SPEC_VERSION:
        raise ValueError("not a CloudEvents 1.0 message")
    return StoredEvent(
        originator_id=UUID(attributes["ce_subject"]),
        originator_version=int(attributes["ce_esversion"]),
        topic=attributes["ce_estopic"],
        state=value,
    )


def header(headers: list[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode()
    return None


def _event_time(state: dict[str, object]) -> str:
    raw = state.get("timestamp")
    if isinstance(raw, dict) and isinstance(raw.get("_data_"), str):
        return str(raw["_data_"])
    return datetime.now(UTC).isoformat()
