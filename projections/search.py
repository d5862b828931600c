"""SearchProjection: full-text search over mail items, restricted to the departments a person
may see. One document per item — reference, case reference, subject, sender, and the text of
all its documents — with its department and case beside it, updated on reroute and attach.

The engine differs per database (the migration creates it; ``FULL_TEXT_OBJECTS`` names what
is not in the SQLAlchemy metadata):

- PostgreSQL: a generated ``document tsvector`` column (``german`` configuration: stemming,
  so "Anträge" finds "Antrag"; weights A reference, B subject and sender, D text) with a GIN
  index; ``websearch_to_tsquery`` parses the query, ``ts_rank`` orders, ``ts_headline``
  cuts the snippet.
- SQLite: an FTS5 table ``search_fts`` over ``search_documents`` (external content, kept in
  step by triggers; ``unicode61 remove_diacritics 2``: "Muller" finds "Müller"), queried with
  a quoted, prefix-matching expression (``projections.search_query``), ``bm25`` and
  ``snippet``.

Snippets are HTML: the text is escaped and only the hit markers become ``<mark>``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    text,
)

from aggregates.mail_item import MailItem
from projections.base import Projection
from projections.database import metadata
from projections.item_view import TEXT_LIMIT
from projections.rows import Rows
from projections.search_query import (
    HIT_START,
    HIT_STOP,
    clean_query,
    fts5_query,
    has_terms,
    highlight_terms,
)
from projections.view_support import (
    Bind,
    connection,
    dump,
    load,
    merge_document_text,
    utc,
    view_text,
)

search_documents = Table(
    "search_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(36), nullable=False, unique=True),
    Column("reference", String(40), nullable=False),
    Column("case_id", String(36)),
    Column("case_reference", String(60)),
    Column("department_id", String(100)),
    Column("subject", String(500), nullable=False),
    Column("sender", String(800), nullable=False),
    Column("body", Text, nullable=False),
    Column("text_parts", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("item_version", Integer, nullable=False),
    Index("ix_search_documents_department_id", "department_id"),
)

FTS_TABLE = "search_fts"
FULL_TEXT_OBJECTS = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")),
        "search_documents.document",  # PostgreSQL: the generated tsvector column
        "ix_search_documents_document",  # PostgreSQL: its GIN index
    }
)
"""Database objects of the full-text engines that the migration creates outside the
SQLAlchemy metadata (the schema comparison leaves them out)."""


def is_full_text_object(name: str | None, type_: str, table: str | None = None) -> bool:
    if name is None:
        return False
    qualified = f"{table}.{name}" if type_ == "column" and table else name
    return qualified in FULL_TEXT_OBJECTS


@dataclass(frozen=True)
class SearchHit:
    item_id: str
    reference: str
    case_id: str | None
    case_reference: str | None
    department_id: str | None
    subject: str
    snippet_html: str
    rank: float


def _searchable(value: str | None, limit: int) -> str:
    cleaned = view_text(value or "", limit) or ""
    return cleaned.replace(HIT_START, " ").replace(HIT_STOP, " ")


class SearchProjection(Projection):
    name = "search"
    tables = (search_documents,)
    key = search_documents.c.item_id
    topics = tuple(
        get_topic(cls)
        for cls in (
            MailItem.Received,
            MailItem.TextExtracted,
            MailItem.Routed,
            MailItem.Rerouted,
            MailItem.AttachedToCase,
        )
    )

    def apply(self, rows: Rows, event: Any) -> None:
        item_id = str(event.originator_id)
        version = event.originator_version
        if isinstance(event, MailItem.Received):
            rows.insert(search_documents.c.item_id, _received(item_id, event))
            return
        current = rows.get(search_documents.c.item_id, item_id)
        if current is None or current["item_version"] >= version:
            return
        changes: dict[str, Any] = {}
        if isinstance(event, MailItem.TextExtracted):
            pages = "\f".join(_searchable(p.text, TEXT_LIMIT) for p in event.pages)
            parts = [(key, length) for key, length in load(current["text_parts"], [])]
            body, merged = merge_document_text(
                current["body"], parts, event.blob_key, pages, TEXT_LIMIT
            )
            changes = {"body": body, "text_parts": dump(merged)}
        elif isinstance(event, MailItem.Routed | MailItem.Rerouted):
            changes = {"department_id": event.department_id}
        elif isinstance(event, MailItem.AttachedToCase):
            changes = {"case_id": str(event.case_id), "case_reference": event.case_reference}
        rows.update(search_documents.c.item_id, item_id, {"item_version": version, **changes})


def _received(item_id: str, event: Any) -> dict[str, Any]:
    submission = event.submission
    sender = ""
    if submission is not None:
        applicant = submission.applicant
        sender = " ".join(p for p in (applicant.name, applicant.address or "") if p)
    return {
        "item_id": item_id,
        "reference": event.reference,
        "subject": _searchable(submission.subject if submission else "", 500),
        "sender": _searchable(sender, 800),
        "body": "",
        "text_parts": dump([(d.blob_key, None) for d in event.documents]),
        "received_at": utc(event.received_at),
        "item_version": event.originator_version,
    }


# -- the query ---------------------------------------------------------------------------------


def snippet_html(raw: str | None) -> str:
    """Escape a snippet and turn the hit markers (and only them) into ``<mark>``."""
    escaped = html.escape(raw or "", quote=True)
    return escaped.replace(HIT_START, "<mark>").replace(HIT_STOP, "</mark>")


def search(
    bind: Bind, q: str, departments: set[str] | frozenset[str] | None, limit: int = 50
) -> list[SearchHit]:
    """Items matching ``q``, best first; ``departments`` None: every item (also those not
    routed yet), else only items of these departments. Never raises on odd input."""
    if not has_terms(q) or (departments is not None and not departments):
        return []
    limit = max(1, min(limit, 500))
    with connection(bind) as conn:
        if conn.dialect.name == "postgresql":
            rows = _postgres(conn, clean_query(q), departments, limit)
        else:
            expression = fts5_query(q)
            rows = [] if expression is None else _sqlite(conn, expression, departments, limit)
    return [
        SearchHit(
            item_id=r["item_id"],
            reference=r["reference"],
            case_id=r["case_id"],
            case_reference=r["case_reference"],
            department_id=r["department_id"],
            subject=r["subject"],
            snippet_html=snippet_html(r["snippet"]),
            rank=float(r["rank"]),
        )
        for r in rows
    ]


RANKED_CANDIDATES = 5_000
"""PostgreSQL ranks at most this many matches (ts_rank reads each one's tsvector): a query
matching more items shows the best of the first 5000 found, not of all of them."""
SNIPPET_SOURCE = 20_000  # characters ts_headline reads per hit (it parses all it is given)
_HEADLINE = (
    f'StartSel="{HIT_START}", StopSel="{HIT_STOP}", MaxWords=30, MinWords=12, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)


def _permission(departments: set[str] | frozenset[str] | None) -> tuple[str, dict[str, Any]]:
    if departments is None:
        return "", {}
    return " AND d.department_id IN :departments", {"departments": sorted(departments)}


def _postgres(
    conn: Connection, q: str, departments: set[str] | frozenset[str] | None, limit: int
) -> list[Any]:
    where, params = _permission(departments)
    statement = text(  # only our own names and bound parameters
        "WITH matched AS MATERIALIZED ("  # noqa: S608
        " SELECT d.item_id, d.reference, d.case_id, d.case_reference, d.department_id,"
        " d.subject, d.body, d.received_at, d.document, tsq"
        " FROM search_documents d, websearch_to_tsquery('german', :q) tsq"
        f" WHERE d.document @@ tsq{where} LIMIT :candidates"
        "), best AS ("
        " SELECT *, ts_rank(document, tsq) AS rank FROM matched"
        " ORDER BY rank DESC, received_at DESC, item_id LIMIT :limit"
        ") SELECT item_id, reference, case_id, case_reference, department_id, subject, rank,"
        " ts_headline('german', subject || E'\\n' || left(body, :snippet_source), tsq,"
        " :headline) AS snippet"
        " FROM best ORDER BY rank DESC, received_at DESC, item_id"
    )
    if departments is not None:
        statement = statement.bindparams(bindparam("departments", expanding=True))
    values = {
        "q": q,
        "headline": _HEADLINE,
        "limit": limit,
        "snippet_source": SNIPPET_SOURCE,
        "candidates": RANKED_CANDIDATES,
    }
    values.update(params)
    return list(conn.execute(statement, values).mappings())


def _sqlite(
    conn: Connection, expression: str, departments: set[str] | frozenset[str] | None, limit: int
) -> list[Any]:
    where, params = _permission(departments)
    statement = text(  # only our own names and bound parameters
        "SELECT d.item_id, d.reference, d.case_id, d.case_reference, d.department_id,"  # noqa: S608
        f" d.subject, snippet({FTS_TABLE}, -1, :start, :stop, ' … ', 24) AS snippet,"
        f" -bm25({FTS_TABLE}, 10.0, 10.0, 5.0, 5.0, 1.0) AS rank"
        f" FROM {FTS_TABLE} JOIN search_documents d ON d.id = {FTS_TABLE}.rowid"
        f" WHERE {FTS_TABLE} MATCH :expression{where}"
        " ORDER BY rank DESC, d.received_at DESC, d.item_id LIMIT :limit"
    )
    if departments is not None:
        statement = statement.bindparams(bindparam("departments", expanding=True))
    values = {
        "expression": expression,
        "start": HIT_START,
        "stop": HIT_STOP,
        "limit": limit,
        **params,
    }
    return list(conn.execute(statement, values).mappings())


__all__ = [
    "FULL_TEXT_OBJECTS",
    "SearchHit",
    "SearchProjection",
    "highlight_terms",
    "is_full_text_object",
    "search",
    "search_documents",
    "snippet_html",
]
