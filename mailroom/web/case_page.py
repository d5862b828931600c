"""What the case page (/faelle/{reference}) shows, prepared for its templates: the documents
of the viewer, the recognised texts with search hits, the timeline in German words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from mailroom import texts_de
from mailroom.services.workspace import CasePage
from mailroom.web.formatting import datum, datum_zeit
from mailroom.web.routes_documents import (
    THUMBNAIL_WIDTH,
    ZOOM_WIDTHS,
    original_url,
    page_url,
)
from mailroom.web.text_marks import mark_hits
from projections.case_rows import TimelineEntry
from projections.item_queries import ItemDetail
from projections.outgoing import OutgoingRow
from routing.catalog import Catalog, UnknownServiceError

DEFAULT_ZOOM = 600  # fits the document column at 1280 px and on a tablet
MAX_THUMBNAILS = 20
WARNING_KINDS = frozenset({"information_requested", "deadline_extended", "reopened"})
TEXT_KINDS = frozenset({"note"})


@dataclass(frozen=True)
class DocumentEntry:
    number: int  # 1-based, across every item of the case
    item_id: str
    item_reference: str
    index: int  # within the item (0-based, as the document routes take it)
    filename: str
    media_type: str
    pages: int
    received_at: datetime
    channel: str

    def page_url(self, page: int, width: int) -> str:
        return page_url(self.item_id, self.index, page, width)

    def thumbnail_url(self, page: int) -> str:
        return page_url(self.item_id, self.index, page, THUMBNAIL_WIDTH)

    @property
    def original_url(self) -> str:
        return original_url(self.item_id, self.index)

    @property
    def kind(self) -> str:
        if self.media_type == "application/pdf":
            return "PDF"
        return self.media_type.removeprefix("image/").upper()


@dataclass(frozen=True)
class Viewer:
    """The document and page on show; ``link`` gives this page's URL with one changed."""

    reference: str
    documents: tuple[DocumentEntry, ...]
    current: DocumentEntry | None
    page: int
    width: int
    query: dict[str, str] = field(default_factory=dict)

    zoom_widths = ZOOM_WIDTHS

    def link(self, **changes: object) -> str:
        params = dict(self.query)
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        query = urlencode(params)
        return f"/faelle/{self.reference}" + (f"?{query}" if query else "")

    @property
    def show_thumbnails(self) -> bool:
        return self.current is not None and 1 < self.current.pages <= MAX_THUMBNAILS


@dataclass(frozen=True)
class TextPage:
    label: str  # "Seite 2" (several documents: "brief.pdf, Seite 2"); "" for a single page
    marked: Markup
    hits: int
    document: int | None  # where the viewer shows this page (None: not known)
    page: int | None


@dataclass(frozen=True)
class ItemText:
    reference: str
    channel: str
    received_at: datetime
    pages: tuple[TextPage, ...]
    hits: int
    empty: bool


@dataclass(frozen=True)
class TimelineLine:
    title: str
    meta: str
    text: str
    modifier: str  # "" | "note" | "warning"


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def documents(page: CasePage) -> tuple[DocumentEntry, ...]:
    entries: list[DocumentEntry] = []
    for item in page.items:
        for index, document in enumerate(item.documents):
            entries.append(
                DocumentEntry(
                    number=len(entries) + 1,
                    item_id=item.item_id,
                    item_reference=item.reference,
                    index=index,
                    filename=document.filename or f"Dokument {len(entries) + 1}",
                    media_type=document.media_type,
                    pages=max(1, document.pages),
                    received_at=item.received_at,
                    channel=item.channel,
                )
            )
    return tuple(entries)


def viewer(
    page: CasePage,
    entries: tuple[DocumentEntry, ...],
    params: dict[str, str],
    texts: Sequence[ItemText] = (),
) -> Viewer:
    """The document and page asked for; without one, where the first search hit is."""
    first_hit = next((p for t in texts for p in t.pages if p.hits and p.document), None)
    if first_hit is not None and "dokument" not in params and "seite" not in params:
        params = {**params, "dokument": str(first_hit.document), "seite": str(first_hit.page)}
    number = _int(params.get("dokument"), 1)
    current = next((e for e in entries if e.number == number), entries[0] if entries else None)
    pages = current.pages if current else 1
    width = _int(params.get("breite"), DEFAULT_ZOOM)
    kept = {k: v for k, v in params.items() if k in ("q", "dokument", "seite", "breite") and v}
    return Viewer(
        reference=page.detail.case.reference,
        documents=entries,
        current=current,
        page=min(max(1, _int(params.get("seite"), 1)), pages),
        width=width if width in ZOOM_WIDTHS else DEFAULT_ZOOM,
        query=kept,
    )


def _page_places(item: ItemDetail, entries: tuple[DocumentEntry, ...]) -> list[DocumentEntry]:
    """For each page of the item's text (pages are separated by form feeds), its document."""
    places: list[DocumentEntry] = []
    for entry in entries:
        if entry.item_id == item.item_id:
            places += [entry] * entry.pages
    return places


