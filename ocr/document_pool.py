"""The document worker: one process, beside the page pool, for the document-level steps.

Every step that opens the document (see :mod:`ocr.document_worker`) runs there, so that the
calling process's memory does not grow with the document. It is a :class:`TaskPool` of its
own, with the page pool's priorities and crash and hang handling, rather than document
tasks submitted to the page pool at top priority, because:

* a letter's document steps take milliseconds; in the page pool they would first wait for
  a page worker to finish a page in flight (seconds, up to the page limit) — twice per
  document (inspection, searchable PDF);
* one worker runs one document task at a time, so the memory a large document costs is
  spent once, in one process, not up to once per page worker (and never beside the
  page images those workers hold);
* the price is one more process (spawned on first use) and document tasks of concurrent
  reads queue for it, by priority; they are short next to the pages.

A document task that raised something unexpected, killed its worker or hung comes back as
:class:`DocumentTaskError`; the engine makes that ``document_unreadable`` (inspection) or
no searchable PDF (assembly), as a dead page worker makes ``page_unreadable``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool

from ocr.document_worker import DocumentAnswer, DocumentJob, run_document_job
from ocr.pool import HANG_GRACE_S, PageHungError, TaskPool

logger = logging.getLogger(__name__)

DocumentTask = Callable[[DocumentJob], DocumentAnswer]


class DocumentTaskError(Exception):
    """The document task failed in a way the file's checks do not name; ``trace`` is the
    worker's traceback when there is one."""

    def __init__(self, reason: str, trace: str = "") -> None:
        super().__init__(reason)
        self.trace = trace


class DocumentPool(TaskPool[DocumentJob, DocumentAnswer]):
    """One worker for document tasks; ``task`` replaces :func:`run_document_job` in tests."""

    def __init__(
        self,
        *,
        task: DocumentTask = run_document_job,
        hang_grace_s: float = HANG_GRACE_S,
    ) -> None:
        super().__init__(1, task=task, hang_grace_s=hang_grace_s, name="ocr-document")

    def ask(self, job: DocumentJob, *, priority: int = 0) -> DocumentAnswer:
        """Run ``job`` in the worker and wait. Raises the file's OcrError, DocumentTaskError,
        or an environment error (see :mod:`ocr.environment`) unchanged."""
        future = self.submit(job, priority=priority)
        try:
            answer = future.result()
        except PageHungError as exc:
            raise DocumentTaskError(f"{job.label}: no answer from the document worker") from exc
        except BrokenProcessPool as exc:
            logger.error("document worker died on the %s; restarting it", job.label)
            raise DocumentTaskError(f"{job.label}: the document worker died") from exc
        _replay(answer.logs)
        if answer.error is not None:
            raise answer.error
        if answer.failure is not None:
            raise DocumentTaskError(answer.failure, answer.trace)
        return answer


def _replay(records: Iterable[logging.LogRecord]) -> None:
    """Hand the worker's log records to this process's loggers, their levels respected."""
    for record in records:
        target = logging.getLogger(record.name)
        if target.isEnabledFor(record.levelno):
            target.handle(record)
