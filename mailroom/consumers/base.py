"""What every consumer offers a runner (embedded or Kafka): the same code in both modes.

A consumer applies one domain event and records its position (``tracking``) in the same
transaction as its effect; ``process`` returns False when that position was recorded
before, so a redelivered event has no second effect. Positions are kept per *source*:
``log`` for the embedded notification log, ``topic:partition`` for Kafka. An event that
calls for no effect is skipped without a write: seeing it again changes nothing either.

When an event keeps failing (``delivery.py`` decides when), ``record_failure`` records
that as an event of its own (an item goes to triage) and claims the position, so the stream
moves on; a consumer that must not skip events returns False and stalls visibly instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking

from mailroom.application import MailroomApp
from mailroom.liveness import EVENT_TURN_S, SLOW_EVENT_TURN_S


@dataclass(frozen=True)
class Failure:
    """Why an event could not be processed: a stable code and a line for operators."""

    code: str
    detail: str


class Consumer(Protocol):
    name: str
    topics: tuple[str, ...]

    def position(self, source: str) -> int: ...

    def process(self, event: DomainEventProtocol[Any], tracking: Tracking) -> bool: ...

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        """Record that ``event`` cannot be processed and claim its position.

        False: this consumer must not skip an event (a read model would be wrong); it stalls.
        """
        ...

    def persist_attempts(self, event: Any) -> bool:
        """Whether attempts at ``event`` are counted before they start (expensive work that
        might end the process, so that a letter that crashes the worker is bounded too)."""
        ...


def background_loops(consumer: Consumer) -> list[Callable[[threading.Event], None]]:
    """Loops a consumer wants run beside it, each in a thread until the event is set (the
    notification consumer's sender); both runners start them with the consumer."""
    loops = getattr(consumer, "background_loops", None)
    return list(loops()) if loops is not None else []


def is_slow(consumer: Consumer) -> bool:
    """Whether one event may take this consumer minutes (``slow_events = True``: OCR)."""
    return bool(getattr(consumer, "slow_events", False))


def turn_limit_s(consumer: Consumer) -> float:
    """The longest ``consumer`` may take over one event before it counts as hung."""
    return SLOW_EVENT_TURN_S if is_slow(consumer) else EVENT_TURN_S


def tracking_name(consumer: str, source: str) -> str:
    return f"{consumer}@{source}"


class EventRecordingConsumer:
    """Base for consumers whose effects are new events in the event store.

    Positions are cached per source after the first read; the event store stays the
    arbiter (a stale cache only means the save is refused as a redelivery)."""

    name: str

    def __init__(self, app: MailroomApp) -> None:
        self.app = app
        self._positions: dict[str, int] = {}

    def position(self, source: str) -> int:
        return self.app.position(tracking_name(self.name, source))

    def own_tracking(self, tracking: Tracking) -> Tracking | None:
        """This consumer's tracking for the event, or None when it was processed before."""
        name = tracking_name(self.name, tracking.application_name)
        if name not in self._positions:
            self._positions[name] = self.app.position(name)
        if tracking.notification_id <= self._positions[name]:
            return None
        return Tracking(name, tracking.notification_id)

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        return False  # consumers that can record a failure for their event override this

    def persist_attempts(self, event: Any) -> bool:
        return False

    def save(self, tracking: Tracking, *aggregates: Any) -> bool:
        saved = self.app.save_processed(tracking, *aggregates)
        self._positions[tracking.application_name] = tracking.notification_id
        return saved
