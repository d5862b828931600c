"""ItemViewProjection: every mail item as clerks and the mailroom see it — documents, text,
reading quality, routing and triage — plus the triage queue and the item page.

Codes only (triage reason, quality issue, failure codes): the German words come from
``mailroom.texts_de`` when shown. ``text`` is the text of all documents in document order,
pages separated by form feeds (like ``MailItem.text``), at most ``TEXT_LIMIT`` characters.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Boolean, Column, Date, DateTime, Float, Index, Integer, String, Table, Text

from aggregates.mail_item import MailItem
from aggregates.safe_text import safe_filename
from projections.base import Projection
from projections.database import metadata
from projections.rows import Rows
from projections.view_support import (
    dump,
    load,
    local_date,
    merge_document_text,
    utc,
    view_text,
)

TEXT_LIMIT = 200_000

item_view = Table(
    "item_view",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("channel", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("department_id", String(100)),
    Column("case_id", String(36)),
    Column("case_reference", String(60)),
    Column("subject", String(500), nullable=False),
    Column("sender_name", String(300), nullable=False),
    Column("sender_address", String(500), nullable=False),
    Column("documents", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("min_confidence", Float),
    Column("quality_issues", Text, nullable=False),
    Column("extraction_failures", Text, nullable=False),
    Column("triage_code", String(40)),
    Column("triage_detail", Text),
    Column("candidates", Text, nullable=False),
    Column("warnings", Text, nullable=False),
    Column("misdirected", Boolean, nullable=False),
    Column("addressee", String(300)),
    Column("decision_note", Text),
    Column("decided_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("routing_method", String(40)),
    Column("routing_confidence", Float),
    Column("routing_explanation", Text),
    Column("rerouted", Boolean, nullable=False),
    Column("item_version", Integer, nullable=False),
    Index("ix_item_view_triage", "status", "received_at", "item_id"),
    Index("ix_item_view_intake", "department_id", "received_on", "channel"),
    Index("ix_item_view_received_on", "received_on", "channel"),
    Index("ix_item_view_case_id", "case_id"),
)

SUMMARY_COLUMNS = tuple(c for c in item_view.c if c.name != "text")


class ItemViewProjection(Projection):
    name = "items"
    tables = (item_view,)
    key = item_view.c.item_id
    topics = tuple(
        get_topic(cls)
        for cls in (
            MailItem.Received,
            MailItem.TextExtracted,
            MailItem.ExtractionFailed,
            MailItem.Routed,
            MailItem.SentToTriage,
            MailItem.Rerouted,
            MailItem.AttachedToCase,
            MailItem.MarkedMisdirected,
            MailItem.RescanRequested,
        )
    )

    def apply(self, rows: Rows, event: Any) -> None:
        item_id = str(event.originator_id)
        version = event.originator_version
        if isinstance(event, MailItem.Received):
            rows.insert(item_view.c.item_id, received_row(item_id, event))
            return
        current = rows.get(item_view.c.item_id, item_id)
        if current is None or current["item_version"] >= version:
            return  # not received yet in this view, or already applied (a redelivery)
        changes = _changes(current, event)
        rows.update(item_view.c.item_id, item_id, {"item_version": version, **changes})


def received_row(item_id: str, event: Any) -> dict[str, Any]:
    submission = event.submission
    applicant = submission.applicant if submission else None
    documents = [
        {
            "blob_key": d.blob_key,
            "filename": safe_filename(d.filename),
            "media_type": d.media_type,
            "pages": d.pages,
            "searchable_pdf_key": None,
            "method": None,
            "min_confidence": None,
            "text_chars": None,
        }
        for d in event.documents
    ]
    received_at = utc(event.received_at)
    return {
        "item_id": item_id,
        "reference": event.reference,
        "channel": event.channel,
        "status": "received",
        "received_at": received_at,
        "received_on": local_date(received_at),
        "subject": view_text(submission.subject, 500) if submission else "",
        "sender_name": view_text(applicant.name, 300) if applicant else "",
        "sender_address": view_text(applicant.address or "", 500) if applicant else "",
        "documents": dump(documents),
        "text": "",
        "min_confidence": None,
        "quality_issues": "[]",
        "extraction_failures": "[]",
        "candidates": "[]",
        "warnings": "[]",
        "misdirected": False,
        "rerouted": False,
        "item_version": event.originator_version,
    }


def _changes(current: Any, event: Any) -> dict[str, Any]:
    if isinstance(event, MailItem.TextExtracted):
        return _text_changes(current, event)
    if isinstance(event, MailItem.ExtractionFailed):
        failures = [
            f for f in load(current["extraction_failures"], []) if f["blob_key"] != event.blob_key
        ]
        failures.append({"blob_key": event.blob_key, "code": event.code})
        return {"extraction_failures": dump(failures)}
    if isinstance(event, MailItem.Routed):
        return {
            "status": "routed",
            "department_id": event.department_id,
            "routing_method": event.method,
            "routing_confidence": float(event.confidence),
            "routing_explanation": view_text(event.explanation, 4000),
        }
    if isinstance(event, MailItem.SentToTriage):
        return {
            "status": "triage",
            "triage_code": event.code,
            "triage_detail": view_text(event.detail, 4000),
            "candidates": dump(
                [
                    {"department_id": c.department_id, "confidence": c.confidence}
                    for c in event.candidates
                ]
            ),
            "warnings": dump([view_text(w, 500) for w in event.warnings]),
            "misdirected": bool(event.misdirected),
        }
    if isinstance(event, MailItem.Rerouted):
        return {"status": "routed", "department_id": event.department_id, "rerouted": True}
    if isinstance(event, MailItem.AttachedToCase):
        return {"case_id": str(event.case_id), "case_reference": event.case_reference}
    if isinstance(event, MailItem.MarkedMisdirected | MailItem.RescanRequested):
        misdirected = isinstance(event, MailItem.MarkedMisdirected)
        addressee = getattr(event, "addressee", None)
        return {
            "status": "misdirected" if misdirected else "rescan",
            "misdirected": misdirected or current["misdirected"],
            "addressee": view_text(addressee, 300),
            "decision_note": view_text(event.note, 4000),
            "decided_by": event.by,
            "decided_at": utc(event.at),
        }
    raise TypeError(f"unexpected event {type(event).__qualname__}")


def _text_changes(current: Any, event: Any) -> dict[str, Any]:
    documents = load(current["documents"], [])
    pages = "\f".join(view_text(p.text, TEXT_LIMIT) or "" for p in event.pages)
    parts = [(d["blob_key"], d["text_chars"]) for d in documents]
    text, merged = merge_document_text(current["text"], parts, event.blob_key, pages, TEXT_LIMIT)
    lengths = dict(merged)
    confidences = [float(p.confidence) for p in event.pages]
    for d in documents:
        d["text_chars"] = lengths.get(d["blob_key"])
        if d["blob_key"] == event.blob_key:
            d["method"] = event.method
            d["searchable_pdf_key"] = event.searchable_pdf_key
            d["min_confidence"] = min(confidences) if confidences else None
    lows = [d["min_confidence"] for d in documents if d["min_confidence"] is not None]
    issues = [i for i in load(current["quality_issues"], []) if i["blob_key"] != event.blob_key]
    issues += [
        {"code": q.code, "page": q.page, "blob_key": event.blob_key} for q in event.quality_issues
    ]
    failures = [
        f for f in load(current["extraction_failures"], []) if f["blob_key"] != event.blob_key
    ]
    return {
        "documents": dump(documents),
        "text": text,
        "min_confidence": min(lows) if lows else None,
        "quality_issues": dump(issues),
        "extraction_failures": dump(failures),
    }
