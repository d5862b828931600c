"""The notification outbox: e-mails waiting to be sent, in the views database.

The notification consumer writes one row per (event, kind) in the same transaction as its
tracking position, so an event's e-mail is queued exactly once: a redelivered event finds its
position taken, and an event published twice at a new position finds its row's ``key`` taken.
The sender claims due rows before it sends them (one ``UPDATE ... WHERE id IN (SELECT ...
FOR UPDATE SKIP LOCKED)``; SQLite has one writer anyway), so two processes never send the same
row; a claim is a lease, so the rows of a process that died mid-send are sent again later.

Rows: ``pending`` (due at ``next_attempt_at``) -> ``sending`` (claimed until
``next_attempt_at``) -> ``sent`` | back to ``pending`` with back-off | ``failed`` (attempts
exhausted or refused for good; ``last_error`` says why, operators list and requeue them with
``mailroom notifications``). Not a read model: ``projections rebuild`` never clears it (that
would send every e-mail again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from projections.database import metadata
from projections.tracking import advance_position, lock_position, read_position

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
STATES = (PENDING, SENDING, SENT, FAILED)

notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),  # kind:aggregate:version
    Column("kind", String(40), nullable=False),
    Column("reference", String(40), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_notification_outbox_due", "state", "next_attempt_at"),
    Index("ix_notification_outbox_reference", "reference"),
)


@dataclass(frozen=True)
class OutgoingMail:
    """One e-mail to queue: ``key`` identifies the event and kind (the same event always
    gives the same key, so it is queued once)."""

    key: str
    kind: str
    reference: str
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    kind: str
    reference: str
    recipient: str
    subject: str
    body: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class Outbox:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    # -- the consumer's side ---------------------------------------------------------------

    def position(self, tracking_name: str) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, tracking_name)

    def enqueue(
        self,
        tracking_name: str,
        position: int,
        mails: Sequence[OutgoingMail],
        *,
        failed: str = "",
    ) -> bool:
        """Queue ``mails`` and record ``position``, atomically. False: the position was
        recorded before (a redelivery; nothing is queued). A key queued before is not queued
        again. ``failed`` queues the rows as failed with that reason (nothing is sent)."""
        now = self.clock()
        with self.engine.begin() as conn:
            before = lock_position(conn, tracking_name)
            if before is not None and position <= before:
                return False
            if mails:
                rows = [
                    {
                        "key": mail.key[:200],
                        "kind": mail.kind,
                        "reference": mail.reference[:40],
                        "recipient": mail.recipient[:320],
                        "subject": mail.subject[:300],
                        "body": mail.body,
                        "state": FAILED if failed else PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "last_error": failed[:500],
                        "created_at": now,
                    }
                    for mail in mails
                ]
                upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
                conn.execute(upsert(notification_outbox).on_conflict_do_nothing(), rows)
            advance_position(conn, tracking_name, before, position)
        return True

    # -- the sender's side -----------------------------------------------------------------

    def claim(self, limit: int, lease: timedelta) -> list[OutboxRow]:
        """Take up to ``limit`` due rows for sending (counting the attempt now, so that a
        process that dies while sending still uses one up); they are this caller's until the
        lease ends."""
        now = self.clock()
        due = (
            select(notification_outbox.c.id)
            .where(
                notification_outbox.c.state.in_((PENDING, SENDING)),
                notification_outbox.c.next_attempt_at <= now,
            )
            .order_by(notification_outbox.c.next_attempt_at, notification_outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(notification_outbox)
                .where(notification_outbox.c.id.in_(due.scalar_subquery()))
                .values(
                    state=SENDING,
                    attempts=notification_outbox.c.attempts + 1,
                    next_attempt_at=now + lease,
                )
                .returning(*notification_outbox.c)
            )
            rows = [_row(row) for row in claimed.mappings()]
        return sorted(rows, key=lambda row: row.id)

    def mark_sent(self, row_id: int) -> None:
        self._finish(row_id, state=SENT, last_error="", sent_at=self.clock())

    def mark_failed(self, row_id: int, error: str) -> None:
        self._finish(row_id, state=FAILED, last_error=error[:500])

    def retry_later(self, row_id: int, delay_s: float, error: str) -> None:
        due = self.clock() + timedelta(seconds=delay_s)
        self._finish(row_id, state=PENDING, next_attempt_at=due, last_error=error[:500])

    def next_due(self) -> datetime | None:
        """When the next row is due (a pending retry or a lease that ends), if any."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.min(notification_outbox.c.next_attempt_at)).where(
                    notification_outbox.c.state.in_((PENDING, SENDING))
                )
            ).scalar()
        return _aware(value) if value is not None else None

    # -- operators -------------------------------------------------------------------------

    def rows(self, state: str | None = None, reference: str | None = None) -> list[OutboxRow]:
        query = select(notification_outbox).order_by(notification_outbox.c.id)
        if state is not None:
            query = query.where(notification_outbox.c.state == state)
        if reference is not None:
            query = query.where(notification_outbox.c.reference == reference)
        with self.engine.connect() as conn:
            return [_row(row) for row in conn.execute(query).mappings()]

    def counts(self) -> dict[str, int]:
        query = select(notification_outbox.c.state, func.count()).group_by(
            notification_outbox.c.state
        )
        with self.engine.connect() as conn:
            found = {state: int(count) for state, count in conn.execute(query)}
        return {state: found.get(state, 0) for state in STATES}

    def requeue(self, row_ids: Sequence[int] | None = None) -> int:
        """Send failed rows again (all, or the given ones), with fresh attempts; a row that
        was never composed (no recipient) cannot be sent and stays failed."""
        where = (notification_outbox.c.state == FAILED) & (notification_outbox.c.recipient != "")
        if row_ids is not None:
            where = where & notification_outbox.c.id.in_(list(row_ids))
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(notification_outbox)
                .where(where)
                .values(state=PENDING, attempts=0, next_attempt_at=self.clock())
            )
        return int(changed.rowcount)

    def _finish(self, row_id: int, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(notification_outbox)
                .where(notification_outbox.c.id == row_id, notification_outbox.c.state == SENDING)
                .values(**values)
            )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _row(mapping: Any) -> OutboxRow:
    values = dict(mapping)
    for name in ("next_attempt_at", "created_at", "sent_at"):
        if values[name] is not None:
            values[name] = _aware(values[name])
    return OutboxRow(**values)
