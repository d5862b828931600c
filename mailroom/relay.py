"""The outbox relay: publishes every domain event from the event store's notification log
to Kafka, in log order, and records how far it got only after the broker acknowledged.

After a crash it resumes at the recorded position, so nothing is skipped; events between
the last recorded position and the crash are published again (harmless: consumers
recognise them by their tracking position). Run exactly one relay per event store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates.staff import StaffMember
from mailroom.adapters.cloudevents import kafka_topic_for, to_kafka_message
from mailroom.application import MailroomApp

log = logging.getLogger(__name__)

RELAY = "relay"
# Events that never leave the event store: secrets have no place on a shared bus.
PRIVATE_TOPICS = frozenset({get_topic(StaffMember.PasswordSet)})


class OutboxRelay:
    def __init__(
        self,
        app: MailroomApp,
        make_producer: Callable[[], Any],
        topic_prefix: str,
        source: str,
        ensure_topic: Callable[[str], None],
        batch: int = 500,
    ) -> None:
        self.app = app
        self.make_producer = make_producer
        self.producer = make_producer()
        self.topic_prefix = topic_prefix
        self.ensure_topic = ensure_topic
        self.known_topics: set[str] = set()
        self.source = source
        self.batch = batch
        self.position = app.position(RELAY)

    def publish_batch(self) -> int:
        notifications = self.app.notifications_after(self.position, self.batch)
        if not notifications:
            return 0
        futures = []
        for notification in notifications:
            if notification.topic in PRIVATE_TOPICS:
                continue
            topic = kafka_topic_for(notification.topic, self.topic_prefix)
            if topic not in self.known_topics:
                self.ensure_topic(topic)
                self.known_topics.add(topic)
            message = to_kafka_message(notification, self.source)
            futures.append(
                self.producer.send(
                    topic, key=message.key, value=message.value, headers=message.headers
                )
            )
        self.producer.flush()
        for future in futures:
            future.get(timeout=60)  # raises if the broker did not acknowledge
        last = notifications[-1].id
        self.app.process_recorder.insert_tracking(Tracking(RELAY, last))
        self.position = last
        return len(notifications)

    def run(self, stop: threading.Event, idle_wait_s: float = 0.05) -> None:
        wake = threading.Event()
        self.app.save_listeners.append(wake.set)
        log.info("relay publishing to %s.* from notification %s", self.topic_prefix, self.position)
        failures = 0
        try:
            while not stop.is_set():
                try:
                    published = self.publish_batch()
                except Exception:  # broker away or producer broken: start again from position
                    failures += 1
                    log.exception(
                        "publishing failed (attempt %s); retrying from %s", failures, self.position
                    )
                    self._replace_producer()
                    stop.wait(min(30.0, 0.5 * 2**failures))
                    continue
                failures = 0
                if not published:
                    wake.wait(idle_wait_s)
                    wake.clear()
        finally:
            self.producer.close(timeout=10)

    def _replace_producer(self) -> None:
        try:
            self.producer.close(timeout=5)
        except Exception:  # a broken producer may fail to close; it is dropped anyway
            log.warning("closing the failed producer raised", exc_info=True)
        self.producer = self.make_producer()
