"""The document pipeline and :class:`OcrEngine`, which owns the page process pool."""

from __future__ import annotations

import concurrent.futures
import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from pypdf.errors import PyPdfError

from ocr import quality
from ocr.document import count_pages, text_layer_pages
from ocr.models import OCR, TEXT_LAYER, OcrError, OcrOptions, OcrResult, PageResult
from ocr.page_pipeline import PageJob, PageOutcome
from ocr.pipeline import run_pipeline
from ocr.pool import PagePool
from ocr.searchable_pdf import TextOverlay, build_searchable_pdf
from ocr.sniff import FileKind, detect_kind

logger = logging.getLogger(__name__)

_HANG_GRACE_S = 60.0  # beyond the page limit, before a silent worker counts as hung


@dataclass
class DocumentContext:
    data: bytes
    options: OcrOptions
    pool: PagePool
    want_pdf: bool
    workdir: Path
    kind: FileKind | None = None
    page_count: int = 0
    text_layers: list[str | None] = field(default_factory=list)
    outcomes: dict[int, PageOutcome] = field(default_factory=dict)
    result: OcrResult | None = None

    @property
    def source(self) -> Path:
        return self.workdir / "source"

    def needs_ocr(self, index: int) -> bool:
        return index >= len(self.text_layers) or self.text_layers[index] is None


class DetectKind:
    name = "detect-kind"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is None

    def run(self, context: DocumentContext) -> None:
        context.kind = detect_kind(context.data)
        context.source.write_bytes(context.data)


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


class RecognisePages:
    name = "recognise-pages"

    def applies(self, context: DocumentContext) -> bool:
        return any(context.needs_ocr(index) for index in range(context.page_count))

    def run(self, context: DocumentContext) -> None:
        assert context.kind is not None
        futures = {
            index: context.pool.submit(
                PageJob(context.source, context.kind, index, context.options)
            )
            for index in range(context.page_count)
            if context.needs_ocr(index)
        }
        limit = context.options.page_timeout_s + _HANG_GRACE_S
        for index, future in futures.items():
            try:
                context.outcomes[index] = future.result(timeout=limit)
            except concurrent.futures.TimeoutError:
                logger.error("page %d hung beyond %.0f s; restarting the workers", index + 1, limit)
                context.pool.reset()
                context.outcomes[index] = _timed_out(index)
            except concurrent.futures.process.BrokenProcessPool:
                logger.error("worker died on page %d; restarting the workers", index + 1)
                context.pool.reset()
                context.outcomes[index] = _worker_died(index)


class Conclude:
    """Assemble the page results, apply the quality gate and build the searchable PDF."""

    name = "conclude"

    def applies(self, context: DocumentContext) -> bool:
        return context.kind is not None

    def run(self, context: DocumentContext) -> None:
        pages = [self._page(context, index) for index in range(context.page_count)]
        failures = {o.result.number: o.failure for o in context.outcomes.values() if o.failure}
        if failures and len(failures) == context.page_count:
            raise next(iter(failures.values()))
        failed = {number: quality.page_unreadable(number) for number in failures}
        failed |= {
            o.result.number: quality.page_timeout(o.result.number, context.options.page_timeout_s)
            for o in context.outcomes.values()
            if o.timed_out
        }
        blank = frozenset(o.result.number for o in context.outcomes.values() if o.blank)
        flags = quality.judge(
            pages, min_confidence=context.options.min_confidence, blank=blank, failed=failed
        )
        method = TEXT_LAYER if not context.outcomes else OCR
        pdf = self._searchable_pdf(context) if context.want_pdf and context.outcomes else None
        context.result = OcrResult(
            method=method, pages=tuple(pages), flags=flags, searchable_pdf=pdf
        )

    @staticmethod
    def _page(context: DocumentContext, index: int) -> PageResult:
        if index in context.outcomes:
            return context.outcomes[index].result
        text = context.text_layers[index] or ""
        return PageResult(index + 1, text.strip(), 100.0, 0, TEXT_LAYER, words=len(text.split()))

    @staticmethod
    def _searchable_pdf(context: DocumentContext) -> bytes | None:
        assert context.kind is not None
        overlays = [_overlay(context.outcomes.get(index)) for index in range(context.page_count)]
        try:
            return build_searchable_pdf(context.source, context.kind, overlays)
        except (PyPdfError, OSError, ValueError) as exc:
            logger.warning("no searchable PDF: %s", exc)
            return None


DOCUMENT_STEPS = (DetectKind(), CountPages(), ReadTextLayer(), RecognisePages(), Conclude())


class OcrEngine:
    """Reads documents; owns the page process pool. Reuse one engine for many documents."""

    def __init__(self, options: OcrOptions = OcrOptions()) -> None:
        self.options = options
        self._pool = PagePool(options.jobs)

    @property
    def jobs(self) -> int:
        return self._pool.size

    def read(self, data: bytes, *, searchable_pdf: bool = True) -> OcrResult:
        """Read a PDF, TIFF, PNG or JPEG (recognised by content). Raises OcrError if unreadable."""
        with tempfile.TemporaryDirectory(prefix="mailroom-doc-") as workdir:
            context = DocumentContext(data, self.options, self._pool, searchable_pdf, Path(workdir))
            run_pipeline(DOCUMENT_STEPS, context)
        assert context.result is not None
        return context.result

    def read_many(
        self, documents: Iterable[bytes], *, searchable_pdf: bool = True
    ) -> Iterator[OcrResult | OcrError]:
        """Read documents concurrently (pages of several documents share the workers).

        Yields, in input order, a result or the OcrError of each document; at most a few
        documents per worker are held in memory at a time.
        """
        window = self.jobs * 2
        with concurrent.futures.ThreadPoolExecutor(max_workers=window) as threads:
            pending: list[concurrent.futures.Future[OcrResult]] = []
            for data in documents:
                pending.append(threads.submit(self.read, data, searchable_pdf=searchable_pdf))
                if len(pending) >= window:
                    yield _settle(pending.pop(0))
            while pending:
                yield _settle(pending.pop(0))

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> OcrEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _settle(future: concurrent.futures.Future[OcrResult]) -> OcrResult | OcrError:
    try:
        return future.result()
    except OcrError as exc:
        return exc


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


def _timed_out(index: int) -> PageOutcome:
    return PageOutcome(result=PageResult(index + 1, "", 0.0, 0, OCR), timed_out=True)
