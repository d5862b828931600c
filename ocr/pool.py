"""A process pool for pages: one worker per core, Tesseract single-threaded in each.

Workers are started with ``spawn`` (safe whatever threads the calling process runs; as with
any multiprocessing code, a script must guard its entry point with ``if __name__ ==
"__main__"``) and set ``OMP_THREAD_LIMIT=1`` in their own environment only, so that
Tesseract's OpenMP threads do not fight the other workers for the cores: with several pages
in flight that is about five times faster per page than letting each Tesseract use every
core. A pool whose worker died is replaced on the next submission.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ocr.page_pipeline import PageJob, PageOutcome, read_page


def _init_worker() -> None:
    # Only this worker process's environment; Tesseract subprocesses inherit it.
    os.environ["OMP_THREAD_LIMIT"] = "1"


class PagePool:
    """Runs :func:`read_page` for many pages at once; safe to share between threads."""

    def __init__(self, jobs: int | None = None) -> None:
        self.size = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, job: PageJob) -> Future[PageOutcome]:
        with self._lock:
            try:
                return self._running().submit(read_page, job)
            except BrokenProcessPool:
                self._discard()
                return self._running().submit(read_page, job)

    def reset(self) -> None:
        """Drop the workers (after a crash or a hang); the next page starts new ones."""
        with self._lock:
            self._discard()

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def _running(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
        return self._executor

    def _discard(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
