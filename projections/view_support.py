"""Small helpers the clerk-workspace views share: local dates, UTC datetimes, JSON columns,
opaque keyset cursors, index-friendly "distinct" scans and per-document text assembly."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Connection, Engine, text

from aggregates.safe_text import view_text as _checked_view_text

LOCAL_ZONE = ZoneInfo("Europe/Berlin")
"""Where the offices are: an event's moment becomes a date (for deadlines, statistics) here."""

Bind = Connection | Engine


class InvalidCursorError(ValueError):
    """A paging cursor that this query did not hand out (or for another sort order)."""


_REMOVED = re.compile(
    "[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)
"""The characters ``aggregates.safe_text.view_text`` removes: control characters but tab, line
and form feed (category Cc), lone surrogates (Cs) and the non-characters."""


def view_text(value: str | None, max_length: int) -> str | None:
    """``aggregates.safe_text.view_text``: text storable in a view column, at most
    ``max_length`` long — with one regular-expression search instead of a look at each
    character when there is nothing to remove (nearly always)."""
    if value is None:
        return None
    if _REMOVED.search(value) is None:
        return value[:max_length]
    return _checked_view_text(value, max_length)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive value is taken to be UTC already, as SQLite returns it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def maybe_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def local_date(moment: datetime) -> date:
    """The office's calendar date of ``moment``."""
    return utc(moment).astimezone(LOCAL_ZONE).date()


def local_midnight(day: date) -> datetime:
    """The UTC moment the office's ``day`` begins."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_ZONE).astimezone(UTC)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # made once, not per call


def dump(value: Any) -> str:
    return _ENCODER.encode(value)


def load(value: str | None, default: Any = None) -> Any:
    return default if value is None or value == "" else json.loads(value)


# -- cursors ---------------------------------------------------------------------------------


def encode_cursor(kind: str, *values: str) -> str:
    raw = dump([kind, *values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, size: int) -> list[str]:
    """The values of a cursor made by ``encode_cursor(kind, ...)`` with ``size`` values."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError("malformed cursor") from exc
    if (
        not isinstance(values, list)
        or len(values) != size + 1
        or values[0] != kind
        or not all(isinstance(v, str) for v in values)
    ):
        raise InvalidCursorError(f"not a {kind} cursor")
    return values[1:]


# -- index-backed distinct values ------------------------------------------------------------


@contextmanager
def connection(bind: Bind) -> Iterator[Connection]:
    """A given Connection as it is, or a connection of an Engine for the block."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    else:
        yield bind


def distinct_values(conn: Connection, column: Column[Any]) -> list[str]:
    """The distinct non-null values of an indexed leading column, by a loose index scan
    (one index probe per value), so it stays fast however many rows the table holds."""
    table, name = column.table.name, column.name
    statement = text(
        f"WITH RECURSIVE d(v) AS ("  # noqa: S608 - table and column names are our own
        f" SELECT min({name}) FROM {table}"
        f" UNION ALL SELECT (SELECT min({name}) FROM {table} WHERE {name} > d.v)"
        f" FROM d WHERE d.v IS NOT NULL"
        f") SELECT v FROM d WHERE v IS NOT NULL"
    )
    return [str(row[0]) for row in conn.execute(statement)]


# -- an item's text, document by document ------------------------------------------------------

PAGE_BREAK = "\f"


def merge_document_text(
    current: str, parts: Sequence[tuple[str, int | None]], blob_key: str, new: str, cap: int
) -> tuple[str, list[tuple[str, int | None]]]:
    """Put one document's text into an item's text, keeping document order.

    ``parts`` lists every document of the item in order with the length of its text inside
    ``current`` (None: not read yet); documents are joined by a page break, as
    ``MailItem.text`` does. A document read again replaces its earlier text. The result is at
    most ``cap`` characters: later documents are cut first.
    """
    segments: dict[str, str] = {}
    position = 0
    for key, length in parts:
        if length is None:
            continue
        segments[key] = current[position : position + length]
        position += length + len(PAGE_BREAK)
    segments[blob_key] = new
    order = [key for key, _ in parts]
    if blob_key not in order:
        order.append(blob_key)
    budget = cap
    pieces: list[str] = []
    merged: list[tuple[str, int | None]] = []
    for key in order:
        if key not in segments:
            merged.append((key, None))
            continue
        if pieces:
            if budget < len(PAGE_BREAK):
                merged.append((key, None))
                continue
            budget -= len(PAGE_BREAK)
        piece = segments[key][: max(0, budget)]
        budget -= len(piece)
        pieces.append(piece)
        merged.append((key, len(piece)))
    return PAGE_BREAK.join(pieces), merged
