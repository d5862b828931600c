"""Test helpers for running the mailroom in both modes: embedded (in-process runner) and
production (PostgreSQL + S3 + Kafka, with the relay and each worker as its own process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from pydantic import SecretStr

from aggregates.case import Case
from aggregates.mail_item import MailItem
from mailroom.bootstrap import Mailroom
from mailroom.config import Settings
from mailroom.services.intake import Receipt
from tests.harness.s3 import S3Endpoint


def worker_names(mailroom: Mailroom) -> list[str]:
    """One worker process per consumer, from the composition root's one list."""
    return [consumer.name for consumer in mailroom.consumers]


def production_settings(
    tmp_path: Path, postgres_url: str, schema: str, kafka_bootstrap: str, s3: S3Endpoint
) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    views = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-" + "y" * 40,
        event_store=f"{postgres_url}?schema={schema}",
        views_db=f"{views}?options=-csearch_path%3D{schema}",
        blob_store=f"s3://mailroom-{suffix}",
        s3_endpoint=s3.endpoint,
        s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key,
        s3_secure=s3.secure,
        s3_region=s3.region,
        bus=f"kafka://{kafka_bootstrap}",
        kafka_topic_prefix=f"mailroom-{suffix}",
        kafka_group_prefix=f"mailroom-{suffix}",
        kafka_partitions=3,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=200,
        consumer_retry_base_s=0.05,
        consumer_retry_max_s=1.0,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):  # str() would hand the workers "**********"
            value = value.get_secret_value()
        if value is not None:
            env[f"MAILROOM_{name.upper()}"] = str(value)
    return env


class ProcessGroup:
    """The relay and workers of a production stack, each a separate OS process."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.env = settings_env(settings)
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "mailroom", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        return process

    def start_all(self, workers: list[str]) -> None:
        self.start("relay", "relay")
        for worker in workers:
            self.start(worker, "worker", worker)

    def start_shared(self, workers: list[str]) -> None:
        """The relay, and every worker in one process (``mailroom worker A B …``): the same
        consumer groups and Kafka clients, without a dozen interpreters starting per test."""
        self.start("relay", "relay")
        self.start("workers", "worker", *workers)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        process.wait(timeout=30)

    def stop_all(self) -> None:
        """Every process is asked to stop at once; each leaves its consumer group on its own,
        so the stack stops in the time of its slowest process, not their sum."""
        stopping = [self.processes.pop(name) for name in list(self.processes)]
        for process in stopping:
            process.terminate()
        for process in stopping:
            process.wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


def all_visible(mailroom: Mailroom, receipts: list[Receipt], status: str) -> bool:
    return all(
        (record := mailroom.status_projection.find(r.reference)) is not None
        and record.status == status
        for r in receipts
    )


def reconcile(mailroom: Mailroom, receipts: list[Receipt]) -> None:
    """Event store, blob store and projections agree: nothing lost, nothing doubled."""
    app = mailroom.app
    counts: dict[str, int] = {}
    opened_per_item: dict[Any, int] = {}
    for notification in app.iter_notifications():
        counts[notification.topic] = counts.get(notification.topic, 0) + 1
        if notification.topic == get_topic(Case.Opened):
            event = app.to_domain_event(notification)
            opened_per_item[event.first_item_id] = opened_per_item.get(event.first_item_id, 0) + 1
    assert counts.get(get_topic(MailItem.Received), 0) == len(receipts)
    assert counts.get(get_topic(MailItem.Routed), 0) == len(receipts)
    assert counts.get(get_topic(Case.Opened), 0) == len(receipts)
    for receipt in receipts:
        item = app.get_item(receipt.item_id)
        assert opened_per_item.get(item.id) == 1, f"{receipt.reference} has no single case"
        for document in item.documents:
            assert mailroom.blobs.exists(document.blob_key)
        record = mailroom.status_projection.find(receipt.reference)
        assert record is not None, f"{receipt.reference} missing from the status view"
        assert record.department_id == item.department_id
        statuses = [entry.status for entry in record.timeline]
        assert statuses == ["received", "routed", "in_progress"], (receipt.reference, statuses)
