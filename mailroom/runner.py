"""The embedded runner: feeds consumers from the event store's notification log, in-process.

Each consumer follows the log at its own recorded position, in its own thread, so a slow
consumer (OCR) does not hold up the others. A consumer that fails on an event is retried
with back-off; its position does not move, so nothing is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from eventsourcing.persistence import Tracking

from mailroom.application import ConcurrentWriteError, MailroomApp
from mailroom.consumers.base import Consumer

log = logging.getLogger(__name__)

SOURCE = "log"
BATCH = 100


class _Follower:
    def __init__(self, app: MailroomApp, consumer: Consumer) -> None:
        self.app = app
        self.consumer = consumer
        self.position = consumer.position(SOURCE)
        self.failures = 0
        self.wake = threading.Event()

    def advance(self) -> int:
        """Process what is new in the log; returns how many notifications were handled."""
        notifications = self.app.notifications_after(self.position, BATCH, self.consumer.topics)
        for notification in notifications:
            event = self.app.to_domain_event(notification)
            self.consumer.process(event, Tracking(SOURCE, notification.id))
            self.position = notification.id
        return len(notifications)

    def loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.advance():
                    self.failures = 0
                    continue
            except ConcurrentWriteError as exc:  # optimistic concurrency: just try again
                log.info("consumer %s: %s; retrying", self.consumer.name, exc)
                continue
            except Exception:  # a failing consumer must not stop; retry the same event
                self.failures += 1
                log.exception(
                    "consumer %s failed after notification %s (attempt %s)",
                    self.consumer.name,
                    self.position,
                    self.failures,
                )
                stop.wait(min(60.0, 0.5 * 2**self.failures))
                continue
            self.wake.wait(timeout=1.0)
            self.wake.clear()


class EmbeddedRunner:
    def __init__(self, app: MailroomApp, consumers: Sequence[Consumer]) -> None:
        self.app = app
        self.consumers = list(consumers)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._followers: list[_Follower] = []

    def start(self) -> None:
        self._followers = [_Follower(self.app, c) for c in self.consumers]
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
        (for tests and command-line tools). Returns the number of notifications handled."""
        followers = [_Follower(self.app, c) for c in self.consumers]
        total = 0
        while handled := sum(f.advance() for f in followers):
            total += handled
        return total

    def _wake_all(self) -> None:
        for follower in self._followers:
            follower.wake.set()
