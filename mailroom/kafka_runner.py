"""Runs one consumer as a member of a Kafka consumer group.

The consumer's own tracking position (per ``topic:partition``, written in the same
transaction as its effect) is the source of truth: on assignment each partition is sought to
the position after the last recorded effect, and offsets are committed only after effects
are written. A redelivered record therefore finds its position taken and has no effect.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from eventsourcing.persistence import Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from mailroom.adapters.cloudevents import header, to_stored_event
from mailroom.application import ConcurrentWriteError, MailroomApp
from mailroom.consumers.base import Consumer

log = logging.getLogger(__name__)


def source_name(partition: TopicPartition) -> str:
    return f"{partition.topic}:{partition.partition}"


class _SeekToTrackedPosition(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, kafka: KafkaConsumer, consumer: Consumer) -> None:
        self.kafka = kafka
        self.consumer = consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("%s: partitions revoked: %s", self.consumer.name, sorted(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        for partition in assigned:
            position = self.consumer.position(source_name(partition))
            if position > 0:  # tracking stores offset + 1: the next record to read
                self.kafka.seek(partition, position)
        log.info("%s: partitions assigned: %s", self.consumer.name, sorted(assigned))


class KafkaWorker:
    def __init__(
        self, consumer: Consumer, app: MailroomApp, kafka: KafkaConsumer, topic: str
    ) -> None:
        self.consumer = consumer
        self.app = app
        self.kafka = kafka
        self.topic = topic
        self.topics = set(consumer.topics)
        self.processed = 0

    def run(self, stop: threading.Event) -> None:
        self.kafka.subscribe(
            [self.topic], listener=_SeekToTrackedPosition(self.kafka, self.consumer)
        )
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
            self.kafka.close(autocommit=False)

    def _handle(self, batches: dict[TopicPartition, list[Any]]) -> None:
        for partition, records in batches.items():
            source = source_name(partition)
            done = None
            try:
                for record in records:
                    self._process(record, source)
                    done = record.offset + 1
                    self.processed += 1
            except Exception:
                self.kafka.seek(partition, records[0].offset if done is None else done)
                raise
            finally:
                if done is not None:  # effects are written; now the offset may move
                    self.kafka.commit({partition: OffsetAndMetadata(done, "", -1)})

    def _process(self, record: Any, source: str) -> None:
        headers = list(record.headers or [])
        if header(headers, "ce_estopic") not in self.topics:
            return
        event = self.app.mapper.to_domain_event(to_stored_event(headers, record.value))
        self.consumer.process(event, Tracking(source, record.offset + 1))
