"""Queries of the item view: the triage queue (oldest first, keyset paging), one item, the
items of a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import literal, or_, select, tuple_

from projections.item_view import SUMMARY_COLUMNS, item_view
from projections.view_support import (
    Bind,
    InvalidCursorError,
    connection,
    decode_cursor,
    encode_cursor,
    load,
    maybe_utc,
    utc,
)


@dataclass(frozen=True)
class DocumentInfo:
    blob_key: str
    filename: str | None
    media_type: str
    pages: int
    searchable_pdf_key: str | None
    method: str | None  # how its text was read ("text-layer" | "ocr"); None: not yet
    min_confidence: float | None


@dataclass(frozen=True)
class QualityIssueInfo:
    code: str
    page: int | None
    blob_key: str


@dataclass(frozen=True)
class FailureInfo:
    blob_key: str
    code: str


@dataclass(frozen=True)
class CandidateInfo:
    department_id: str
    confidence: float


@dataclass(frozen=True)
class ItemSummary:
    item_id: str
    reference: str
    channel: str
    status: str
    received_at: datetime
    received_on: date
    department_id: str | None
    case_id: str | None
    case_reference: str | None
    subject: str
    sender_name: str
    sender_address: str
    documents: tuple[DocumentInfo, ...]
    min_confidence: float | None
    quality_issues: tuple[QualityIssueInfo, ...]
    extraction_failures: tuple[FailureInfo, ...]
    triage_code: str | None
    triage_detail: str | None
    candidates: tuple[CandidateInfo, ...]
    warnings: tuple[str, ...]
    misdirected: bool
    addressee: str | None
    decision_note: str | None
    decided_by: str | None
    decided_at: datetime | None
    routing_method: str | None
    routing_confidence: float | None
    routing_explanation: str | None
    rerouted: bool
    item_version: int


@dataclass(frozen=True)
class ItemDetail(ItemSummary):
    text: str = ""


@dataclass(frozen=True)
class ItemPage:
    rows: tuple[ItemSummary, ...]
    next_cursor: str | None


def _summary_values(row: Any) -> dict[str, Any]:
    values = {c.name: row[c.name] for c in SUMMARY_COLUMNS}
    values["received_at"] = utc(values["received_at"])
    values["decided_at"] = maybe_utc(values["decided_at"])
    values["misdirected"] = bool(values["misdirected"])
    values["rerouted"] = bool(values["rerouted"])
    values["documents"] = tuple(
        DocumentInfo(
            blob_key=d["blob_key"],
            filename=d["filename"],
            media_type=d["media_type"],
            pages=d["pages"],
            searchable_pdf_key=d["searchable_pdf_key"],
            method=d["method"],
            min_confidence=d["min_confidence"],
        )
        for d in load(values["documents"], [])
    )
    values["quality_issues"] = tuple(
        QualityIssueInfo(i["code"], i["page"], i["blob_key"])
        for i in load(values["quality_issues"], [])
    )
    values["extraction_failures"] = tuple(
        FailureInfo(f["blob_key"], f["code"]) for f in load(values["extraction_failures"], [])
    )
    values["candidates"] = tuple(
        CandidateInfo(c["department_id"], c["confidence"]) for c in load(values["candidates"], [])
    )
    values["warnings"] = tuple(load(values["warnings"], []))
    return values


def item_summary(row: Any) -> ItemSummary:
    return ItemSummary(**_summary_values(row))


def triage_queue(bind: Bind, after: str | None = None, limit: int = 50) -> ItemPage:
    """Items waiting in triage, oldest first; ``after`` is a previous page's ``next_cursor``."""
    limit = max(1, min(limit, 1000))
    statement = select(*SUMMARY_COLUMNS).where(item_view.c.status == "triage")
    if after:
        received, item_id = decode_cursor(after, "triage", 2)
        try:
            moment = utc(datetime.fromisoformat(received))
        except ValueError as exc:
            raise InvalidCursorError("malformed cursor") from exc
        key = tuple_(item_view.c.received_at, item_view.c.item_id)
        statement = statement.where(
            key > tuple_(literal(moment, item_view.c.received_at.type), literal(item_id))
        )
    statement = statement.order_by(item_view.c.received_at, item_view.c.item_id).limit(limit + 1)
    with connection(bind) as conn:
        rows = [item_summary(r) for r in conn.execute(statement).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if more and rows:
        cursor = encode_cursor("triage", rows[-1].received_at.isoformat(), rows[-1].item_id)
    return ItemPage(tuple(rows), cursor)


def item_detail(bind: Bind, item_id_or_reference: str) -> ItemDetail | None:
    statement = select(item_view).where(
        or_(
            item_view.c.item_id == item_id_or_reference,
            item_view.c.reference == item_id_or_reference,
        )
    )
    with connection(bind) as conn:
        row = conn.execute(statement).mappings().first()
    if row is None:
        return None
    return ItemDetail(**_summary_values(row), text=row["text"])


def items_of_case(bind: Bind, case_id: str) -> tuple[ItemSummary, ...]:
    """The items attached to a case, in the order they arrived."""
    statement = (
        select(*SUMMARY_COLUMNS)
        .where(item_view.c.case_id == case_id)
        .order_by(item_view.c.received_at, item_view.c.item_id)
    )
    with connection(bind) as conn:
        return tuple(item_summary(r) for r in conn.execute(statement).mappings())
