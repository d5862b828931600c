"""OutgoingProjection: the letters the city sends — per case (the clerk's case page), per
citizen account (the Postfach), the print queue of the mailroom — and the citizen accounts'
delivery choice that the delivery consumer decides the channel by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Boolean, Column, DateTime, Engine, Integer, String, Table, select

from aggregates.citizen_account import CitizenAccount
from aggregates.outgoing_document import DocumentState, OutgoingDocument
from projections.base import Projection
from projections.database import metadata
from projections.rows import Rows

outgoing_documents = Table(
    "outgoing_documents",
    metadata,
    Column("document_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("case_reference", String(40), nullable=False, index=True),
    Column("template", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("recipient_name", String(200), nullable=False),
    Column("recipient_address", String(1000), nullable=False),
    Column("citizen_account_id", String(200), index=True),
    Column("requires_second_approval", Boolean, nullable=False),
    Column("drafted_by", String(200), nullable=False),
    Column("drafted_by_name", String(200), nullable=False),
    Column("drafted_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(200)),
    Column("approved_by_name", String(200)),
    Column("approved_at", DateTime(timezone=True)),
    Column("blob_key", String(200)),
    Column("sha256", String(64)),
    Column("pages", Integer, nullable=False),
    Column("channel", String(10)),  # inbox | print, once decided
    Column("delivered_to", String(200), index=True),  # the Postfach it was delivered to
    Column("delivered_at", DateTime(timezone=True)),
    Column("print_reason", String(40)),
    Column("queued_at", DateTime(timezone=True)),  # when it went to the print queue
    Column("batch_id", String(36)),
    Column("printed_at", DateTime(timezone=True)),
    Column("read_at", DateTime(timezone=True)),
    Column("returned_reason", String(40)),
    Column("returned_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

citizen_accounts = Table(
    "citizen_accounts",
    metadata,
    Column("account_uuid", String(36), primary_key=True),
    Column("account_id", String(200), nullable=False, unique=True),
    Column("digital_delivery", Boolean, nullable=False),
    Column("email", String(320)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class OutgoingRow:
    id: str
    case_reference: str
    template: str
    title: str
    state: str
    recipient_name: str
    recipient_address: str
    citizen_account_id: str | None
    requires_second_approval: bool
    drafted_by: str
    drafted_by_name: str
    drafted_at: datetime
    approved_by_name: str | None
    approved_at: datetime | None
    blob_key: str | None
    pages: int
    channel: str | None
    delivered_to: str | None
    delivered_at: datetime | None
    print_reason: str | None
    batch_id: str | None
    printed_at: datetime | None
    read_at: datetime | None
    returned_reason: str | None
    returned_at: datetime | None = None
    queued_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> OutgoingRow:
        return cls(
            id=row["document_id"],
            **{
                name: row[name]
                for name in cls.__dataclass_fields__
                if name != "id"  # the table calls it document_id
            },
        )


@dataclass(frozen=True)
class AccountChoice:
    account_id: str
    digital_delivery: bool
    email: str | None


_DOCUMENT_EVENTS = (
    OutgoingDocument.Drafted,
    OutgoingDocument.Edited,
    OutgoingDocument.Discarded,
    OutgoingDocument.Approved,
    OutgoingDocument.Rendered,
    OutgoingDocument.RenderingFailed,
    OutgoingDocument.DeliveredToInbox,
    OutgoingDocument.QueuedForPrint,
    OutgoingDocument.Batched,
    OutgoingDocument.Printed,
    OutgoingDocument.Read,
    OutgoingDocument.ReturnedUndeliverable,
)
_ACCOUNT_EVENTS = (
    CitizenAccount.Registered,
    CitizenAccount.DigitalDeliveryChosen,
    CitizenAccount.EmailChanged,
)


class OutgoingProjection(Projection):
    name = "outgoing"
    tables = (outgoing_documents, citizen_accounts)
    key = outgoing_documents.c.document_id
    topics = tuple(get_topic(cls) for cls in (*_DOCUMENT_EVENTS, *_ACCOUNT_EVENTS))

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    def apply(self, rows: Rows, event: Any) -> None:
        if isinstance(event, _ACCOUNT_EVENTS):
            self._apply_account(rows, event)
            return
        document_id = str(event.originator_id)
        if isinstance(event, OutgoingDocument.Drafted):
            rows.insert(self.key, _drafted_row(document_id, event))
            return
        current = rows.get(self.key, document_id)
        if current is None:
            return
        changes = _document_changes(event)
        if isinstance(event, OutgoingDocument.Read) and current["state"] != "in_inbox":
            changes = {"read_at": event.at}  # read after it went to print: the state stays
        if changes is not None:
            rows.update(self.key, document_id, {**changes, "updated_at": event.timestamp})

    def _apply_account(self, rows: Rows, event: Any) -> None:
        key = citizen_accounts.c.account_uuid
        account_uuid = str(event.originator_id)
        if isinstance(event, CitizenAccount.Registered):
            rows.insert(
                key,
                {
                    "account_uuid": account_uuid,
                    "account_id": event.account_id,
                    "digital_delivery": False,
                    "email": None,
                    "updated_at": event.timestamp,
                },
            )
            return
        if rows.get(key, account_uuid) is None:
            return
        if isinstance(event, CitizenAccount.DigitalDeliveryChosen):
            change: dict[str, Any] = {"digital_delivery": event.agreed}
        else:
            change = {"email": event.email}
        rows.update(key, account_uuid, {**change, "updated_at": event.timestamp})

    # -- queries ---------------------------------------------------------------------------

    def get(self, document_id: str) -> OutgoingRow | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(outgoing_documents).where(
                        outgoing_documents.c.document_id == document_id
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else OutgoingRow.of(row)

    def of_case(self, case_reference: str) -> list[OutgoingRow]:
        return self._select(
            outgoing_documents.c.case_reference == case_reference,
            outgoing_documents.c.drafted_at.desc(),
        )

    def postfach(self, account_id: str) -> list[OutgoingRow]:
        """Every document delivered to this account's Postfach, newest first."""
        return self._select(
            outgoing_documents.c.delivered_to == account_id,
            outgoing_documents.c.delivered_at.desc(),
        )

    def in_state(self, state: DocumentState, limit: int = 10_000) -> list[OutgoingRow]:
        return self._select(
            outgoing_documents.c.state == state.value, outgoing_documents.c.updated_at, limit
        )

    def account(self, account_id: str) -> AccountChoice | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(citizen_accounts).where(citizen_accounts.c.account_id == account_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return AccountChoice(row["account_id"], row["digital_delivery"], row["email"])

    def _select(self, where: Any, order: Any, limit: int = 1000) -> list[OutgoingRow]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(outgoing_documents).where(where).order_by(order).limit(limit)
            ).mappings()
            return [OutgoingRow.of(row) for row in found]


