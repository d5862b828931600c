"""The skeleton every read model shares: name, topics, position, clear, and "wait until the
view has seen aggregate X at version N".

A projection applies an event inside the view's own transaction, together with its tracking
position (``claim_position``) and the version of the aggregate it has now seen
(``view_versions``), so a redelivered event changes nothing and a page shown right after a
command can wait for its effect — in both modes, because it only reads the views database.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from sqlalchemy import Column, Connection, Engine, Integer, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from projections.database import metadata
from projections.tracking import claim_position, read_position, reset_positions

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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @abstractmethod
    def apply(self, conn: Connection, event: Any) -> None:
        """Change the view for one event, inside the caller's transaction."""

    # -- what the runners call -------------------------------------------------------------

    def position(self, source: str) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, f"{self.name}@{source}")

    def process(self, event: Any, tracking: Tracking) -> bool:
        """Apply one event and advance the position, atomically. False on redelivery."""
        with self.engine.begin() as conn:
            if not claim_position(
                conn, f"{self.name}@{tracking.application_name}", tracking.notification_id
            ):
                return False
            self._apply_and_note(conn, event)
        return True

    def process_batch(self, events: Iterable[tuple[Any, Tracking]]) -> int:
        """Apply many events in one transaction (a rebuild); returns how many were new."""
        applied = 0
        with self.engine.begin() as conn:
            for event, tracking in events:
                if claim_position(
                    conn, f"{self.name}@{tracking.application_name}", tracking.notification_id
                ):
                    self._apply_and_note(conn, event)
                    applied += 1
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

    def _apply_and_note(self, conn: Connection, event: Any) -> None:
        self.apply(conn, event)
        note_version(conn, self.name, str(event.originator_id), event.originator_version)


def note_version(conn: Connection, projection: str, aggregate_id: str, version: int) -> None:
    """Record that ``projection`` has seen ``aggregate_id`` at ``version`` (never backwards)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(view_versions).values(
        projection=projection, aggregate_id=aggregate_id, version=version
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[view_versions.c.projection, view_versions.c.aggregate_id],
            set_={"version": statement.excluded.version},
            where=view_versions.c.version < statement.excluded.version,
        )
    )
