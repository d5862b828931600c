"""The embedded runner: feeds consumers from the event store's notification log, in-process.

Each consumer follows the log at its own recorded position, in its own thread, so a slow
consumer (OCR) does not hold up the others. Every event goes through ``Delivery``: an
outage is waited out, an event that keeps failing is recorded as failed after a bounded
number of attempts and skipped, and a read model that cannot apply an event stalls visibly.
Each follower promises, before every event and every pause, by when it is back (the
process's liveness, mailroom/liveness.py): a hung consumer makes the API's /healthz late.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence

from eventsourcing.persistence import Tracking

from mailroom.application import MailroomApp
from mailroom.consumers.base import Consumer, background_loops, turn_limit_s
from mailroom.consumers.delivery import Delivery, RetryPolicy
from mailroom.consumers.health import HealthStore
from mailroom.liveness import HEARTBEATS, Heartbeats

log = logging.getLogger(__name__)

SOURCE = "log"
BATCH = 100
_IDLE_WAIT_S = 1.0  # a follower with nothing to do looks again after this (or when woken)


class ConsumerStalledError(RuntimeError):
    """``run_until_idle`` met a consumer that cannot go on (see its health record)."""


class _Follower:
    def __init__(
        self,
        app: MailroomApp,
        consumer: Consumer,
        delivery: Delivery,
        reached: dict[str, int] | None = None,
        heartbeats: Heartbeats = HEARTBEATS,
    ) -> None:
        self.app = app
        self.consumer = consumer
        self.delivery = delivery
        self.heartbeats = heartbeats
        self.loop_name = f"runner {consumer.name}"
        self.position: int | None = None  # read on the first step (the store may be away now)
        self.wake = threading.Event()
        # Where the follower got to, shared with the runner (consumer lag, ``mailroom.lag``).
        self.reached = {} if reached is None else reached

    def step(self, before_each: Callable[[], None] | None = None) -> tuple[int, float | None, bool]:
        """Process what is new in the log: (notifications handled, pause before the
        next try when one could not be processed yet, whether the consumer is stalled).
        ``before_each`` runs before every notification (the loop's liveness promise)."""
        if self.position is None:
            self.position = self.consumer.position(SOURCE)
        notifications = self.app.notifications_after(self.position, BATCH, self.consumer.topics)
        for handled, notification in enumerate(notifications):
            if before_each is not None:
                before_each()
            verdict = self.delivery.attempt(
                functools.partial(self.app.to_domain_event, notification),
                Tracking(SOURCE, notification.id),
            )
            if not verdict.done:
                return handled, verdict.wait_s, verdict.stalled
            self.position = self.reached[self.consumer.name] = notification.id
        self.reached[self.consumer.name] = self.position
        return len(notifications), None, False

    def loop(self, stop: threading.Event) -> None:
        turn_s = turn_limit_s(self.consumer)

        def promise(seconds: float) -> None:
            self.heartbeats.expect_within(self.loop_name, seconds)

        try:
            while not stop.is_set():
                promise(turn_s)  # reading the log, then each event (below)
                try:
                    handled, wait_s, _stalled = self.step(lambda: promise(turn_s))
                except Exception:  # reading the log itself failed (the event store is away)
                    log.warning("consumer %s cannot read the log; retrying", self.consumer.name)
                    pause_s = self.delivery.policy.delay(2)
                    promise(pause_s)
                    stop.wait(pause_s)
                    continue
                if wait_s is not None:
                    if wait_s:
                        promise(wait_s)
                        stop.wait(wait_s)
                    continue
                if handled:
                    continue
                self.wake.wait(timeout=_IDLE_WAIT_S)  # within the turn just promised
                self.wake.clear()
        finally:
            self.heartbeats.forget(self.loop_name)


class EmbeddedRunner:
    def __init__(
        self,
        app: MailroomApp,
        consumers: Sequence[Consumer],
        health: HealthStore,
        policy: RetryPolicy = RetryPolicy(),
        heartbeats: Heartbeats = HEARTBEATS,
    ) -> None:
        self.app = app
        self.consumers = list(consumers)
        self.health = health
        self.policy = policy
        self.heartbeats = heartbeats
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._followers: list[_Follower] = []
        # Consumer name -> the notification its follower has processed up to (this process).
        self.positions: dict[str, int] = {}

    def start(self) -> None:
        self._stop.clear()
        self._followers = self._new_followers()
        self.app.save_listeners.append(self._wake_all)
        for follower in self._followers:
            thread = threading.Thread(
                target=follower.loop,
                args=(self._stop,),
                name=f"runner-{follower.consumer.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        for consumer in self.consumers:
            for number, loop in enumerate(background_loops(consumer)):
                thread = threading.Thread(
                    target=loop,
                    args=(self._stop,),
                    name=f"runner-{consumer.name}-loop-{number}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake_all()
        for thread in self._threads:
            thread.join(timeout=60)
        self._threads.clear()
        if self._wake_all in self.app.save_listeners:
            self.app.save_listeners.remove(self._wake_all)

    def run_until_idle(self) -> int:
        """Process everything in the log, consumer after consumer, until nothing is left
        (for tests and command-line tools), honouring the retry policy's pauses.
        Returns the number of notifications handled; raises ConsumerStalledError."""
        followers = self._new_followers()
        total = 0
        while True:
            progressed = False
            for follower in followers:
                handled, wait_s, stalled = follower.step()
                if stalled:
                    raise ConsumerStalledError(f"consumer {follower.consumer.name} is stalled")
                total += handled
                progressed = progressed or handled > 0 or wait_s is not None
                if wait_s:
                    self._stop.wait(wait_s)
            if not progressed:
                return total

    def _new_followers(self) -> list[_Follower]:
        return [
            _Follower(
                self.app,
                consumer,
                Delivery(consumer, self.policy, self.health),
                self.positions,
                self.heartbeats,
            )
            for consumer in self.consumers
        ]

    def _wake_all(self) -> None:
        for follower in self._followers:
            follower.wake.set()
