"""What the triage page shows, prepared for its templates: the queue, the current item with
its page images, why it is here, the router's candidates and the neighbours for j/k."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailroom import texts_de
from mailroom.web.routes_documents import original_url, page_url
from projections.item_queries import ItemDetail, ItemPage

MAX_PAGES_SHOWN = 10  # more pages: the original is one click away
IMAGE_WIDTH = 900  # scaled down to the column; sharp enough to read a letter


@dataclass(frozen=True)
class Candidate:
    key: str  # the keyboard key: "1", "2", "3"
    department_id: str
    name: str
    confidence: float


@dataclass(frozen=True)
class PageImage:
    url: str
    alt: str
    lazy: bool


@dataclass(frozen=True)
class Original:
    url: str
    filename: str
    pages: int


@dataclass(frozen=True)
class Neighbours:
    previous: str | None  # URL of the item before the current one, if any
    next: str | None
    next_id: str  # the item to show after an action ("" = the oldest)


def _short_reason(code: str | None) -> str:
    return texts_de.triage_reason(code).split(" – ")[0]


def quality_notes(item: ItemDetail) -> list[str]:
    notes = [texts_de.quality_issue(i.code, i.page) for i in item.quality_issues]
    notes += [texts_de.extraction_failure(f.code) for f in item.extraction_failures]
    return list(dict.fromkeys(notes))


def technical_notes(item: ItemDetail) -> list[str]:
    """What the router said (its own, English words), for whoever wants to know why."""
    notes = []
    if item.triage_detail and item.triage_code != "rescan":
        notes.append(item.triage_detail)
    if item.routing_explanation:
        notes.append(item.routing_explanation)
    notes += list(item.warnings)
    return notes


def page_images(item: ItemDetail) -> tuple[list[PageImage], list[Original], int]:
    images: list[PageImage] = []
    originals: list[Original] = []
    hidden = 0
    several = len(item.documents) > 1
    for index, document in enumerate(item.documents):
        name = document.filename or f"Dokument {index + 1}"
        pages = max(1, document.pages)
        originals.append(Original(original_url(item.item_id, index), name, pages))
        for page in range(1, pages + 1):
            if len(images) >= MAX_PAGES_SHOWN:
                hidden += 1
                continue
            alt = f"Seite {page} von {pages}" + (f" ({name})" if several else "")
            url = page_url(item.item_id, index, page, IMAGE_WIDTH)
            images.append(PageImage(url, f"Scan: {alt}", lazy=bool(images)))
    return images, originals, hidden


def neighbours(queue: ItemPage, current: ItemDetail | None, ab: str, triage_url: Any) -> Neighbours:
    ids = [row.item_id for row in queue.rows]
    if current is None or current.item_id not in ids:
        return Neighbours(None, None, "")
    position = ids.index(current.item_id)
    previous = triage_url(ids[position - 1], ab) if position > 0 else None
    if position + 1 < len(ids):
        following = ids[position + 1]
        return Neighbours(previous, triage_url(following, ab), following)
    later = triage_url(None, queue.next_cursor) if queue.next_cursor else None
    return Neighbours(previous, later, "")


def context(
    mailroom: Any, queue: ItemPage, current: ItemDetail | None, ab: str, triage_url: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "queue": queue,
        "rows": [(row, _short_reason(row.triage_code)) for row in queue.rows],
        "current": current,
        "ab": ab,
        "departments": [(d.id, d.name) for d in mailroom.catalog.departments],
        "channels": texts_de.CHANNELS,
        "neighbours": neighbours(queue, current, ab, triage_url),
        "triage_url": triage_url,
    }
    if current is None:
        return values
    images, originals, hidden = page_images(current)
    values.update(
        reason=texts_de.triage_reason(current.triage_code),
        quality=quality_notes(current),
        technical=technical_notes(current),
        candidates=[
            Candidate(
                str(n), c.department_id, mailroom.department_name(c.department_id), c.confidence
            )
            for n, c in enumerate(current.candidates[:3], start=1)
        ],
        images=images,
        originals=originals,
        hidden_pages=hidden,
    )
    return values
