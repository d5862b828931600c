"""The citizen's status check: reference + access code, with guessing rate-limited."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from aggregates.access_code import access_code_matches
from aggregates.reference import InvalidReferenceError, Reference
from mailroom.application import MailroomApp
from projections.status import StatusProjection, StatusRecord, TimelineEntry, received_text


class StatusNotFoundError(LookupError):
    """Unknown reference or wrong access code — deliberately indistinguishable."""


class TooManyAttemptsError(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed status checks; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class FailureRateLimiter:
    """Counts failed attempts per client in a sliding window (per process)."""

    def __init__(self, allowed: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.allowed = allowed
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        with self._lock:
            failures = self._prune(client)
            if len(failures) >= self.allowed:
                raise TooManyAttemptsError(int(failures[0] + self.window_s - self.clock()) + 1)

    def record_failure(self, client: str) -> None:
        with self._lock:
            self._prune(client).append(self.clock())

    def _prune(self, client: str) -> deque[float]:
        failures = self._failures[client]
        horizon = self.clock() - self.window_s
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures


class StatusService:
    def __init__(
        self,
        projection: StatusProjection,
        app: MailroomApp,
        reference_prefix: str,
        limiter: FailureRateLimiter,
    ) -> None:
        self.projection = projection
        self.app = app
        self.reference_prefix = reference_prefix
        self.limiter = limiter

    def lookup(self, reference: str, access_code: str, client: str) -> StatusRecord:
        self.limiter.check(client)
        record = self._find(reference, access_code)
        if record is None:
            self.limiter.record_failure(client)
            raise StatusNotFoundError(reference)
        return record

    def _find(self, reference: str, access_code: str) -> StatusRecord | None:
        try:
            canonical = str(Reference.parse(reference, self.reference_prefix))
        except InvalidReferenceError:
            return None
        record = self.projection.find(canonical) or self._from_event_store(canonical)
        if record is None or not access_code_matches(
            canonical, access_code, record.access_code_hash
        ):
            return None
        return record

    def _from_event_store(self, reference: str) -> StatusRecord | None:
        """Read-your-writes: the view may lag a just-accepted item by a moment."""
        item = self.app.find_item_by_reference(reference)
        if item is None:
            return None
        return StatusRecord(
            item_id=str(item.id),
            reference=item.reference,
            access_code_hash=item.access_code_hash,
            channel=item.channel,
            subject=item.submission.subject if item.submission else None,
            status="received",
            department_id=None,
            case_reference=None,
            received_at=item.received_at,
            timeline=(TimelineEntry(item.received_at, "received", received_text(item.channel)),),
        )
