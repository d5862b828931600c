"""The document-level steps that open the document, run in the document worker process.

Opening a document costs memory in proportion to its size: pypdf's text extraction loads
the image streams it resolves, and the searchable PDF is assembled from every page. So
none of it runs in the calling process (in embedded mode, the API server):
:class:`InspectJob` counts the pages, reads the text layer, decides which to trust and
sizes the pages for the pixel budget; :class:`SearchablePdfJob` streams the searchable PDF
to a file. Only small answers travel back: a page count, a text or None per page, the
pages left unread, the log records of the task.

A task answers every problem of the file in its :class:`DocumentAnswer` (a named OcrError,
or an unexpected failure's description and traceback, so that no exception has to survive
unpickling in the caller); only failures of the machine are raised, in a form that crosses
the process boundary (:func:`ocr.environment.portable`).
"""

from __future__ import annotations

import copy
import gc
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ocr import budget, errors
from ocr.barcodes import read_pdf_page_codes
from ocr.document import count_pages, text_layer_pages
from ocr.environment import is_environment_error, portable
from ocr.models import OcrError, OcrOptions
from ocr.searchable_pdf import TextOverlay, build_searchable_pdf
from ocr.sniff import FileKind

logger = logging.getLogger(__name__)

_MAX_CAUSE_CHARS = 300
_LARGE_SOURCE_BYTES = 8 * 2**20  # after such a document, free its memory before idling


@dataclass(frozen=True)
class InspectJob:
    """Count the pages, read the text layer, apply the pixel budget."""

    source: Path
    kind: FileKind
    options: OcrOptions

    @property
    def timeout_s(self) -> float:  # no step here decodes a page: a page's limit is ample
        return self.options.page_timeout_s

    @property
    def label(self) -> str:
        return "document inspection"


@dataclass(frozen=True)
class SearchablePdfJob:
    """Write the searchable PDF of ``source`` to ``target`` (a file nobody else writes)."""

    source: Path
    kind: FileKind
    overlays: tuple[TextOverlay | None, ...]  # Tesseract's text-only page PDFs, a few KB each
    target: Path
    options: OcrOptions

    @property
    def timeout_s(self) -> float:
        return self.options.page_timeout_s

    @property
    def label(self) -> str:
        return "searchable PDF"


DocumentJob = InspectJob | SearchablePdfJob


@dataclass(frozen=True)
class Inspection:
    page_count: int
    text_layers: tuple[str | None, ...]  # per page: its real text layer, or None = OCR
    unread: tuple[int, ...] = ()  # beyond the pixel budget, not to be rasterised
    codes: tuple[tuple[int, tuple[str, ...]], ...] = ()  # QR codes of text-layer pages


@dataclass(frozen=True)
class DocumentAnswer:
    inspection: Inspection | None = None  # for an InspectJob that succeeded
    error: OcrError | None = None  # the file's problem, named
    failure: str | None = None  # an exception nobody expected: "Type: message"
    trace: str = ""  # its traceback, for the caller's log
    logs: tuple[logging.LogRecord, ...] = ()  # to be handled by the caller's loggers


def run_document_job(job: DocumentJob) -> DocumentAnswer:
    """Run ``job``; its failures come back in the answer, only the machine's are raised."""
    try:
        return _answer(job)
    finally:
        # pypdf's objects form reference cycles: without a collection, an idle worker would
        # keep a large document's hundreds of MB until its next allocations trigger one.
        if job.source.exists() and job.source.stat().st_size > _LARGE_SOURCE_BYTES:
            gc.collect()


def _answer(job: DocumentJob) -> DocumentAnswer:
    with _captured_logs() as records:
        try:
            if isinstance(job, InspectJob):
                return DocumentAnswer(inspection=inspect(job), logs=tuple(records))
            write_searchable_pdf(job)
            return DocumentAnswer(logs=tuple(records))
        except OcrError as exc:
            return DocumentAnswer(error=exc, logs=tuple(records))
        except Exception as exc:  # pdfium, pypdf, Pillow on a damaged file
            if is_environment_error(exc):
                carrier = portable(exc)
                if carrier is exc:
                    raise
                raise carrier from None
            return DocumentAnswer(
                failure=f"{type(exc).__name__}: {str(exc)[:_MAX_CAUSE_CHARS]}",
                trace=traceback.format_exc(),
                logs=tuple(records),
            )


def inspect(job: InspectJob) -> Inspection:
    """The page count, the trusted text layer and the pages beyond the pixel budget."""
    count = count_pages(job.source, job.kind, job.options)
    texts = text_layer_pages(job.source) if job.kind is FileKind.PDF else []
    ocr_pages = [index for index in range(count) if index >= len(texts) or texts[index] is None]
    pixels = budget.page_pixels(job.source, job.kind, ocr_pages, dpi=job.options.dpi)
    limit = job.options.max_document_pixels
    unread = budget.over_budget(ocr_pages, pixels, limit)
    if len(unread) == count:
        raise errors.pixel_budget_exceeded(pixels[0], limit)
    if unread:
        logger.warning(
            "pixel budget of %d MP reached: pages %d to %d not read",
            limit // 1_000_000,
            unread[0] + 1,
            unread[-1] + 1,
        )
    text_pages = [index for index in range(count) if index not in ocr_pages]
    codes = (
        read_pdf_page_codes(job.source, text_pages, dpi=job.options.codes_dpi)
        if job.options.read_codes and text_pages
        else {}
    )
    return Inspection(count, tuple(texts), tuple(unread), tuple(sorted(codes.items())))


def write_searchable_pdf(job: SearchablePdfJob) -> None:
    try:
        build_searchable_pdf(job.source, job.kind, job.overlays, job.target)
    except BaseException:  # no half-written PDF is left where the caller looks for one
        job.target.unlink(missing_ok=True)
        raise


class _Collector(logging.Handler):
    def __init__(self, records: list[logging.LogRecord], level: int) -> None:
        super().__init__(level)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        # As QueueHandler.prepare: format now, so that the record pickles whatever its args.
        prepared = copy.copy(record)
        prepared.msg = record.getMessage()
        if record.exc_info:
            prepared.msg += "\n" + logging.Formatter().formatException(record.exc_info)
        prepared.args, prepared.exc_info, prepared.exc_text = None, None, None
        self.records.append(prepared)


# What a task's log records are taken from, and from which level: the library's own, and
# pypdf's warnings about odd files (otherwise printed raw on the worker's stderr, past the
# parent's log format and levels).
_CAPTURED = {"ocr": logging.INFO, "pypdf": logging.WARNING}


@contextmanager
def _captured_logs() -> Iterator[list[logging.LogRecord]]:
    """The records of the ``ocr`` (INFO+) and ``pypdf`` (WARNING+) loggers while the block
    runs (a worker's logging is not configured: unforwarded, they would be lost or printed
    raw); the parent replays them through its own loggers."""
    records: list[logging.LogRecord] = []
    restore = []
    for name, level in _CAPTURED.items():
        logger = logging.getLogger(name)
        collector = _Collector(records, level)
        restore.append((logger, collector, logger.level))
        logger.addHandler(collector)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
    try:
        yield records
    finally:
        for logger, collector, level in restore:
            logger.removeHandler(collector)
            logger.setLevel(level)
