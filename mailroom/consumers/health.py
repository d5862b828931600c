"""Consumer health: which consumer is retrying, waiting for a dependency, or stalled.

Kept in the views database so that every process sees it: the worker that fails writes a
row, the API's ``/readyz`` and ``/metrics`` read it. A row exists only while something is
wrong (it is deleted once the event goes through), so a healthy pipeline writes nothing
here. Attempts survive a restart: a letter that keeps failing is counted across crashes.
Health bookkeeping never breaks processing: its own database errors are logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from projections.database import metadata

log = logging.getLogger(__name__)

IN_PROGRESS = "in_progress"  # an attempt at expensive work has begun (counted ahead)
RETRYING = "retrying"  # the event failed; it is tried again after a pause
WAITING = "waiting"  # a dependency is down; nothing is counted against the event
STALLED = "stalled"  # a consumer that must not skip (a projection) cannot go on

consumer_health = Table(
    "consumer_health",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("source", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("error", String(100), nullable=False),
    Column("detail", String(500), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class HealthRecord:
    consumer: str
    source: str
    position: int
    attempts: int
    state: str
    error: str
    detail: str
    since: datetime
    updated_at: datetime


class HealthStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def attempts(self, consumer: str, source: str, position: int) -> int:
        """Attempts recorded for this position (0 when it never failed)."""
        row = self._find(consumer, source)
        return row.attempts if row is not None and row.position == position else 0

    def record(
        self,
        consumer: str,
        source: str,
        position: int,
        *,
        attempts: int,
        state: str,
        error: str,
        detail: str,
    ) -> None:
        now = self.clock()
        values = {
            "position": position,
            "attempts": attempts,
            "state": state,
            "error": error[:100],
            "detail": detail[:500],
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                where = (consumer_health.c.consumer == consumer) & (
                    consumer_health.c.source == source
                )
                previous = conn.execute(select(consumer_health.c.position).where(where)).first()
                if previous is None:
                    row = {"consumer": consumer, "source": source, "since": now, **values}
                    conn.execute(insert(consumer_health).values(**row))
                else:
                    if previous[0] != position:
                        values["since"] = now
                    conn.execute(update(consumer_health).where(where).values(**values))
        except SQLAlchemyError as exc:  # the views are down too: the log line must do
            log.warning("could not record the health of %s@%s: %s", consumer, source, _short(exc))

    def clear(self, consumer: str, source: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(consumer_health).where(
                        consumer_health.c.consumer == consumer, consumer_health.c.source == source
                    )
                )
        except SQLAlchemyError as exc:
            log.warning("could not clear the health of %s@%s: %s", consumer, source, _short(exc))

    def problems(self) -> list[HealthRecord]:
        """Every consumer that is not simply going on; raises if the views cannot be read."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(consumer_health)
                .where((consumer_health.c.state != IN_PROGRESS) | (consumer_health.c.attempts > 1))
                .order_by(consumer_health.c.consumer, consumer_health.c.source)
            )
            return [HealthRecord(**row) for row in rows.mappings()]

    def _find(self, consumer: str, source: str) -> HealthRecord | None:
        try:
            with self.engine.connect() as conn:
                row = (
                    conn.execute(
                        select(consumer_health).where(
                            consumer_health.c.consumer == consumer,
                            consumer_health.c.source == source,
                        )
                    )
                    .mappings()
                    .first()
                )
        except SQLAlchemyError as exc:
            log.warning("could not read the health of %s@%s: %s", consumer, source, _short(exc))
            return None
        return None if row is None else HealthRecord(**row)


def _short(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]
