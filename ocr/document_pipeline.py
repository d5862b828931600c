"""The steps that read one document. The caller's process only copies the file and waits:
the steps that open it run in the document worker (:class:`DocumentPool`), its pages in the
:class:`PagePool`, so the caller's memory does not grow with the document.

detect kind → inspect (count pages, read the text layer, check the pixel budget) → recognise
the pages without a real text layer → conclude (quality gate, searchable PDF).
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ocr import quality
from ocr.document_pool import DocumentPool, DocumentTaskError
from ocr.document_worker import InspectJob, SearchablePdfJob
from ocr.models import OCR, TEXT_LAYER, OcrError, OcrOptions, OcrResult, PageResult, QualityFlag
from ocr.page_pipeline import PageJob, PageOutcome
from ocr.pool import PageHungError, PagePool
from ocr.searchable_pdf import TextOverlay
from ocr.sniff import FileKind, detect_kind

logger = logging.getLogger(__name__)


_SNIFF_BYTES = 4096  # all that kind detection looks at
_COPY_CHUNK = 1024 * 1024


@dataclass
class DocumentContext:
    data: bytes | BinaryIO  # a stream is copied to ``source`` chunk by chunk, never held
    options: OcrOptions
    pool: PagePool
    documents: DocumentPool
    want_pdf: bool
    workdir: Path  # everything this document writes, its pages' files included, lives here
    priority: int = 0
    pdf_to: Path | None = None  # where the caller wants the searchable PDF; None = as bytes
    kind: FileKind | None = None
    page_count: int = 0
    text_layers: list[str | None] = field(default_factory=list)
    unread: list[int] = field(default_factory=list)  # beyond the pixel budget, not rasterised
    text_layer_codes: dict[int, tuple[str, ...]] = field(default_factory=dict)  # QR, by index
    outcomes: dict[int, PageOutcome] = field(default_factory=dict)
    result: OcrResult | None = None

    @property
    def source(self) -> Path:
        return self.workdir / "source"

    def needs_ocr(self, index: int) -> bool:
        has_text = index < len(self.text_layers) and self.text_layers[index] is not None
        return not has_text and index not in self.unread

    def ocr_pages(self) -> list[int]:
        return [index for index in range(self.page_count) if self.needs_ocr(index)]


class DetectKind:
    name = "detect-kind"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is None

    def run(self, context: DocumentContext) -> None:
        if isinstance(context.data, bytes):
            context.kind = detect_kind(context.data)
            context.source.write_bytes(context.data)
            return
        with context.source.open("wb") as source:
            shutil.copyfileobj(context.data, source, _COPY_CHUNK)
        with context.source.open("rb") as source:
            context.kind = detect_kind(source.read(_SNIFF_BYTES))


class Inspect:
    """Count the pages, keep the real text layers, leave unread the pages beyond
    ``max_document_pixels`` (fail if none could be read): in the document worker."""

    name = "inspect"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is not None

    def run(self, context: DocumentContext) -> None:
        assert context.kind is not None
        job = InspectJob(context.source, context.kind, context.options)
        inspection = context.documents.ask(job, priority=context.priority).inspection
        assert inspection is not None
        context.page_count = inspection.page_count
        context.text_layers = list(inspection.text_layers)
        context.unread = list(inspection.unread)
        context.text_layer_codes = dict(inspection.codes)


class RecognisePages:
    name = "recognise-pages"

    def applies(self, context: DocumentContext) -> bool:
        return bool(context.ocr_pages())

    def run(self, context: DocumentContext) -> None:
        assert context.kind is not None
        futures = {
            index: context.pool.submit(
                PageJob(context.source, context.kind, index, context.options, context.workdir),
                priority=context.priority,
            )
            for index in context.ocr_pages()
        }
        try:
            for index, future in futures.items():
                context.outcomes[index] = _page_outcome(index, future)
        finally:  # after a failure, pages of this document still queued are dropped
            for future in futures.values():
                future.cancel()


class Conclude:
    """Assemble the page results, apply the quality gate and build the searchable PDF."""

    name = "conclude"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is not None

    def run(self, context: DocumentContext) -> None:
        pages = [self._page(context, index) for index in range(context.page_count)]
        failures = {o.result.number: o.failure for o in context.outcomes.values() if o.failure}
        for number, failure in failures.items():
            logger.warning("page %d unreadable: %s", number, failure.reason)
        if failures and len(failures) == context.page_count:
            raise next(iter(failures.values()))
        flags = quality.judge(
            pages,
            min_confidence=context.options.min_confidence,
            blank=frozenset(o.result.number for o in context.outcomes.values() if o.blank),
            failed=_failed_pages(context, failures),
        )
        if context.unread:
            flags = (*flags, quality.pixel_budget_exceeded(context.unread[0] + 1))
        method = TEXT_LAYER if not context.outcomes and not context.unread else OCR
        path = self._searchable_pdf(context) if context.want_pdf and context.outcomes else None
        context.result = OcrResult(
            method=method,
            pages=tuple(pages),
            flags=flags,
            searchable_pdf=path.read_bytes() if path and context.pdf_to is None else None,
            searchable_pdf_path=path if context.pdf_to is not None else None,
        )

    @staticmethod
    def _page(context: DocumentContext, index: int) -> PageResult:
        if index in context.outcomes:
            return context.outcomes[index].result
        if index in context.unread:
            return PageResult(index + 1, "", 0.0, 0, OCR)
        text = context.text_layers[index] or ""
        return PageResult(
            index + 1,
            text.strip(),
            100.0,
            0,
            TEXT_LAYER,
            words=len(text.split()),
            codes=context.text_layer_codes.get(index, ()),
        )

    @staticmethod
    def _searchable_pdf(context: DocumentContext) -> Path | None:
        """Written by the document worker to ``pdf_to``, or to the work directory."""
        assert context.kind is not None
        target = context.pdf_to or context.workdir / "searchable.pdf"
        overlays = tuple(
            _overlay(context.outcomes.get(index)) for index in range(context.page_count)
        )
        job = SearchablePdfJob(context.source, context.kind, overlays, target, context.options)
        try:
            context.documents.ask(job, priority=context.priority)
        except (DocumentTaskError, OcrError) as exc:  # the text is read; the PDF stays as it is
            logger.warning("no searchable PDF: %s", exc)
            target.unlink(missing_ok=True)  # its worker may have died half-way
            return None
        return target


DOCUMENT_STEPS = (
    DetectKind(),
    Inspect(),
    RecognisePages(),
    Conclude(),
)


def _page_outcome(index: int, future: Future[PageOutcome]) -> PageOutcome:
    """The page's outcome; the pool answers every page (a hung one with PageHungError)."""
    try:
        return future.result()
    except PageHungError:
        return PageOutcome(result=PageResult(index + 1, "", 0.0, 0, OCR), timed_out=True)
    except BrokenProcessPool:
        logger.error("worker died on page %d; restarting the workers", index + 1)
        return _worker_died(index)


def _failed_pages(
    context: DocumentContext, failures: dict[int, OcrError]
) -> dict[int, QualityFlag]:
    failed = {number: quality.page_unreadable(number) for number in failures}
    timeout = context.options.page_timeout_s
    failed |= {
        o.result.number: quality.page_timeout(o.result.number, timeout)
        for o in context.outcomes.values()
        if o.timed_out
    }
    return failed


def _overlay(outcome: PageOutcome | None) -> TextOverlay | None:
    if outcome is None or outcome.text_only_pdf is None or outcome.placement is None:
        return None
    return TextOverlay(
        text_only_pdf=outcome.text_only_pdf,
        placement=outcome.placement,
        raster_size=outcome.raster_size,
        skew=outcome.result.skew,
        rotation=outcome.result.rotation,
    )


def _worker_died(index: int) -> PageOutcome:
    failure = OcrError(
        "page_unreadable",
        f"page {index + 1}: the OCR worker died",
        f"Seite {index + 1} konnte nicht gelesen werden – bitte neu scannen oder von Hand erfassen",
    )
    return PageOutcome(result=PageResult(index + 1, "", 0.0, 0, OCR), failure=failure)
