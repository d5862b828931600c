""":class:`OcrEngine`: reads documents through the document pipeline; owns the page pool and
the document worker (:mod:`ocr.document_pool`), so that what opens a document never runs in
the calling process.

The contract of :meth:`OcrEngine.read`: for any bytes it returns an :class:`OcrResult` or
raises :class:`OcrError` with a stable ``code``. A page that cannot be read becomes a flag on
that page; a document nothing names the problem of becomes ``document_unreadable`` (the
cause is logged with its traceback). Failures of the machine rather than of the file (disk
full, out of memory, Tesseract missing, see :mod:`ocr.environment`) and a closed pool
propagate unchanged, so that the caller can retry later instead of blaming the letter.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ocr import errors
from ocr.document_pipeline import DOCUMENT_STEPS, DocumentContext
from ocr.document_pool import DocumentPool, DocumentTaskError
from ocr.environment import is_environment_error
from ocr.models import OcrError, OcrOptions, OcrResult
from ocr.pipeline import run_pipeline
from ocr.pool import PagePool, PoolClosedError

logger = logging.getLogger(__name__)


class OcrEngine:
    """Reads documents; owns the page process pool and the document worker process. Reuse
    one engine for many documents, from as many threads as you like.

    ``work_dir``: an existing directory where every temporary file and directory of the engine
    and its workers goes (one directory per document, removed when it is read); None = the
    system temp directory.
    """

    def __init__(self, options: OcrOptions = OcrOptions(), *, work_dir: Path | None = None) -> None:
        self.options = options
        self.work_dir = work_dir
        self._pool = PagePool(options.jobs)
        self._documents = DocumentPool()

    @property
    def jobs(self) -> int:
        return self._pool.size

    def read(
        self,
        data: bytes | BinaryIO,
        *,
        searchable_pdf: bool = True,
        priority: int = 0,
        searchable_pdf_to: Path | None = None,
    ) -> OcrResult:
        """Read a PDF, TIFF, PNG or JPEG (recognised by content). Raises OcrError if unreadable.

        ``data`` may be a readable stream (a large blob): it is copied to the work directory
        in chunks, so the document is never held in memory whole; everything that opens it
        runs in worker processes, so this process's memory does not grow with it.

        The searchable PDF (``searchable_pdf``; only when a page was read by OCR) comes back
        as ``OcrResult.searchable_pdf`` bytes, or, with ``searchable_pdf_to`` (a file path in
        a directory the caller owns; overwritten), is written there and named by
        ``OcrResult.searchable_pdf_path`` — the way for large documents.

        Pages (and document tasks) of a call with a lower ``priority`` number get the next
        free worker before any queued one of a higher number (e.g. 0 for letters, 1 for a
        bulk lane of large items).
        """
        with tempfile.TemporaryDirectory(prefix="mailroom-doc-", dir=self.work_dir) as workdir:
            context = DocumentContext(
                data,
                self.options,
                self._pool,
                self._documents,
                searchable_pdf,
                Path(workdir),
                priority,
                searchable_pdf_to,
            )
            _run_guarded(context)
        assert context.result is not None
        return context.result

    def read_many(
        self, documents: Iterable[bytes], *, searchable_pdf: bool = True, priority: int = 0
    ) -> Iterator[OcrResult | OcrError]:
        """Read documents concurrently (pages of several documents share the workers).

        Yields, in input order, a result or the OcrError of each document; at most a few
        documents per worker are held in memory at a time.
        """
        window = self.jobs * 2
        with concurrent.futures.ThreadPoolExecutor(max_workers=window) as threads:
            pending: list[concurrent.futures.Future[OcrResult]] = []
            read = functools.partial(self.read, searchable_pdf=searchable_pdf, priority=priority)
            for data in documents:
                pending.append(threads.submit(read, data))
                if len(pending) >= window:
                    yield _settle(pending.pop(0))
            while pending:
                yield _settle(pending.pop(0))

    def close(self) -> None:
        self._pool.close()
        self._documents.close()

    def __enter__(self) -> OcrEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _run_guarded(context: DocumentContext) -> None:
    """Run the document steps; an exception no step expected becomes document_unreadable."""
    try:
        run_pipeline(DOCUMENT_STEPS, context)
    except (OcrError, PoolClosedError, concurrent.futures.CancelledError):
        raise
    except DocumentTaskError as exc:  # in the document worker: its traceback is in ``trace``
        kind = context.kind or "unknown"
        logger.error("unexpected failure reading a %s document: %s\n%s", kind, exc, exc.trace)
        raise errors.document_unreadable(str(exc)) from exc
    except Exception as exc:
        if is_environment_error(exc):
            raise
        logger.exception("unexpected failure reading a %s document", context.kind or "unknown")
        raise errors.document_unreadable(f"{type(exc).__name__}: {exc}") from exc


def _settle(future: concurrent.futures.Future[OcrResult]) -> OcrResult | OcrError:
    try:
        return future.result()
    except OcrError as exc:
        return exc
