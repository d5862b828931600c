"""kafka-python clients configured from the settings."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from mailroom.config import Settings
from mailroom.liveness import EVENT_TURN_S, SLOW_EVENT_TURN_S

log = logging.getLogger(__name__)


def make_producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        retries=2**31 - 1,
        max_in_flight_requests_per_connection=5,
        request_timeout_ms=30_000,
        client_id="mailroom-relay",
    )


def make_consumer(settings: Settings, group_id: str, *, slow: bool = False) -> KafkaConsumer:
    """A consumer in ``group_id``; ``slow`` for consumers that may need minutes per record
    (OCR): few records per poll and a long poll interval, so reading a large item does not
    get the worker thrown out of its group (which would redeliver the item elsewhere)."""
    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_records=2 if slow else 200,
        max_poll_interval_ms=int(1000 * (SLOW_EVENT_TURN_S if slow else EVENT_TURN_S)),
        fetch_max_wait_ms=100,
        client_id=group_id,
    )


def ensure_topics(settings: Settings, topics: Iterable[str]) -> None:
    """Create the topics that do not exist yet (with the configured partitions)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="mailroom-admin")
    try:
        missing = sorted(set(topics) - set(admin.list_topics()))
        for topic in missing:
            try:
                admin.create_topics(
                    [NewTopic(topic, settings.kafka_partitions, settings.kafka_replication_factor)]
                )
                log.info("created topic %s with %s partitions", topic, settings.kafka_partitions)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
