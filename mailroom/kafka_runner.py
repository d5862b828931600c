"""Runs one consumer as a member of a Kafka consumer group.

The consumer's own tracking position (per ``topic:partition``, written in the same
transaction as its effect) is the source of truth: on assignment each partition is sought to
the position after the last recorded effect, and offsets are committed only after effects
are written. A redelivered record therefore finds its position taken and has no effect.
Every record goes through ``Delivery`` (bounded retries, then a recorded failure; outages
waited out); a record that must be tried again is sought back to, together with the records
of the same poll that were not reached yet, so nothing is skipped.

Records carry the public contract (``adapters/cloudevents.py``), whose data is not the stored
form; the worker reads only which event a record announces (subject, ``esversion``) and loads
that stored event from the event store, so consumers get exactly the domain event (with the
fields the bus never carries). The relay publishes committed events only, so a missing one is
unexpected: it is retried (the consumer shows as stalled), never skipped.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from eventsourcing.persistence import Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from mailroom.adapters.cloudevents import EventReference
from mailroom.adapters.public_events import by_topic
from mailroom.application import MailroomApp
from mailroom.consumers.base import Consumer, background_loops
from mailroom.consumers.delivery import Delivery
from mailroom.liveness import HEARTBEATS, Heartbeats

log = logging.getLogger(__name__)

COMMIT_INTERVAL_S = 1.0


class StoredEventNotFoundError(LookupError):
    """A record announces an event the event store does not (yet) hold."""


def source_name(partition: TopicPartition) -> str:
    return f"{partition.topic}:{partition.partition}"


class _SeekToTrackedPosition(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: KafkaWorker) -> None:
        self.worker = worker
        self.kafka = worker.kafka
        self.consumer = worker.consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        try:
            self.worker._commit(force=True)
        except KafkaError:  # the effects are written; the next owner seeks past them anyway
            log.warning("%s: could not commit offsets on revocation", self.consumer.name)
        log.info("%s: partitions revoked: %s", self.consumer.name, sorted(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        for partition in assigned:
            position = self.consumer.position(source_name(partition))
            if position > 0:  # tracking stores offset + 1: the next record to read
                self.kafka.seek(partition, position)
        log.info("%s: partitions assigned: %s", self.consumer.name, sorted(assigned))


class KafkaWorker:
    def __init__(
        self,
        consumer: Consumer,
        app: MailroomApp,
        kafka: KafkaConsumer,
        topics: list[str],
        delivery: Delivery,
        heartbeats: Heartbeats = HEARTBEATS,
    ) -> None:
        self.consumer = consumer
        self.heartbeats = heartbeats
        self.delivery = delivery
        self.app = app
        self.kafka = kafka
        self.kafka_topics = topics
        self.topics = set(consumer.topics)
        self.event_names = {
            by_topic()[t].name.rsplit(".", 1)[0] for t in consumer.topics if t in by_topic()
        }
        self._done: dict[TopicPartition, OffsetAndMetadata] = {}
        self._next_commit = 0.0

    def run(self, stop: threading.Event) -> None:
        self.kafka.subscribe(self.kafka_topics, listener=_SeekToTrackedPosition(self))
        halt = threading.Event()  # the consumer's background loops end with this loop
        loops = [
            threading.Thread(
                target=loop, args=(halt,), name=f"{self.consumer.name}-loop", daemon=True
            )
            for loop in background_loops(self.consumer)
        ]
        for thread in loops:
            thread.start()
        failures = 0
        loop = f"worker {self.consumer.name}"
        # A poll's records may take up to max.poll.interval.ms (then the group drops us).
        turn_s = self.kafka.config["max_poll_interval_ms"] / 1000
        try:
            while not stop.is_set():
                self.heartbeats.expect_within(loop, turn_s)
                try:
                    batches = self.kafka.poll(timeout_ms=200)
                    wait_s = self._handle(batches)
                    failures = 0
                except KafkaError:  # the broker is away; the client reconnects by itself
                    failures += 1
                    log.warning("%s: broker unavailable (attempt %s)", self.consumer.name, failures)
                    wait_s = min(5.0, 0.5 * 2**failures)  # resume soon after the broker is back
                if wait_s:
                    self.heartbeats.expect_within(loop, wait_s)
                    stop.wait(wait_s)
        finally:
            self.heartbeats.forget(loop)
            try:
                self._commit(force=True)
            finally:
                self.kafka.close(autocommit=False)
                halt.set()
                for thread in loops:
                    thread.join(timeout=60)

    def _handle(self, batches: dict[TopicPartition, list[Any]]) -> float | None:
        """Process a poll's records; on a record that must be tried again, seek every
        partition back to its first unprocessed record and return the pause to take."""
        pending = {partition: list(records) for partition, records in batches.items() if records}
        wait_s: float | None = None
        for partition, records in pending.items():
            if wait_s is not None:
                self.kafka.seek(partition, records[0].offset)  # not reached: read it again
                continue
            source = source_name(partition)
            for record in records:
                reference = EventReference.from_headers(list(record.headers or []))
                if reference is None or reference.event_name not in self.event_names:
                    self._done[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
                    continue  # another event type of the same aggregate
                verdict = self.delivery.attempt(
                    functools.partial(self._event, reference), Tracking(source, record.offset + 1)
                )
                if not verdict.done:
                    self.kafka.seek(partition, record.offset)
                    wait_s = verdict.wait_s
                    break
                self._done[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
        self._commit(force=False)
        return wait_s

    def _commit(self, force: bool) -> None:
        """Commit offsets of written effects now and then: the tracking positions are the
        source of truth (partitions are sought to them on assignment), so a late commit
        costs only a few redeliveries, which have no effect."""
        if not self._done or (not force and time.monotonic() < self._next_commit):
            return
        offsets, self._done = self._done, {}
        if force:
            self.kafka.commit(offsets)
        else:
            self.kafka.commit_async(offsets)
        self._next_commit = time.monotonic() + COMMIT_INTERVAL_S

    def _event(self, reference: EventReference) -> Any:
        """The stored event the record announces, as the domain event (upcast)."""
        stored = self.app.recorder.select_events(
            reference.originator_id, gt=reference.version - 1, lte=reference.version
        )
        if not stored or stored[0].topic not in self.topics:
            raise StoredEventNotFoundError(
                f"no stored {reference.public_name} at {reference.originator_id}"
                f" v{reference.version} (notification {reference.notification_id})"
            )
        return self.app.mapper.to_domain_event(stored[0])
