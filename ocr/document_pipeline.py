"""The steps that read one document, in the calling process; pages go to the :class:`PagePool`.

detect kind → count pages → read the text layer → check the pixel budget → recognise the
pages without a real text layer → conclude (quality gate, searchable PDF).
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ocr import budget, errors, quality
from ocr.document import count_pages, text_layer_pages
from ocr.environment import is_environment_error
from ocr.models import OCR, TEXT_LAYER, OcrError, OcrOptions, OcrResult, PageResult, QualityFlag
from ocr.page_pipeline import PageJob, PageOutcome
from ocr.pool import PageHungError, PagePool
from ocr.searchable_pdf import TextOverlay, build_searchable_pdf
from ocr.sniff import FileKind, detect_kind

logger = logging.getLogger(__name__)


_SNIFF_BYTES = 4096  # all that kind detection looks at
_COPY_CHUNK = 1024 * 1024


@dataclass
class DocumentContext:
    data: bytes | BinaryIO  # a stream is copied to ``source`` chunk by chunk, never held
    options: OcrOptions
    pool: PagePool
    want_pdf: bool
    workdir: Path  # everything this document writes, its pages' files included, lives here
    priority: int = 0
    kind: FileKind | None = None
    page_count: int = 0
    text_layers: list[str | None] = field(default_factory=list)
    unread: list[int] = field(default_factory=list)  # beyond the pixel budget, not rasterised
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


class CountPages:
    name = "count-pages"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is not None

    def run(self, context: DocumentContext) -> None:
        assert context.kind is not None
        context.page_count = count_pages(context.source, context.kind, context.options)


class ReadTextLayer:
    name = "read-text-layer"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is FileKind.PDF

    def run(self, context: DocumentContext) -> None:
        context.text_layers = text_layer_pages(context.source)


class CheckPixelBudget:
    """Leave unread the pages beyond ``max_document_pixels``; fail if none could be read."""

    name = "check-pixel-budget"

    def applies(self, context: DocumentContext) -> bool:
        return bool(context.ocr_pages())

    def run(self, context: DocumentContext) -> None:
        assert context.kind is not None
        pages = context.ocr_pages()
        pixels = budget.page_pixels(context.source, context.kind, pages, dpi=context.options.dpi)
        limit = context.options.max_document_pixels
        context.unread = budget.over_budget(pages, pixels, limit)
        if len(context.unread) == context.page_count:
            raise errors.pixel_budget_exceeded(pixels[0], limit)
        if context.unread:
            logger.warning(
                "pixel budget of %d MP reached: pages %d to %d not read",
                limit // 1_000_000,
                context.unread[0] + 1,
                context.unread[-1] + 1,
            )


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
        pdf = self._searchable_pdf(context) if context.want_pdf and context.outcomes else None
        context.result = OcrResult(
            method=method, pages=tuple(pages), flags=flags, searchable_pdf=pdf
        )

    @staticmethod
    def _page(context: DocumentContext, index: int) -> PageResult:
        if index in context.outcomes:
            return context.outcomes[index].result
        if index in context.unread:
            return PageResult(index + 1, "", 0.0, 0, OCR)
        text = context.text_layers[index] or ""
        return PageResult(index + 1, text.strip(), 100.0, 0, TEXT_LAYER, words=len(text.split()))

    @staticmethod
    def _searchable_pdf(context: DocumentContext) -> bytes | None:
        assert context.kind is not None
        overlays = [_overlay(context.outcomes.get(index)) for index in range(context.page_count)]
        try:
            return build_searchable_pdf(context.source, context.kind, overlays)
        except Exception as exc:  # the text is read; a PDF pypdf cannot rewrite stays as it is
            if is_environment_error(exc):
                raise
            logger.warning("no searchable PDF: %s: %s", type(exc).__name__, exc)
            return None


DOCUMENT_STEPS = (
    DetectKind(),
    CountPages(),
    ReadTextLayer(),
    CheckPixelBudget(),
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
