"""How far behind the consumers and the relay are, computed per scrape.

Why not "max notification id minus the consumer's tracking position": a consumer records its
position only with an effect; events that call for none (another lane's letter, a document
still waiting for its sibling) are skipped without a write. Its tracking position therefore
stays behind the log's end even when it has seen everything, and that difference would
never drop to zero. What is measured instead:

* **embedded**: the events of the consumer's topics after the position its runner has
  reached (the runner keeps it in memory: this process is the runner), counted in the
  notification log up to ``CAP``; further behind, the span of notification ids from the
  first pending event to the end of the log (an upper bound: a scrape stays cheap);
* **Kafka**: per partition of the consumer's topics, the end offset minus the position of
  its consumer group: the group's committed offset, or the consumer's own tracking
  position when that is further (the source of truth after a crash before a commit).
  This is the lag ``kafka-consumer-groups --describe`` shows; it counts every record on
  the topic, also event types the consumer ignores (it reads and skips them too);
* **relay** (Kafka mode only): max notification id minus the relay's recorded position.
  The relay records the last notification of every batch, so this is zero when idle.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from mailroom.relay import RELAY
from mailroom.runner import SOURCE

if TYPE_CHECKING:
    from mailroom.bootstrap import Mailroom

log = logging.getLogger(__name__)

CAP = 1_000  # events counted per consumer and scrape in the embedded mode (then estimated)
RETRY_S = 30.0  # after the broker failed to answer, scrapes skip the Kafka lag this long


class LagMeter:
    """Consumer and relay lag of one mailroom; one per API process (keeps Kafka clients)."""

    def __init__(self, mailroom: Mailroom) -> None:
        self.mailroom = mailroom
        self._lock = threading.Lock()
        self._admin: Any = None
        self._reader: Any = None
        self._retry_at = 0.0

    @property
    def kafka(self) -> bool:
        return self.mailroom.settings.bus.startswith("kafka://")

    def consumer_lag(self) -> dict[str, int] | None:
        """Events behind per consumer; None when it cannot be computed now (store or
        broker away: the scrape still answers, with ``mailroom_lag_known 0``)."""
        if self.kafka and time.monotonic() < self._retry_at:
            return None  # the broker did not answer lately: do not make every scrape wait
        try:
            return self._kafka_lag() if self.kafka else self._embedded_lag()
        except Exception as exc:
            log.warning("consumer lag unknown this scrape (%s)", type(exc).__name__)
            self._close_clients()
            self._retry_at = time.monotonic() + RETRY_S
            return None

    def relay_lag(self) -> int | None:
        if not self.kafka:
            return None  # no relay in the embedded mode
        app = self.mailroom.app
        try:
            return max(0, app.max_notification_id() - app.position(RELAY))
        except Exception as exc:
            log.warning("relay lag unknown this scrape (%s)", type(exc).__name__)
            return None

    def _embedded_lag(self) -> dict[str, int]:
        app, runner = self.mailroom.app, self.mailroom.runner
        lags = {}
        for consumer in self.mailroom.consumers:
            position = runner.positions.get(consumer.name)
            if position is None:  # not run in this process yet: its recorded position
                position = consumer.position(SOURCE)
            pending = app.notifications_after(position, CAP, consumer.topics)
            if len(pending) < CAP:
                lags[consumer.name] = len(pending)
            else:  # far behind: the span of the log still ahead (an upper bound), not a count
                lags[consumer.name] = max(CAP, app.max_notification_id() - pending[0].id + 1)
        return lags

    def _kafka_lag(self) -> dict[str, int]:
        from kafka import TopicPartition

        from mailroom.adapters.cloudevents import kafka_topic_for
        from mailroom.kafka_runner import source_name

        settings = self.mailroom.settings
        with self._lock:
            admin, reader = self._clients()
            lags = {}
            for consumer in self.mailroom.consumers:
                topics = {kafka_topic_for(t, settings.kafka_topic_prefix) for t in consumer.topics}
                partitions = [
                    TopicPartition(topic, number)
                    for topic in sorted(topics)
                    for number in sorted(reader.partitions_for_topic(topic) or ())
                ]
                if not partitions:
                    lags[consumer.name] = 0  # nothing published yet
                    continue
                ends = reader.end_offsets(partitions)
                group = f"{settings.kafka_group_prefix}.{consumer.name}"
                committed = admin.list_group_offsets({group: partitions}).get(group, {})
                behind = 0
                for partition in partitions:
                    done = committed.get(partition)
                    tracked = consumer.position(source_name(partition))
                    position = max(done.offset if done is not None else 0, tracked, 0)
                    behind += max(0, ends.get(partition, 0) - position)
                lags[consumer.name] = behind
            return lags

    def _clients(self) -> tuple[Any, Any]:
        if self._admin is None or self._reader is None:
            from kafka import KafkaAdminClient, KafkaConsumer

            settings = self.mailroom.settings
            timeout_ms = max(500, int(settings.dependency_timeout_s * 1000))
            limits = {"bootstrap_timeout_ms": timeout_ms, "request_timeout_ms": timeout_ms + 1000}
            self._admin = KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap, client_id="mailroom-lag", **limits
            )
            self._reader = KafkaConsumer(
                bootstrap_servers=settings.kafka_bootstrap,
                client_id="mailroom-lag",
                enable_auto_commit=False,
                allow_auto_create_topics=False,  # asking must not create a topic (partitions)
                **limits,
            )
        return self._admin, self._reader

    def _close_clients(self) -> None:
        with self._lock:
            for client in (self._admin, self._reader):
                if client is not None:
                    try:
                        client.close()
                    except Exception:  # closing a broken client must not fail the scrape
                        log.debug("closing a lag client failed", exc_info=True)
            self._admin = self._reader = None

    def close(self) -> None:
        self._close_clients()
