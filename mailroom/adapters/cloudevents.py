"""Domain events as CloudEvents 1.0 on Kafka: the Kafka protocol binding in binary content
mode, built with the ``cloudevents`` SDK. The contract is written up in docs/events/README.md.

* record key and ``subject``: the aggregate id (one aggregate's events stay in order on one
  partition);
* ``type``: ``de.<city>.mailroom.<aggregate>.<event>.v<N>`` (names: ``public_events``);
* ``dataschema``: ``/events/<aggregate>.<event>.v<N>.json``, the ``$id`` of the JSON Schema
  published under docs/events/ (a URI reference, resolved against wherever the schemas are
  published);
* ``time``: when the event happened (RFC 3339 with offset); ``id``: ``<subject>/<version>``;
* extensions ``esversion`` (the aggregate's version after the event) and ``esnotification``
  (the position in the event store's notification log: duplicates are recognisable);
* value: the public ``data`` as JSON, ``content-type: application/json``.

The public data is not the stored form (no secrets, no library encoding), so internal
consumers do not rebuild domain events from it: ``EventReference`` names the stored event
(subject, esversion), which the Kafka workers load from the event store.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from eventsourcing.persistence import Notification

from mailroom.adapters.public_events import PublicEvent, by_topic, kebab, public_data

SPEC_VERSION = "1.0"
SCHEMA_PATH = "/events"
CONTENT_TYPE = "application/json"
VERSION_EXTENSION = "esversion"
NOTIFICATION_EXTENSION = "esnotification"
# Words of a municipality's official name that are not part of its slug.
_TITLE_WORDS = re.compile(
    r"^(stadt|gemeinde|hansestadt|landeshauptstadt|kreisstadt|große kreisstadt|markt)\s+", re.I
)
_FORMAT = JSONFormat()

KafkaMessage = ce_kafka.KafkaMessage


def city_slug(city_name: str) -> str:
    """``Stadt Lindenau`` -> ``lindenau``, ``Gemeinde Groß Öhringen`` -> ``gross-oehringen``."""
    name = _TITLE_WORDS.sub("", city_name.strip())
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(umlaut, plain).replace(umlaut.upper(), plain.capitalize())
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "city"


def kafka_topic_for(es_topic: str, prefix: str) -> str:
    """One Kafka topic per aggregate type:
    ``aggregates.mail_item:MailItem.Received`` -> ``PREFIX.mail-item``."""
    aggregate = es_topic.rsplit(":", 1)[-1].split(".", 1)[0]
    return f"{prefix}.{kebab(aggregate)}"


def schema_uri(public_name: str) -> str:
    return f"{SCHEMA_PATH}/{public_name}.json"


def public_name_of(ce_type: str) -> str:
    """``de.lindenau.mailroom.item.received.v1`` -> ``item.received.v1``."""
    return ".".join(ce_type.split(".")[-3:])


class EventContract:
    """Builds the public CloudEvent of a domain event for one city and source."""

    def __init__(self, city_name: str, source: str) -> None:
        self.namespace = f"de.{city_slug(city_name)}.mailroom"
        self.source = source

    def public_event(self, topic: str) -> PublicEvent | None:
        """None: the event is private (never published)."""
        return by_topic().get(topic)

    def event_type(self, public: PublicEvent) -> str:
        return f"{self.namespace}.{public.name}"

    def to_cloudevent(self, notification: Notification, event: Any) -> CloudEvent:
        """``event`` is the domain event of ``notification`` (upcast by the app's mapper)."""
        public = by_topic()[notification.topic]
        subject = str(notification.originator_id)
        attributes = {
            "specversion": SPEC_VERSION,
            "id": f"{subject}/{notification.originator_version}",
            "source": self.source,
            "type": self.event_type(public),
            "subject": subject,
            "time": event.timestamp,
            "datacontenttype": CONTENT_TYPE,
            "dataschema": schema_uri(public.name),
            VERSION_EXTENSION: str(notification.originator_version),
            NOTIFICATION_EXTENSION: str(notification.id),
        }
        return CloudEvent(attributes, public_data(event))

    def to_kafka_message(self, notification: Notification, event: Any) -> KafkaMessage:
        return ce_kafka.to_binary(
            self.to_cloudevent(notification, event), _FORMAT, key_mapper=_subject_key
        )


def event_contract(settings: Any) -> EventContract:
    """The contract of the configured city (its name from the city catalog)."""
    from routing.catalog import Catalog

    catalog = Catalog.load(settings.city_catalog)
    return EventContract(catalog.city.name, settings.cloudevents_source)


def from_kafka_record(headers: list[tuple[str, bytes]], key: bytes | None, value: bytes) -> Any:
    """A consumed record as the SDK's CloudEvent (for consumers of the public contract)."""
    message = KafkaMessage(headers=dict(headers), key=key, value=value)
    return ce_kafka.from_binary(message, _FORMAT)


@dataclass(frozen=True)
class EventReference:
    """Which stored event a record announces, read from its headers only (the worker does
    not need the public data: it loads the stored event)."""

    public_name: str  # item.received.v1
    originator_id: UUID
    version: int
    notification_id: int

    @classmethod
    def from_headers(cls, headers: list[tuple[str, bytes]]) -> EventReference | None:
        """None: not one of our CloudEvents (another producer's record)."""
        found = {k: v.decode() for k, v in headers if k.startswith("ce_")}
        try:
            if found["ce_specversion"] != SPEC_VERSION:
                return None
            legacy = by_topic().get(found.get("ce_estopic", ""))  # published before v1
            return cls(
                public_name=legacy.name if legacy else public_name_of(found["ce_type"]),
                originator_id=UUID(found["ce_subject"]),
                version=int(found[f"ce_{VERSION_EXTENSION}"]),
                notification_id=int(found[f"ce_{NOTIFICATION_EXTENSION}"]),
            )
        except (KeyError, ValueError):
            return None

    @property
    def event_name(self) -> str:
        """The public name without its version (``item.received``): the stored event is
        loaded and upcast anyway, so a worker need not know the version the relay used."""
        return self.public_name.rsplit(".", 1)[0]


def _subject_key(event: Any) -> bytes:
    return str(event.get_subject()).encode()
