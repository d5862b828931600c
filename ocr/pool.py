"""Process pools: one for pages (one worker per core, Tesseract single-threaded in each),
and the same machinery for document tasks (see :mod:`ocr.document_pool`).

Workers are started with ``spawn`` (safe whatever threads the calling process runs; as with
any multiprocessing code, a script must guard its entry point with ``if __name__ ==
"__main__"``) and set ``OMP_THREAD_LIMIT=1`` in their own environment only, so that
Tesseract's OpenMP threads do not fight the other workers for the cores: with several pages
in flight that is about five times faster per page than letting each Tesseract use every
core.

Pages wait in the pool's own queue, not the executor's: at most one page per worker is in
flight, and a free worker takes the queued page with the lowest priority number (FIFO within
a priority). So a one-page letter submitted with priority 0 waits for at most the pages
already running, however many pages of a bulk item (priority 1) are queued before it.
A dispatcher thread does the submitting and watches for hung pages: a page without an answer
``page_timeout_s`` + :data:`HANG_GRACE_S` after it started fails with :class:`PageHungError`,
the workers are killed, and the other pages that were running on them are queued again.
When a worker dies, the pages in flight fail with ``BrokenProcessPool`` and new workers start.
:class:`TaskPool` is that machinery for any picklable job with a time limit and a label;
:class:`PagePool` is it for pages.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from ocr.environment import restored
from ocr.page_pipeline import PageJob, PageOutcome, read_page

logger = logging.getLogger(__name__)

HANG_GRACE_S = 60.0  # beyond the job's own limit, before a silent worker counts as hung

PageTask = Callable[[PageJob], PageOutcome]


class Job(Protocol):
    """What a pool needs to know of a job besides pickling it."""

    @property
    def timeout_s(self) -> float: ...  # the job's own limit; the pool adds its grace

    @property
    def label(self) -> str: ...  # for the log, e.g. "page 3"


JobT = TypeVar("JobT", bound=Job)
OutcomeT = TypeVar("OutcomeT")


class PageHungError(Exception):
    """The job (a page or a document task) gave no answer in time; its worker was killed."""


class PoolClosedError(RuntimeError):
    """The pool was closed before the job ran."""


def _init_worker(parent: int) -> None:
    # Only this worker process's environment; Tesseract subprocesses inherit it.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (kill -9 of an OCR worker) would otherwise live on,
    holding its memory: it ends once it has been handed to another parent."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


@dataclass(order=True)
class _Queued(Generic[JobT, OutcomeT]):
    priority: int
    sequence: int
    job: JobT = field(compare=False)
    future: Future[OutcomeT] = field(compare=False)


@dataclass
class _Running(Generic[JobT, OutcomeT]):
    queued: _Queued[JobT, OutcomeT]
    deadline: float
    executor: ProcessPoolExecutor


class TaskPool(Generic[JobT, OutcomeT]):
    """Runs ``task`` for many jobs at once, by priority; safe to share between threads.

    ``task`` must be importable by the workers; ``name`` names the dispatcher thread.
    """

    def __init__(
        self,
        jobs: int | None,
        *,
        task: Callable[[JobT], OutcomeT],
        hang_grace_s: float = HANG_GRACE_S,
        name: str = "ocr",
    ) -> None:
        self.size = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
        self._task = task
        self._hang_grace_s = hang_grace_s
        self._name = name
        self._changed = threading.Condition()  # guards everything below
        self._queue: list[_Queued[JobT, OutcomeT]] = []
        self._sequence = itertools.count()
        self._running: dict[Future[OutcomeT], _Running[JobT, OutcomeT]] = {}
        self._finished: list[Future[OutcomeT]] = []
        self._executor: ProcessPoolExecutor | None = None
        self._dispatcher: threading.Thread | None = None
        self._closed = False

    def submit(self, job: JobT, *, priority: int = 0) -> Future[OutcomeT]:
        """Queue a job; lower ``priority`` numbers run first. Cancel the future to drop it."""
        future: Future[OutcomeT] = Future()
        with self._changed:
            if self._closed:
                raise PoolClosedError(f"the {self._name} pool is closed")
            heapq.heappush(self._queue, _Queued(priority, next(self._sequence), job, future))
            self._start_dispatcher()
            self._changed.notify()
        return future

    def reset(self) -> None:
        """Kill the workers; the jobs that were running on them are queued again."""
        with self._changed:
            self._kill_executor()
            self._changed.notify()

    def close(self) -> None:
        """Stop: queued and running jobs fail with PoolClosedError. Returns promptly."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            waiting = [queued.future for queued in self._queue]
            waiting += [running.queued.future for running in self._running.values()]
            self._queue.clear()
            executor, busy = self._executor, bool(self._running)
            self._running.clear()
            self._executor = None
            self._changed.notify_all()
        for future in waiting:
            if not future.done():
                future.set_exception(PoolClosedError(f"the {self._name} pool was closed"))
        if executor is not None:
            _stop(executor, kill=busy)  # idle workers exit at once; busy ones are killed
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=5.0)

    # --- the dispatcher thread; everything below runs with self._changed held ---

    def _start_dispatcher(self) -> None:
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(
                target=self._dispatch_forever, name=f"{self._name}-dispatcher", daemon=True
            )
            self._dispatcher.start()

    def _dispatch_forever(self) -> None:
        with self._changed:
            while not self._closed:
                self._settle_finished()
                self._expire_hung()
                self._dispatch()
                self._changed.wait(self._seconds_to_next_deadline())

    def _on_done(self, inner: Future[OutcomeT]) -> None:
        # Called on the executor's own thread: only hand over, never submit from there.
        with self._changed:
            self._finished.append(inner)
            self._changed.notify()

    def _settle_finished(self) -> None:
        finished, self._finished = self._finished, []
        for inner in finished:
            running = self._running.pop(inner, None)
            if running is None:
                continue  # re-queued after a reset; this answer is stale
            if inner.cancelled():  # dropped unstarted when its workers were stopped: run again
                heapq.heappush(self._queue, running.queued)
                continue
            error = inner.exception()
            if error is None:
                running.queued.future.set_result(inner.result())
                continue
            if isinstance(error, BrokenProcessPool) and running.executor is self._executor:
                self._executor = None  # a worker died: the next job starts new ones
                _stop(running.executor, kill=True)
            running.queued.future.set_exception(restored(error))

    def _expire_hung(self) -> None:
        now = time.monotonic()
        hung = [inner for inner, running in self._running.items() if running.deadline <= now]
        for inner in hung:
            running = self._running.pop(inner)
            logger.error("%s hung; restarting the workers", running.queued.job.label)
            running.queued.future.set_exception(PageHungError("no answer from the OCR worker"))
        if hung:
            self._kill_executor()

    def _kill_executor(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for inner, running in list(self._running.items()):
            if running.executor is executor:
                del self._running[inner]
                heapq.heappush(self._queue, running.queued)  # innocent: runs again, first
        _stop(executor, kill=True)

    def _dispatch(self) -> None:
        while self._queue and len(self._running) < self.size:
            queued = heapq.heappop(self._queue)
            future = queued.future
            if not future.running() and not future.set_running_or_notify_cancel():
                continue  # cancelled while waiting
            try:
                executor = self._live_executor()
                inner = executor.submit(self._task, queued.job)
            except BrokenProcessPool:  # broke since its last answer: new workers, same job
                self._executor = None  # its running jobs still get their BrokenProcessPool
                _stop(executor, kill=True)
                heapq.heappush(self._queue, queued)
                continue
            except Exception as exc:  # e.g. no memory or file handles to start a worker
                self._drop_executor_if_idle()
                future.set_exception(exc)
                continue
            limit = queued.job.timeout_s + self._hang_grace_s
            self._running[inner] = _Running(queued, time.monotonic() + limit, executor)
            inner.add_done_callback(self._on_done)

    def _drop_executor_if_idle(self) -> None:
        executor = self._executor
        if executor is not None and all(r.executor is not executor for r in self._running.values()):
            self._executor = None
            _stop(executor, kill=True)

    def _live_executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
        return self._executor

    def _seconds_to_next_deadline(self) -> float | None:
        if self._finished:
            return 0.0
        if not self._running:
            return None
        return max(0.0, min(r.deadline for r in self._running.values()) - time.monotonic())


class PagePool(TaskPool[PageJob, PageOutcome]):
    """Runs :func:`read_page` for many pages at once; ``task`` replaces it in tests."""

    def __init__(
        self,
        jobs: int | None = None,
        *,
        task: PageTask = read_page,
        hang_grace_s: float = HANG_GRACE_S,
    ) -> None:
        super().__init__(jobs, task=task, hang_grace_s=hang_grace_s, name="ocr-page")


def _stop(executor: ProcessPoolExecutor, *, kill: bool) -> None:
    """Shut ``executor`` down; with ``kill``, end its workers first and do not wait (a hung
    worker would otherwise hold its core until it finished, however long that takes)."""
    # No public way to reach the workers before Python 3.14 (terminate_workers); shutdown()
    # forgets them, so take them first.
    workers = list((getattr(executor, "_processes", None) or {}).values()) if kill else []
    for process in workers:
        process.kill()
    executor.shutdown(wait=not kill, cancel_futures=True)
