"""The outbox relay: publishes every domain event from the event store's notification log
to Kafka, in log order, and records how far it got only after the broker acknowledged.

After a crash it resumes at the recorded position, so nothing is skipped; events between
the last recorded position and the crash are published again (harmless: consumers
recognise them by their tracking position). Run exactly one relay per event store.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from eventsourcing.persistence import Tracking

from mailroom.adapters.cloudevents import to_kafka_message
from mailroom.application import MailroomApp

log = logging.getLogger(__name__)

RELAY = "relay"


class OutboxRelay:
    def __init__(
        self, app: MailroomApp, producer: Any, topic: str, source: str, batch: int = 500
    ) -> None:
        self.app = app
        self.producer = producer
        self.topic = topic
        self.source = source
        self.batch = batch
        self.position = app.position(RELAY)

    def publish_batch(self) -> int:
        notifications = self.app.notifications_after(self.position, self.batch)
        if not notifications:
            return 0
        futures = []
        for notification in notifications:
            message = to_kafka_message(notification, self.source)
            futures.append(self.producer.send(self.topic, key=message.key, value=message.value,
                                              headers=message.headers))
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
        log.info("relay publishing to %s from notification %s", self.topic, self.position)
        while not stop.is_set():
            if self.publish_batch():
                continue
            wake.wait(idle_wait_s)
            wake.clear()
