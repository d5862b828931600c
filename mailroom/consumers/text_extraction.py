"""Reads every document of a new mail item through the OCR library and records
TextExtracted (with per-page confidence, quality issues and a searchable PDF) or
ExtractionFailed (with a reason a clerk understands)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates.mail_item import MailItem
from aggregates.values import PageText, QualityIssue
from mailroom.application import MailroomApp
from mailroom.consumers.base import EventRecordingConsumer
from mailroom.ports import BlobStore
from ocr import OcrEngine, OcrError, OcrResult


class TextExtractionConsumer(EventRecordingConsumer):
    name = "ocr"
    topics: tuple[str, ...] = (get_topic(MailItem.Received),)

    def __init__(
        self, app: MailroomApp, blobs: BlobStore, make_engine: Callable[[], OcrEngine]
    ) -> None:
        super().__init__(app)
        self.blobs = blobs
        self._make_engine = make_engine
        self._engine: OcrEngine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> OcrEngine:
        """Started on first use: processes that never read a document start no pool."""
        with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def process(self, event: Any, tracking: Tracking) -> bool:
        own = self.own_tracking(tracking)
        if own is None or not event.documents:
            return False
        item = self.app.get_item(event.originator_id)
        unread = [
            d
            for d in item.documents
            if d.blob_key not in item.texts and d.blob_key not in item.extraction_failures
        ]
        if not unread:
            return False  # read before (e.g. an event published twice)
        for document in unread:
            try:
                result = self.engine.read(self.blobs.get(document.blob_key))
            except OcrError as exc:
                item.record_extraction_failure(document.blob_key, exc.german_message)
                continue
            self._record(item, document.blob_key, result)
        return self.save(own, item)

    def _record(self, item: MailItem, blob_key: str, result: OcrResult) -> None:
        searchable_key = None
        if result.searchable_pdf:
            searchable_key = self.blobs.put(result.searchable_pdf, "application/pdf").key
        item.record_text(
            blob_key,
            method=result.method,
            pages=[
                PageText(
                    number=p.number,
                    text=p.text,
                    confidence=round(p.confidence, 1),
                    method=p.method,
                    rotation=p.rotation,
                )
                for p in result.pages
            ],
            searchable_pdf_key=searchable_key,
            quality_issues=[QualityIssue(f.code, f.message, f.page) for f in result.flags],
        )