def item_texts(
    items: tuple[ItemDetail, ...], entries: tuple[DocumentEntry, ...], terms: list[str]
) -> list[ItemText]:
    texts = []
    for item in items:
        segments = item.text.split("\f")
        places = _page_places(item, entries)
        known = len(places) == len(segments)
        several = len({p.number for p in places}) > 1
        pages: list[TextPage] = []
        for number, segment in enumerate(segments, start=1):
            marked, hits = mark_hits(segment.strip(), terms)
            entry = places[number - 1] if known else None
            page = number - places.index(entry) if entry is not None else None
            label = f"Seite {page or number}" if len(segments) > 1 else ""
            if several and entry is not None:
                label = f"{entry.filename}, {label}"
            document = entry.number if entry is not None else None
            pages.append(TextPage(label, marked, hits, document, page))
        hits = sum(p.hits for p in pages)
        empty = not item.text.strip()
        texts.append(
            ItemText(item.reference, item.channel, item.received_at, tuple(pages), hits, empty)
        )
    return texts


def _actor(entry: TimelineEntry) -> str:
    if entry.actor_name:
        return entry.actor_name
    if entry.actor_id is None or entry.actor_id.startswith("system:"):
        return "automatisch"
    if entry.actor_id.startswith("citizen:"):
        return "Bürger/in"
    return entry.actor_id


def _date(value: Any) -> str:
    try:
        return datum(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def timeline_line(
    entry: TimelineEntry, department_name: Any, item_references: dict[str, str]
) -> TimelineLine:
    """One entry in the German words of ``texts_de.TIMELINE`` (unknown kinds as their code)."""
    data = entry.data
    template = texts_de.TIMELINE.get(entry.kind, entry.kind)
    values = {
        "name": data.get("assignee_name") or _actor(entry),
        "department": department_name(str(data.get("department_id", ""))),
        "due": _date(data.get("due_on", "")),
        "days": data.get("days", ""),
        "reason": texts_de.label(texts_de.EXTENSION_REASONS, data.get("reason")),
        "outcome": texts_de.label(texts_de.OUTCOMES, data.get("outcome")),
    }
    title = template.format(**values)
    if entry.kind == "note" and (entry.actor_id or "").startswith("citizen:"):
        title = texts_de.CITIZEN_NOTE_TITLE  # written with the citizen's answer
    text = ""
    if entry.kind == "opened":
        text = f"Fachdienst {values['department']}, Frist bis {values['due']}"
    elif entry.kind == "item_attached":
        text = item_references.get(str(data.get("item_id")), "")
    elif entry.kind == "note":
        text = str(data.get("text", ""))
    elif entry.kind in ("reassigned", "deadline_extended"):
        text = str(data.get("note") or "")
    elif entry.kind == "information_requested":
        text = str(data.get("message", ""))
    elif entry.kind == "reopened":
        text = str(data.get("reason", ""))
    modifier = "note" if entry.kind in TEXT_KINDS else ""
    modifier = "warning" if entry.kind in WARNING_KINDS else modifier
    return TimelineLine(title, f"{datum_zeit(entry.at)} · {_actor(entry)}", text, modifier)


def timeline(
    page: CasePage, department_name: Any, letters: Iterable[OutgoingRow] = ()
) -> list[TimelineLine]:
    """Newest first; the case's letters (drafted, approved, delivered, read, printed,
    returned) among its own events."""
    references = {i.item_id: i.reference for i in page.items}
    lines = [
        (_aware(e.at), n, timeline_line(e, department_name, references))
        for n, e in enumerate(page.detail.timeline)
    ]
    lines += [(_aware(at), len(lines), line) for at, line in letter_lines(letters)]
    return [line for _, _, line in sorted(lines, key=lambda x: (x[0], x[1]), reverse=True)]


def letter_lines(letters: Iterable[OutgoingRow]) -> list[tuple[datetime, TimelineLine]]:
    lines = []
    for row in letters:
        steps = [
            ("drafted", row.drafted_at, row.drafted_by_name, ""),
            ("approved", row.approved_at, row.approved_by_name, ""),
            ("in_inbox", row.delivered_at, "", ""),  # set for Postfach deliveries only
            (
                "print_queued",
                row.queued_at,
                "",
                texts_de.label(texts_de.PRINT_REASONS, row.print_reason),
            ),
            ("printed", row.printed_at, "", ""),
            ("read", row.read_at, "", ""),
            (
                "returned",
                row.returned_at,
                "",
                texts_de.label(texts_de.RETURN_REASONS, row.returned_reason),
            ),
        ]
        for kind, at, who, text in steps:
            if at is None:
                continue
            title = texts_de.LETTER_TIMELINE[kind].format(title=row.title)
            meta = f"{datum_zeit(at)} · {who or 'automatisch'}"
            modifier = "warning" if kind == "returned" else ""
            lines.append((at, TimelineLine(title, meta, text, modifier)))
    return lines


def _aware(at: datetime) -> datetime:
    """SQLite gives the views' times back without their offset (they are stored in UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def service_name(catalog: Catalog, key: str | None) -> str:
    if not key:
        return ""
    try:
        return catalog.service(key).name
    except UnknownServiceError:
        return key
