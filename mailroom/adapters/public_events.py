"""The public names and the public data of the domain events: the event contract on the bus.

One table (``AGGREGATE_NAMES``) names each aggregate for the outside; an event's public name
is ``<aggregate>.<event>.v<N>`` (``item.received.v1``, ``item.text-extracted.v2``), where N is
the event class's ``class_version``: a stored event class changes only with a new class
version and an upcaster, and so does its public type. Events are found in the ``aggregates``
package itself, so a new aggregate is on the contract (and needs a schema) from its first day.

The public ``data`` is the event's own fields (after upcasting) as plain JSON: timestamps in
ISO 8601 with offset, UUIDs as strings, value objects as objects. Envelope fields
(originator id, version, timestamp, topic) travel as CloudEvents attributes instead. Fields
that hold secrets or hashes of them (``SECRET_FIELD``: also keys of free-form data such as a
letter's ``access_code``) are never part of it, and events in
``PRIVATE_EVENTS`` never leave the event store at all.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
import re
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

import aggregates
from aggregates.staff import StaffMember

# The public name of each aggregate; an aggregate missing here is named in kebab case.
AGGREGATE_NAMES: dict[str, str] = {
    "MailItem": "item",
    "Case": "case",
    "OutgoingDocument": "letter",
    "PrintBatch": "print-batch",
    "CitizenAccount": "citizen-account",
    "ScanningStation": "station",
    "StaffMember": "staff",
    "ReferenceIndex": "reference",
    "RoutingExample": "routing-example",
}

# Whole events kept off the bus (they exist only to carry a secret).
PRIVATE_EVENTS: frozenset[str] = frozenset({get_topic(StaffMember.PasswordSet)})

# Field names that hold secrets, credentials or hashes of them: never published.
SECRET_FIELD = re.compile(r"hash|secret|token|password|fingerprint|access_code|api_key", re.I)

# Envelope fields of every event: published as CloudEvents attributes, not in ``data``.
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)


@dataclasses.dataclass(frozen=True)
class PublicEvent:
    cls: type[Any]
    topic: str  # the eventsourcing topic (how the event store names it)
    name: str  # item.received.v1

    @property
    def fields(self) -> list[str]:
        return public_fields(self.cls)


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def public_fields(cls: type[Any]) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in ENVELOPE_FIELDS and not SECRET_FIELD.search(f.name)
    ]


@functools.cache
def public_events() -> tuple[PublicEvent, ...]:
    """Every event class of the aggregates package that may go on the bus."""
    found: list[PublicEvent] = []
    for module_info in sorted(pkgutil.iter_modules(aggregates.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"aggregates.{module_info.name}")
        for aggregate in vars(module).values():
            if not _is_aggregate_of(aggregate, module.__name__):
                continue
            public = AGGREGATE_NAMES.get(aggregate.__name__, kebab(aggregate.__name__))
            for cls in _events_of(aggregate):
                topic = get_topic(cls)
                if topic in PRIVATE_EVENTS:
                    continue
                version = getattr(cls, "class_version", None) or 1
                found.append(PublicEvent(cls, topic, f"{public}.{kebab(cls.__name__)}.v{version}"))
    return tuple(found)


@functools.cache
def by_topic() -> dict[str, PublicEvent]:
    return {event.topic: event for event in public_events()}


@functools.cache
def by_name() -> dict[str, PublicEvent]:
    return {event.name: event for event in public_events()}


def public_data(event: Any) -> dict[str, Any]:
    """The event's public fields as plain JSON values."""
    return {name: plain(getattr(event, name)) for name in public_fields(type(event))}


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not SECRET_FIELD.search(f.name)
        }
    if isinstance(value, dict):  # free-form data (a letter's fields) may name a secret too
        return {str(k): plain(v) for k, v in value.items() if not SECRET_FIELD.search(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def _is_aggregate_of(obj: Any, module: str) -> bool:
    return (
        isinstance(obj, type)
        and issubclass(obj, Aggregate)
        and obj is not Aggregate
        and obj.__module__ == module
    )


def _events_of(aggregate: type[Any]) -> list[type[Any]]:
    return [
        cls
        for name, cls in vars(aggregate).items()
        if isinstance(cls, type)
        and issubclass(cls, Aggregate.Event)
        and name not in ("Event", "Created")
        and cls.__qualname__ == f"{aggregate.__qualname__}.{name}"
    ]
