"""The embedded runner: feeds consumers from the event store's notification log, in-process.

Each consumer follows the log at its own recorded position. A consumer that fails on an
event is retried with back-off (its position does not move, so nothing is skipped) while
the others go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import Tracking

from mailroom.application import MailroomApp
from mailroom.consumers.base import Consumer

log = logging.getLogger(__name__)

SOURCE = "log"
BATCH = 200


@dataclass
class _Follower:
    consumer: Consumer
    position: int
    failures: int = 0
    retry_at: float = 0.0
    last_error: str | None = field(default=None)


class EmbeddedRunner:
    def __init__(self, app: MailroomApp, consumers: Sequence[Consumer]) -> None:
        self.app = app
        self.consumers = list(consumers)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._followers: list[_Follower] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._load_positions()
        self.app.save_listeners.append(self._wake.set)
        self._thread = threading.Thread(target=self._loop, name="mailroom-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._wake.set in self.app.save_listeners:
            self.app.save_listeners.remove(self._wake.set)

    def run_until_idle(self) -> int:
        """Process everything that is in the log now (for tests and the CLI). Returns count."""
        if not self._followers:
            self._load_positions()
        total = 0
        while processed := self._step(ignore_backoff=True):
            total += processed
        return total

    def _load_positions(self) -> None:
        self._followers = [_Follower(c, c.position(SOURCE)) for c in self.consumers]

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                processed = self._step()
            except Exception:  # keep the runner alive; _step already logged per consumer
                log.exception("runner step failed")
                processed = 0
            if not processed:
                self._wake.wait(timeout=1.0)
                self._wake.clear()

    def _step(self, ignore_backoff: bool = False) -> int:
        processed = 0
        with self._lock:
            for follower in self._followers:
                if not ignore_backoff and follower.retry_at > time.monotonic():
                    continue
                processed += self._advance(follower)
        return processed

    def _advance(self, follower: _Follower) -> int:
        consumer = follower.consumer
        notifications = self.app.notifications_after(follower.position, BATCH, consumer.topics)
        for notification in notifications:
            try:
                event = self.app.to_domain_event(notification)
                consumer.process(event, Tracking(SOURCE, notification.id))
            except Exception as exc:  # a failing consumer must not stop the others
                follower.failures += 1
                follower.last_error = f"{type(exc).__name__}: {exc}"
                follower.retry_at = time.monotonic() + min(60.0, 0.5 * 2**follower.failures)
                log.exception(
                    "consumer %s failed on notification %s (attempt %s)",
                    consumer.name,
                    notification.id,
                    follower.failures,
                )
                break
            follower.position = notification.id
            follower.failures = 0
            follower.last_error = None
        return len(notifications) if follower.failures == 0 else 0
