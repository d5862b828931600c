"""StatusProjection: what a citizen sees about a request — status in plain German,
the department once known, and a timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, DateTime, Engine, Integer, String, Table, select

from aggregates.mail_item import MailItem
from projections.base import Projection
from projections.database import metadata
from projections.rows import Rows
from projections.view_support import view_text

status_items = Table(
    "status_items",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("access_code_hash", String(64), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("subject", String(500)),
    Column("status", String(20), nullable=False),
    Column("item_version", Integer, nullable=False),
    Column("department_id", String(100)),
    Column("case_reference", String(40)),
    Column("citizen_account_id", String(200), index=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

status_timeline = Table(
    "status_timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(36), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("text", String(500), nullable=False),
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    status: str
    text: str


@dataclass(frozen=True)
class StatusRecord:
    item_id: str
    reference: str
    access_code_hash: str
    channel: str
    subject: str | None
    status: str
    department_id: str | None
    case_reference: str | None
    received_at: datetime
    timeline: tuple[TimelineEntry, ...]
    citizen_account_id: str | None = None


DepartmentName = Callable[[str], str]


def received_text(channel: str) -> str:
    what = "Ihr Antrag" if channel == "portal" else "Ihr Schreiben"
    return f"{what} ist bei der Stadt eingegangen."


class StatusProjection(Projection):
    name = "status"
    tables = (status_timeline, status_items)
    key = status_items.c.item_id
    topics = tuple(
        get_topic(cls)
        for cls in (
            MailItem.Received,
            MailItem.Routed,
            MailItem.SentToTriage,
            MailItem.Rerouted,
            MailItem.AttachedToCase,
            MailItem.LinkedToAccount,
        )
    )

    def __init__(self, engine: Engine, department_name: DepartmentName) -> None:
        super().__init__(engine)
        self.department_name = department_name

    def apply(self, rows: Rows, event: Any) -> None:
        """An event published twice (the relay may repeat itself after a crash) arrives at a
        new position; the item's version in the view recognises it and it changes nothing."""
        item_id = str(event.originator_id)
        version = event.originator_version
        change = self._change_for(event)
        if isinstance(event, MailItem.Received):
            created = rows.insert(
                status_items.c.item_id,
                {
                    "item_id": item_id,
                    "reference": event.reference,
                    "access_code_hash": event.access_code_hash,
                    "channel": event.channel,
                    "subject": (
                        view_text(event.submission.subject, 500) if event.submission else None
                    ),
                    "status": "received",
                    "citizen_account_id": (
                        event.submission.citizen_account_id if event.submission else None
                    ),
                    "item_version": version,
                    "received_at": event.received_at,
                    "updated_at": event.timestamp,
                },
            )
            if not created:
                return
        elif isinstance(event, MailItem.LinkedToAccount):
            current = rows.get(status_items.c.item_id, item_id)
            if current is not None and current["item_version"] < version:
                rows.update(
                    status_items.c.item_id,
                    item_id,
                    {"citizen_account_id": event.citizen_account_id, "item_version": version},
                )
        elif change is not None:
            current = rows.get(status_items.c.item_id, item_id)
            if current is None or current["item_version"] >= version:
                return  # already applied, or the item is not known yet
            changes = {"updated_at": event.timestamp, "item_version": version, **change.columns}
            rows.update(status_items.c.item_id, item_id, changes)
        if change is not None:
            rows.append(
                status_timeline,
                {
                    "item_id": item_id,
                    "at": event.timestamp,
                    "status": change.status,
                    "text": view_text(change.text, 500),
                },
            )

    def _change_for(self, event: Any) -> _Change | None:
        if isinstance(event, MailItem.Received):
            return _Change("received", received_text(event.channel), {})
        if isinstance(event, MailItem.Routed | MailItem.Rerouted):
            name = self.department_name(event.department_id)
            return _Change(
                "routed",
                f"Ihr Anliegen wurde an die zuständige Stelle weitergeleitet: {name}.",
                {"status": "routed", "department_id": event.department_id},
            )
        if isinstance(event, MailItem.SentToTriage):
            return _Change(
                "triage",
                "Die Poststelle prüft, welche Stelle für Ihr Anliegen zuständig ist.",
                {"status": "triage"},
            )
        if isinstance(event, MailItem.AttachedToCase):
            return _Change(
                "in_progress",
                f"Ihr Anliegen wird im Vorgang {event.case_reference} bearbeitet.",
                {"status": "in_progress", "case_reference": event.case_reference},
            )
        return None

    def find(self, reference: str) -> StatusRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(status_items).where(status_items.c.reference == reference))
                .mappings()
                .first()
            )
            return None if row is None else _record(conn, row)

    def of_account(self, account_id: str) -> list[StatusRecord]:
        """Every request linked to a citizen's account, newest first."""
        with self.engine.connect() as conn:
            found = (
                conn.execute(
                    select(status_items)
                    .where(status_items.c.citizen_account_id == account_id)
                    .order_by(status_items.c.received_at.desc())
                    .limit(500)
                )
                .mappings()
                .all()
            )
            return [_record(conn, row) for row in found]


def _record(conn: Connection, row: Any) -> StatusRecord:
    entries = (
        conn.execute(
            select(status_timeline)
            .where(status_timeline.c.item_id == row["item_id"])
            .order_by(status_timeline.c.id)
        )
        .mappings()
        .all()
    )
    return StatusRecord(
        item_id=row["item_id"],
        reference=row["reference"],
        access_code_hash=row["access_code_hash"],
        channel=row["channel"],
        subject=row["subject"],
        status=row["status"],
        department_id=row["department_id"],
        case_reference=row["case_reference"],
        received_at=row["received_at"],
        timeline=tuple(TimelineEntry(e["at"], e["status"], e["text"]) for e in entries),
        citizen_account_id=row["citizen_account_id"],
    )


@dataclass(frozen=True)
class _Change:
    status: str
    text: str
    columns: dict[str, Any]
