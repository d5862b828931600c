"""What every consumer offers a runner (embedded or Kafka): the same code in both modes.

A consumer applies one domain event and records its position (``tracking``) in the same
transaction as its effect; ``process`` returns False when that position was recorded
before, so a redelivered event has no second effect. Positions are kept per *source*:
``log`` for the embedded notification log, ``topic:partition`` for Kafka.
"""

from __future__ import annotations

from typing import Any, Protocol

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking


class Consumer(Protocol):
    name: str
    topics: tuple[str, ...]

    def position(self, source: str) -> int: ...

    def process(self, event: DomainEventProtocol[Any], tracking: Tracking) -> bool: ...


def tracking_name(consumer: str, source: str) -> str:
    return f"{consumer}@{source}"
