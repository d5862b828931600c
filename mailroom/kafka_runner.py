"""Runs one consumer as a member of a Kafka consumer group.

The consumer's own tracking position (per ``topic:partition``, written in the same
transaction as its effect) is the source of truth: on assignment each partition is sought to
the position after the last recorded effect, and offsets are committed only after effects
are written. A redelivered record therefore finds its position taken and has no effect.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from eventsourcing.persistence import Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from mailroom.adapters.cloudevents import header, to_stored_event
from mailroom.application import ConcurrentWriteError, MailroomApp
from mailroom.consumers.base import Consumer

log = logging.getLogger(__name__)

COMMIT_INTERVAL_S = 1.0


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
        self, consumer: Consumer, app: MailroomApp, kafka: KafkaConsumer, topics: list[str]
    ) -> None:
        self.consumer = consumer
        self.app = app
        self.kafka = kafka
        self.kafka_topics = topics
        self.topics = set(consumer.topics)
        self._done: dict[TopicPartition, OffsetAndMetadata] = {}
        self._next_commit = 0.0

    def run(self, stop: threading.Event) -> None:
        self.kafka.subscribe(self.kafka_topics, listener=_SeekToTrackedPosition(self))
        failures = 0
        try:
            while not stop.is_set():
                batches = self.kafka.poll(timeout_ms=200)
                try:
                    self._handle(batches)
                    failures = 0
                except ConcurrentWriteError as exc:  # optimistic concurrency: just try again
                    log.info("%s: %s; retrying", self.consumer.name, exc)
                except Exception:  # retry the failed record after a pause; never skip it
                    failures += 1
                    log.exception("%s failed (attempt %s); retrying", self.consumer.name, failures)
                    stop.wait(min(30.0, 0.5 * 2**failures))
        finally:
            try:
                self._commit(force=True)
            finally:
                self.kafka.close(autocommit=False)

    def _handle(self, batches: dict[TopicPartition, list[Any]]) -> None:
        for partition, records in batches.items():
            source = source_name(partition)
            for record in records:
                try:
                    self._process(record, source)
                except Exception:
                    self.kafka.seek(partition, record.offset)
                    raise
                self._done[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
        self._commit(force=False)

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

    def _process(self, record: Any, source: str) -> None:
        headers = list(record.headers or [])
        if header(headers, "ce_estopic") not in self.topics:
            return
        event = self.app.mapper.to_domain_event(to_stored_event(headers, record.value))
        self.consumer.process(event, Tracking(source, record.offset + 1))
