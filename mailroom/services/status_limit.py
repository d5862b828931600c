"""The status check's guessing limit, in the views database: shared by every API process
and kept across restarts.

One row per failed check (address, reference, when), kept for the window. The rule:

1. **Per address**: an address with ``allowed`` failures in the window (across references)
   is refused every check (429), the right code too. Behind the configured trusted proxies
   (``mailroom.api.client_address``) every citizen has an address of their own, so one
   person's typos lock only that person.
2. **Per reference**: a reference with ``allowed`` failures in the window (from all
   addresses together) is *under guard*: an address that has failed on it in the window is
   refused (429) even with the right code, and a wrong code from any address is answered
   429 (and counted). A correct code from an address that has not failed on the reference
   still works, so someone else's guessing cannot lock the citizen out of their own request;
   while guarded, a distributed guesser gets one try per address and window.

Check and record are two statements, not one transaction: processes checking at the same
moment may each let one more failure through (bounded by the concurrency), never more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)

from projections.database import metadata

ADDRESS_LENGTH = 64
REFERENCE_LENGTH = 40

status_failures = Table(
    "status_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(ADDRESS_LENGTH), nullable=False),
    Column("reference", String(REFERENCE_LENGTH)),  # None: not a reference at all
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_status_failures_address", "address", "failed_at"),
    Index("ix_status_failures_reference", "reference", "failed_at"),
    Index("ix_status_failures_failed_at", "failed_at"),
)


@dataclass(frozen=True)
class Standing:
    """What the window holds for one check: refused (with seconds until it may try again)
    or allowed, and whether the reference is under guard."""

    refused_for_s: int | None
    guarded: bool

    @property
    def wait_s(self) -> int:
        return self.refused_for_s or 1


class StatusFailureLimit:
    def __init__(
        self, engine: Engine, allowed: int, window_s: int, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.allowed = allowed
        self.window = timedelta(seconds=window_s)
        self.clock = clock

    def standing(self, address: str, reference: str | None) -> Standing:
        address = address[:ADDRESS_LENGTH]
        now = self.clock()
        t = status_failures.c
        by_address = t.address == address
        by_reference = t.reference == reference if reference else None
        conditions = [by_address] if by_reference is None else [by_reference, by_address]
        counted = [_count(by_address)]
        if by_reference is not None:
            counted += [_count(by_reference), _count(and_(by_reference, by_address))]
        recent = t.failed_at > now - self.window
        with self.engine.connect() as conn:
            row = conn.execute(select(*counted).where(recent, or_(*conditions))).one()
            from_address = int(row[0])
            if from_address >= self.allowed:  # wait until one of them leaves the window
                wait = self._wait(conn, by_address, from_address - self.allowed, now)
                return Standing(wait, False)
            if by_reference is None:
                return Standing(None, False)
            guarded = int(row[1]) >= self.allowed
            from_address_on_reference = int(row[2])
            if guarded and from_address_on_reference:  # until its last one there is gone
                pair = and_(by_reference, by_address)
                wait = self._wait(conn, pair, from_address_on_reference - 1, now)
                return Standing(wait, True)
        return Standing(None, guarded)

    def record_failure(self, address: str, reference: str | None) -> None:
        now = self.clock()
        t = status_failures.c
        with self.engine.begin() as conn:
            conn.execute(
                insert(status_failures).values(
                    address=address[:ADDRESS_LENGTH], reference=reference, failed_at=now
                )
            )
            conn.execute(delete(status_failures).where(t.failed_at <= now - self.window))

    def _wait(
        self, conn: Connection, where: ColumnElement[bool], offset: int, now: datetime
    ) -> int:
        """Seconds until the failure at ``offset`` (oldest first) of those matching
        ``where`` leaves the window (at least 1)."""
        t = status_failures.c
        failed_at: datetime | None = conn.execute(
            select(t.failed_at)
            .where(t.failed_at > now - self.window, where)
            .order_by(t.failed_at)
            .offset(max(0, offset))
            .limit(1)
        ).scalar()
        if failed_at is None:
            return 1
        if failed_at.tzinfo is None:  # SQLite gives naive (UTC) datetimes back
            failed_at = failed_at.replace(tzinfo=UTC)
        seconds = (failed_at + self.window - now).total_seconds()
        return max(1, ceil(seconds))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
