"""The outbox relay: publishes every domain event from the event store's notification log
to Kafka, in log order, and records how far it got only after the broker acknowledged.

After a crash it resumes at the recorded position, so nothing is skipped; events between
the last recorded position and the crash are published again (harmless: consumers
recognise them by their tracking position). Run exactly one relay per event store.
What goes on the bus is the public contract (``adapters/cloudevents.py``), not the stored
form: private events are skipped, secrets are never part of an event's data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking

from mailroom.adapters.cloudevents import EventContract, kafka_topic_for
from mailroom.adapters.public_events import PRIVATE_EVENTS
from mailroom.application import MailroomApp
from mailroom.liveness import HEARTBEATS, Heartbeats

log = logging.getLogger(__name__)

RELAY = "relay"
RELAY_LOOP = "relay"  # its name in the process's liveness report
# The longest a batch may take: the flush, then up to a minute for each acknowledgement
# still missing (nearly always none); a relay this long without a turn is hung.
_BATCH_TURN_S = 300.0
# Events that never leave the event store: secrets have no place on a shared bus.
PRIVATE_TOPICS = PRIVATE_EVENTS


class OutboxRelay:
    def __init__(
        self,
        app: MailroomApp,
        make_producer: Callable[[], Any],
        topic_prefix: str,
        contract: EventContract,
        ensure_topic: Callable[[str], None],
        batch: int = 500,
        heartbeats: Heartbeats = HEARTBEATS,
    ) -> None:
        self.app = app
        self.heartbeats = heartbeats
        self.make_producer = make_producer
        self.producer = make_producer()
        self.topic_prefix = topic_prefix
        self.ensure_topic = ensure_topic
        self.known_topics: set[str] = set()
        self.contract = contract
        self.batch = batch
        self.position = app.position(RELAY)

    def publish_batch(self) -> int:
        notifications = self.app.notifications_after(self.position, self.batch)
        if not notifications:
            return 0
        futures = []
        for notification in notifications:
            if self.contract.public_event(notification.topic) is None:
                if notification.topic not in PRIVATE_TOPICS:
                    log.warning(
                        "not publishing %s: not an event of aggregates/", notification.topic
                    )
                continue
            topic = kafka_topic_for(notification.topic, self.topic_prefix)
            if topic not in self.known_topics:
                self.ensure_topic(topic)
                self.known_topics.add(topic)
            event = self.app.mapper.to_domain_event(notification)  # upcast to the public form
            message = self.contract.to_kafka_message(notification, event)
            headers = list(message.headers.items())
            futures.append(
                self.producer.send(topic, key=message.key, value=message.value, headers=headers)
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
                self.heartbeats.expect_within(RELAY_LOOP, _BATCH_TURN_S)
                try:
                    published = self.publish_batch()
                except Exception:  # broker away or producer broken: start again from position
                    failures += 1
                    log.exception(
                        "publishing failed (attempt %s); retrying from %s", failures, self.position
                    )
                    self._replace_producer()
                    pause_s = min(30.0, 0.5 * 2**failures)
                    self.heartbeats.expect_within(RELAY_LOOP, pause_s)
                    stop.wait(pause_s)
                    continue
                failures = 0
                if not published:
                    wake.wait(idle_wait_s)
                    wake.clear()
        finally:
            self.heartbeats.forget(RELAY_LOOP)
            self.producer.close(timeout=10)

    def _replace_producer(self) -> None:
        try:
            self.producer.close(timeout=5)
        except Exception:  # a broken producer may fail to close; it is dropped anyway
            log.warning("closing the failed producer raised", exc_info=True)
        self.producer = self.make_producer()