def _drafted_row(document_id: str, event: Any) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "case_id": str(event.case_id),
        "case_reference": event.case_reference,
        "template": event.template,
        "title": event.title[:200],
        "state": DocumentState.DRAFT.value,
        "recipient_name": event.recipient_name[:200],
        "recipient_address": "\n".join(event.recipient_lines)[:1000],
        "citizen_account_id": event.citizen_account_id,
        "requires_second_approval": event.requires_second_approval,
        "drafted_by": event.by,
        "drafted_by_name": event.by_name[:200],
        "drafted_at": event.at,
        "pages": 0,
        "updated_at": event.timestamp,
    }


def _document_changes(event: Any) -> dict[str, Any] | None:
    if isinstance(event, OutgoingDocument.Edited):
        return {
            "recipient_name": event.recipient_name[:200],
            "recipient_address": "\n".join(event.recipient_lines)[:1000],
        }
    if isinstance(event, OutgoingDocument.Discarded):
        return {"state": DocumentState.DISCARDED.value}
    if isinstance(event, OutgoingDocument.Approved):
        return {
            "state": DocumentState.APPROVED.value,
            "approved_by": event.by,
            "approved_by_name": event.by_name[:200],
            "approved_at": event.at,
        }
    if isinstance(event, OutgoingDocument.Rendered):
        return {
            "state": DocumentState.RENDERED.value,
            "blob_key": event.blob_key,
            "sha256": event.sha256,
            "pages": event.pages,
        }
    if isinstance(event, OutgoingDocument.RenderingFailed):
        return {"state": DocumentState.FAILED.value}
    if isinstance(event, OutgoingDocument.DeliveredToInbox):
        return {
            "state": DocumentState.IN_INBOX.value,
            "channel": "inbox",
            "delivered_to": event.citizen_account_id,
            "delivered_at": event.at,
        }
    if isinstance(event, OutgoingDocument.QueuedForPrint):
        return {
            "state": DocumentState.PRINT_QUEUED.value,
            "channel": "print",
            "print_reason": event.reason,
            "queued_at": event.at,
        }
    if isinstance(event, OutgoingDocument.Batched):
        return {"state": DocumentState.BATCHED.value, "batch_id": str(event.batch_id)}
    if isinstance(event, OutgoingDocument.Printed):
        return {"state": DocumentState.PRINTED.value, "printed_at": event.at}
    if isinstance(event, OutgoingDocument.Read):
        return {"read_at": event.at, "state": DocumentState.READ.value}
    if isinstance(event, OutgoingDocument.ReturnedUndeliverable):
        return {
            "state": DocumentState.RETURNED.value,
            "returned_reason": event.reason,
            "returned_at": event.at,
        }
    return None
