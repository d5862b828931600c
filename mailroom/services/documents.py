"""Documents for people: originals and page previews, only through an item the principal may
see (never by blob key alone)."""

from __future__ import annotations

import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path
from threading import Lock
from typing import BinaryIO
from uuid import UUID

from aggregates.mail_item import ItemStatus, MailItem
from aggregates.values import Document
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_see_cases_of, may_triage
from mailroom.auth.principal import Principal
from mailroom.ports import BlobStore
from mailroom.services import NotFoundError
from ocr.models import OcrError
from ocr.preview import render_preview
from ocr.sniff import detect_kind

PREVIEW_CACHE = 64  # rendered pages kept in memory (blobs never change, so neither do they)
TRIAGE_STATES = (ItemStatus.TRIAGE, ItemStatus.RECEIVED, ItemStatus.RESCAN)


def may_see_item(principal: Principal, item: MailItem) -> bool:
    """Through its department's cases, or — for the mailroom — while it awaits placing."""
    if item.department_id is not None and may_see_cases_of(principal, item.department_id):
        return True
    return item.status in TRIAGE_STATES and may_triage(principal)


class DocumentService:
    def __init__(self, app: MailroomApp, blobs: BlobStore, scratch: Path, max_pixels: int) -> None:
        self.app = app
        self.blobs = blobs
        self.scratch = scratch
        self.max_pixels = max_pixels
        self._previews: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._lock = Lock()

    def visible_item(self, principal: Principal, item_id: UUID) -> MailItem:
        item = self.app.find_item(item_id)
        if item is None or not may_see_item(principal, item):
            raise NotFoundError(f"no item {item_id}")
        return item

    def document(self, principal: Principal, item_id: UUID, index: int) -> Document:
        item = self.visible_item(principal, item_id)
        if not 0 <= index < len(item.documents):
            raise NotFoundError(f"item {item.reference} has no document {index + 1}")
        return item.documents[index]

    def original(
        self, principal: Principal, item_id: UUID, index: int
    ) -> tuple[BinaryIO, Document]:
        document = self.document(principal, item_id, index)
        return self.blobs.open(document.blob_key), document

    def page_png(
        self, principal: Principal, item_id: UUID, index: int, page: int, width: int
    ) -> bytes:
        document = self.document(principal, item_id, index)
        if not 1 <= page <= max(1, document.pages):
            raise NotFoundError(f"document has no page {page}")
        key = (document.blob_key, page, width)
        with self._lock:
            if key in self._previews:
                self._previews.move_to_end(key)
                return self._previews[key]
        png = self._render(document, page, width)
        with self._lock:
            self._previews[key] = png
            while len(self._previews) > PREVIEW_CACHE:
                self._previews.popitem(last=False)
        return png

    def _render(self, document: Document, page: int, width: int) -> bytes:
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.scratch, suffix=".page") as copy:
            with self.blobs.open(document.blob_key) as stream:
                shutil.copyfileobj(stream, copy)
            copy.flush()
            with open(copy.name, "rb") as head:
                kind = detect_kind(head.read(4096))
            try:
                return render_preview(
                    Path(copy.name), kind, page - 1, width=width, max_pixels=self.max_pixels
                )
            except OcrError as exc:
                raise NotFoundError(f"page {page} cannot be shown: {exc}") from None
