"""The skeleton every read model shares: name, topics, position, clear, and "wait until the
view has seen aggregate X at version N".

A projection applies events inside the view's own transaction, together with its tracking
position and the version of each aggregate it has now seen (``view_versions``), so a
redelivered event changes nothing and a page shown right after a command can wait for its
effect — in both modes, because it only reads the views database. ``process`` takes one
event; ``process_batch`` many in one transaction (a rebuild, or a worker catching up): the
positions are locked once, the view's rows of all the batch's aggregates are read in one
query and written back in bulk (``projections.rows``), with the same result as one event at
a time.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, Engine, Integer, String, Table, select, text

from projections.database import metadata
from projections.rows import Rows
from projections.tracking import advance_position, lock_position, read_position, reset_positions

view_versions = Table(
    "view_versions",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("aggregate_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
)

WAIT_POLL_S = 0.02


class Projection(ABC):
    name: str
    topics: tuple[str, ...]
    tables: ClassVar[tuple[Table, ...]]  # what ``clear`` empties, dependants first
    key: ClassVar[Column[Any]]  # the column of the view's one row per aggregate (its id)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @abstractmethod
    def apply(self, rows: Rows, event: Any) -> None:
        """Change the view for one event, through the caller's ``rows``."""

    # -- what the runners call -------------------------------------------------------------

    def position(self, source: str) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, f"{self.name}@{source}")

    def process(self, event: Any, tracking: Tracking) -> bool:
        """Apply one event and advance the position, atomically. False on redelivery."""
        return self.process_batch([(event, tracking)]) == 1

    def process_batch(self, events: Iterable[tuple[Any, Tracking]]) -> int:
        """Apply many events in one transaction; returns how many were new (an event at or
        before its source's position is a redelivery and changes nothing)."""
        topics = frozenset(self.topics)
        batch = [
            (e, str(e.originator_id), f"{self.name}@{t.application_name}", t.notification_id)
            for e, t in events
            if get_topic(type(e)) in topics  # not ours: nothing to apply, nothing to track
        ]
        if not batch:
            return 0
        applied = 0
        with self.engine.begin() as conn:
            # The positions first: a concurrent transaction for the same source waits here.
            names = sorted({name for _, _, name, _ in batch})
            before = {name: lock_position(conn, name) for name in names}
            positions = dict(before)
            rows = Rows(conn)
            rows.load(self.key, {aggregate for _, aggregate, _, _ in batch})
            seen: dict[str, int] = {}
            for event, aggregate, name, position in batch:
                current = positions[name]
                if current is not None and position <= current:
                    continue
                positions[name] = position
                self.apply(rows, event)
                applied += 1
                seen[aggregate] = max(seen.get(aggregate, 0), event.originator_version)
            rows.flush()
            note_versions(conn, self.name, seen)
            for name, reached in positions.items():
                if reached is not None:
                    advance_position(conn, name, before[name], reached)
        return applied

    def record_failure(self, event: Any, tracking: Tracking, failure: object) -> bool:
        return False  # a read model must not skip an event: it stalls, visibly

    def persist_attempts(self, event: Any) -> bool:
        return False

    def clear(self) -> None:
        """Forget every row and every position, so the next run rebuilds from zero."""
        with self.engine.begin() as conn:
            for table in self.tables:
                conn.execute(table.delete())
            conn.execute(view_versions.delete().where(view_versions.c.projection == self.name))
            reset_positions(conn, f"{self.name}@")

    # -- read your own writes ------------------------------------------------------------

    def seen_version(self, aggregate_id: UUID | str) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(view_versions.c.version).where(
                    view_versions.c.projection == self.name,
                    view_versions.c.aggregate_id == str(aggregate_id),
                )
            ).first()
        return 0 if row is None else int(row[0])

    def wait_for(self, aggregate_id: UUID | str, version: int, timeout_s: float = 5.0) -> bool:
        """Wait until this view has applied ``aggregate_id`` at ``version`` or later."""
        deadline = time.monotonic() + timeout_s
        while self.seen_version(aggregate_id) < version:
            if time.monotonic() >= deadline:
                return False
            time.sleep(WAIT_POLL_S)
        return True


def note_versions(conn: Connection, projection: str, versions: Mapping[str, int]) -> None:
    """Record that ``projection`` has seen each aggregate at its version (never backwards)."""
    if not versions:
        return
    if conn.dialect.name == "postgresql":  # one statement for the batch: arrays, unnested
        conn.execute(
            text(
                "INSERT INTO view_versions (projection, aggregate_id, version)"
                " SELECT :projection, a, v FROM unnest(CAST(:ids AS VARCHAR[]),"
                " CAST(:versions AS INTEGER[])) AS n(a, v)"
                " ON CONFLICT (projection, aggregate_id) DO UPDATE SET version = excluded.version"
                " WHERE view_versions.version < excluded.version"
            ),
            {"projection": projection, "ids": list(versions), "versions": list(versions.values())},
        )
        return
    conn.exec_driver_sql(  # the driver's executemany: no bound parameters built per row
        "INSERT INTO view_versions (projection, aggregate_id, version) VALUES (?, ?, ?)"
        " ON CONFLICT (projection, aggregate_id) DO UPDATE SET version = excluded.version"
        " WHERE view_versions.version < excluded.version",
        [(projection, aggregate_id, version) for aggregate_id, version in versions.items()],
    )
