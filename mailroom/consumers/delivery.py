"""Delivering one event to one consumer: bounded retries, then a recorded failure.

The rule that keeps one bad letter from stopping the mailroom:

* an **outage** (event store, views, blob store or broker unreachable, a disk full) is not
  the event's fault: the consumer waits with back-off, as long as it takes, and the attempt
  is not counted;
* any **other error** is retried a bounded number of times with back-off; then the
  consumer records the failure as an event (an item goes to triage with the reason) and
  the stream moves on;
* a consumer that must not skip events (a read model) **stalls visibly** instead: its
  health row says so, ``/readyz`` turns not ready, and it keeps retrying slowly.

Both runners (embedded and Kafka) use this; the verdict tells them whether to go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from mailroom.application import ConcurrentWriteError
from mailroom.consumers.base import Consumer, Failure
from mailroom.consumers.health import IN_PROGRESS, RETRYING, STALLED, WAITING, HealthStore
from mailroom.logs import annotate, log_context
from mailroom.outages import outage_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Verdict:
    done: bool  # the event is processed (or recorded as failed): go on with the next one
    wait_s: float = 0.0  # otherwise: try the same event again after this pause
    stalled: bool = False


DONE = Verdict(done=True)


class Delivery:
    """Feeds events to one consumer; one instance per consumer and runner."""

    def __init__(self, consumer: Consumer, policy: RetryPolicy, health: HealthStore) -> None:
        self.consumer = consumer
        self.policy = policy
        self.health = health
        self._failing: dict[str, tuple[int, int]] = {}  # source -> (position, attempts)
        self._outages: dict[str, int] = {}  # source -> consecutive outage failures

    def attempt(self, load: Callable[[], Any], tracking: Tracking) -> Verdict:
        """Process the event ``load()`` returns, at ``tracking``, once. Lines logged
        meanwhile name the consumer and the item (``mailroom.logs``)."""
        with log_context(consumer=self.name):
            return self._attempt(load, tracking)

    def _attempt(self, load: Callable[[], Any], tracking: Tracking) -> Verdict:
        source, position = tracking.application_name, tracking.notification_id
        event = None
        try:
            event = load()
            annotate(**_ids_of(event))
            if self.consumer.persist_attempts(event):
                attempts = self._begin(source, position)
                if attempts > self.policy.max_attempts:
                    log.error("%s: %s@%s failed before; giving up", self.name, position, source)
                    failure = Failure("attempts_exhausted", "the process ended while reading")
                    return self._give_up(event, tracking, failure, attempts - 1)
            self.consumer.process(event, tracking)
        except ConcurrentWriteError as exc:  # optimistic concurrency: try again at once
            log.info("%s: %s; retrying", self.name, exc)
            return Verdict(done=False)
        except Exception as exc:
            return self._failed(event, tracking, exc)
        self._succeeded(source)
        return DONE

    @property
    def name(self) -> str:
        return self.consumer.name

    def _begin(self, source: str, position: int) -> int:
        """Count an attempt before it starts (persisted: a crash mid-way still counts)."""
        attempts = self._attempts_before(source, position) + 1
        self._failing[source] = (position, attempts)
        self.health.record(
            self.name,
            source,
            position,
            attempts=attempts,
            state=RETRYING if attempts > 1 else IN_PROGRESS,
            error="",
            detail="",
        )
        return attempts

    def _failed(self, event: Any, tracking: Tracking, exc: Exception) -> Verdict:
        source, position = tracking.application_name, tracking.notification_id
        outage = outage_of(exc)
        if outage is not None:
            waits = self._outages[source] = self._outages.get(source, 0) + 1
            delay = self.policy.delay(waits)
            what = "is full" if outage.full else "is unreachable"
            log.warning("%s: %s %s; retrying in %.1f s", self.name, outage.dependency, what, delay)
            attempts = self._failing.get(source, (position, 0))[1]
            self.health.record(
                self.name,
                source,
                position,
                attempts=attempts,
                state=WAITING,
                error=outage.dependency,
                detail=what,
            )
            return Verdict(done=False, wait_s=delay)
        self._outages.pop(source, None)
        if event is not None and self.consumer.persist_attempts(event) and source in self._failing:
            attempts = self._failing[source][1]  # counted when the attempt began
        else:
            attempts = self._attempts_before(source, position) + 1
            self._failing[source] = (position, attempts)
        failure = Failure(type(exc).__name__, _one_line(exc))
        log.error(
            "%s failed at %s@%s (attempt %s of %s): %s",
            self.name,
            position,
            source,
            attempts,
            self.policy.max_attempts,
            failure.detail,
            exc_info=exc,
        )
        if event is None or attempts < self.policy.max_attempts:
            state = RETRYING if event is not None else STALLED
            self._record(source, position, attempts, state, failure)
            return Verdict(done=False, wait_s=self.policy.delay(attempts), stalled=state == STALLED)
        return self._give_up(event, tracking, failure, attempts)

    def _give_up(self, event: Any, tracking: Tracking, failure: Failure, attempts: int) -> Verdict:
        source, position = tracking.application_name, tracking.notification_id
        try:
            skipped = self.consumer.record_failure(event, tracking, failure)
        except Exception as exc:  # recording the failure failed too: wait or stall
            if outage_of(exc) is not None:
                return self._failed(event, tracking, exc)
            log.exception("%s could not record the failure at %s@%s", self.name, position, source)
            skipped = False
        if skipped:
            log.error(
                "%s gave up on %s@%s after %s attempts (%s); recorded as failed",
                self.name,
                position,
                source,
                attempts,
                failure.code,
            )
            self._succeeded(source)
            return DONE
        log.error("%s is stalled at %s@%s: %s", self.name, position, source, failure.detail)
        self._record(source, position, attempts, STALLED, failure)
        return Verdict(done=False, wait_s=self.policy.max_delay_s, stalled=True)

    def _attempts_before(self, source: str, position: int) -> int:
        known = self._failing.get(source)
        if known is not None and known[0] == position:
            return known[1]
        return self.health.attempts(self.name, source, position)

    def _record(
        self, source: str, position: int, attempts: int, state: str, failure: Failure
    ) -> None:
        self.health.record(
            self.name,
            source,
            position,
            attempts=attempts,
            state=state,
            error=failure.code,
            detail=failure.detail,
        )

    def _succeeded(self, source: str) -> None:
        self._outages.pop(source, None)
        if self._failing.pop(source, None) is not None:
            self.health.clear(self.name, source)


def _ids_of(event: Any) -> dict[str, object]:
    """The item an event is about, when it is a mail item's (others: the consumer adds)."""
    if type(event).__qualname__.startswith("MailItem."):
        return {"item_id": event.originator_id, "reference": getattr(event, "reference", None)}
    return {}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
