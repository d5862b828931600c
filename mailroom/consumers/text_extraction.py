"""Reads every document of a new mail item through the OCR library and records
TextExtracted (with per-page confidence, quality issues and a searchable PDF) or
ExtractionFailed (with a code the UI turns into words).

Two lanes keep a large item from holding up ordinary letters: ``ocr`` reads items of up to
``bulk_pages`` pages, ``ocr-bulk`` the larger ones. Each lane is its own consumer with its
own position, so a 60-page stack being read does not stop the one-page letter behind it;
in one process both lanes share the engine, whose page pool serves the normal lane first.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates.mail_item import MailItem
from aggregates.safe_text import strip_forbidden
from aggregates.values import PageText, QualityIssue
from mailroom.application import MailroomApp
from mailroom.consumers.base import EventRecordingConsumer, Failure
from mailroom.logs import annotate
from mailroom.metrics import OCR_PAGE_SECONDS
from mailroom.ports import BlobNotFoundError, BlobStore
from ocr import OcrEngine, OcrError, OcrResult

log = logging.getLogger(__name__)

PROCESSING_FAILED = "processing_failed"


@dataclass(frozen=True)
class Lane:
    name: str
    takes: Callable[[int], bool]  # by the item's page count
    priority: int  # lower is served first by a shared engine
    # Count attempts before they start. Reading runs in the engine's child processes, so a
    # letter rarely takes this process down; a large stack might (memory), and for it two
    # extra writes are nothing beside minutes of reading.
    count_ahead: bool


def lanes(bulk_pages: int) -> tuple[Lane, Lane]:
    return (
        Lane("ocr", lambda pages: pages <= bulk_pages, priority=0, count_ahead=False),
        Lane("ocr-bulk", lambda pages: pages > bulk_pages, priority=1, count_ahead=True),
    )


class SharedEngine:
    """One OCR engine per process, started on first use (processes that never read a
    document start no pool), shared by the lanes."""

    def __init__(self, make_engine: Callable[[], OcrEngine]) -> None:
        self._make_engine = make_engine
        self._engine: OcrEngine | None = None
        self._lock = threading.Lock()

    def get(self) -> OcrEngine:
        with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


class TextExtractionConsumer(EventRecordingConsumer):
    topics: tuple[str, ...] = (get_topic(MailItem.Received),)
    slow_events = True  # reading a letter of many pages takes minutes

    def __init__(
        self,
        app: MailroomApp,
        blobs: BlobStore,
        engine: SharedEngine,
        lane: Lane,
        scratch: Callable[[], Path],
    ) -> None:
        super().__init__(app)
        self.blobs = blobs
        self.engine = engine
        self.lane = lane
        self.name = lane.name
        self.scratch = scratch  # a directory of this process for searchable PDFs on their way

    def _takes(self, event: Any) -> bool:
        return bool(event.documents) and self.lane.takes(sum(d.pages for d in event.documents))

    def persist_attempts(self, event: Any) -> bool:
        return self.lane.count_ahead and self._takes(event)

    def process(self, event: Any, tracking: Tracking) -> bool:
        own = self.own_tracking(tracking)
        if own is None or not self._takes(event):
            return False
        item = self.app.get_item(event.originator_id)
        annotate(item_id=item.id, reference=item.reference)
        unread = _unread(item)
        if not unread:
            return False  # read before (e.g. an event published twice)
        for blob_key in unread:
            searchable = self.scratch() / f"searchable-{uuid.uuid4().hex}.pdf"
            try:
                started = time.perf_counter()
                result = self._read(blob_key, searchable)
                _observe(result, time.perf_counter() - started)
                self._record(item, blob_key, result)
            except BlobNotFoundError:
                log.warning("document %s is missing from the blob store", blob_key)
                item.record_extraction_failure(blob_key, "blob_missing", blob_key)
            except OcrError as exc:
                log.info("document %s could not be read: %s", blob_key, exc.code)
                item.record_extraction_failure(blob_key, exc.code, exc.reason)
            finally:
                searchable.unlink(missing_ok=True)
        return self.save(own, item)

    def _read(self, blob_key: str, searchable: Path) -> OcrResult:
        """Stream the blob into the engine and the searchable PDF out to a file: a 100 MB
        scan is never held in this process's memory."""
        with self.blobs.open(blob_key) as stream:
            return self.engine.get().read(
                stream, priority=self.lane.priority, searchable_pdf_to=searchable
            )

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        """Reading kept failing: every unread document is recorded as failed, so the
        router sends the item to triage ("Text konnte nicht gelesen werden")."""
        own = self.own_tracking(tracking)
        if own is None:
            return True
        item = self.app.get_item(event.originator_id)
        annotate(item_id=item.id, reference=item.reference)
        for blob_key in _unread(item):
            item.record_extraction_failure(blob_key, PROCESSING_FAILED, failure.detail)
        self.save(own, item)
        return True

    def _record(self, item: MailItem, blob_key: str, result: OcrResult) -> None:
        searchable_key = None
        if result.searchable_pdf_path is not None:
            searchable_key = self.blobs.put_file(result.searchable_pdf_path, "application/pdf").key
        item.record_text(
            blob_key,
            method=result.method,
            pages=[
                PageText(
                    number=p.number,
                    text=strip_forbidden(p.text),  # a text layer may hold NUL and the like
                    confidence=round(p.confidence, 1),
                    method=p.method,
                    rotation=p.rotation,
                )
                for p in result.pages
            ],
            searchable_pdf_key=searchable_key,
            # codes only: the words come from mailroom.texts_de at display time
            quality_issues=[QualityIssue(f.code, "", f.page) for f in result.flags],
            # QR codes (our letters carry their case reference): the router attaches by them
            codes=list(dict.fromkeys(c for p in result.pages for c in p.codes)),
        )


def _observe(result: OcrResult, seconds: float) -> None:
    for page in result.pages:  # the document's time shared by its pages
        OCR_PAGE_SECONDS.labels(page.method).observe(seconds / len(result.pages))
    log.info(
        "document read: %s page(s) by %s in %.2f s",
        len(result.pages),
        result.method,
        seconds,
        extra={"pages": len(result.pages), "method": result.method, "seconds": round(seconds, 3)},
    )


def _unread(item: MailItem) -> list[str]:
    keys = dict.fromkeys(d.blob_key for d in item.documents)  # the same file twice: once
    return [k for k in keys if k not in item.texts and k not in item.extraction_failures]
