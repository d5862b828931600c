"""Fault tests of the production mode: workers killed, the broker paused, the relay
restarted — afterwards every accepted submission has exactly one case and appears in the
status view, and event store, blob store and projections reconcile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.bootstrap import Mailroom, build
from mailroom.services.intake import Receipt, Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.documents import png_page
from tests.harness.kafka import KafkaBroker
from tests.integration.stack import (
    ProcessGroup,
    all_visible,
    production_settings,
    reconcile,
    wait_until,
    worker_names,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def production(
    tmp_path: Path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
) -> Iterator[tuple[Mailroom, ProcessGroup]]:
    settings = production_settings(
        tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
    )
    mailroom = build(settings, clock=FakeClock())
    processes = ProcessGroup(settings, tmp_path)
    try:
        yield mailroom, processes
    finally:
        processes.stop_all()
        mailroom.stop()


def submit_many(mailroom: Mailroom, count: int, pause_s: float = 0.0) -> list[Receipt]:
    page = png_page()
    receipts = []
    for i in range(count):
        files = [Upload(f"anlage-{i}.png", page)] if i % 10 == 0 else []
        receipts.append(mailroom.intake.submit(submission(subject=f"Antrag {i}"), files, None))
        if pause_s:
            time.sleep(pause_s)
    return receipts


def routed_count(mailroom: Mailroom, receipts: list[Receipt]) -> int:
    return sum(
        1
        for r in receipts
        if (record := mailroom.status_projection.find(r.reference)) and record.department_id
    )


def test_a_worker_killed_mid_batch_is_taken_over_and_restarted(production):
    mailroom, processes = production
    processes.start("relay", "relay")
    for name in ("ocr", "status", "case-directory"):
        processes.start(name, "worker", name)
    processes.start("router-1", "worker", "router")
    processes.start("router-2", "worker", "router")
    receipts = submit_many(mailroom, 500)
    wait_until(lambda: routed_count(mailroom, receipts) >= 100, 120, "first routed items")

    processes.kill("router-1")  # kill -9 in the middle of the batch
    wait_until(lambda: routed_count(mailroom, receipts) >= 300, 120, "take-over by router-2")
    processes.start("router-1", "worker", "router")

    wait_until(lambda: all_visible(mailroom, receipts, "in_progress"), 180, "all routed")
    reconcile(mailroom, receipts)
    assert "partitions assigned" in processes.log("router-2")


def test_the_broker_paused_for_20_seconds_under_load_loses_nothing(production, kafka: KafkaBroker):
    mailroom, processes = production
    processes.start_all(worker_names(mailroom))
    receipts: list[Receipt] = []
    load = threading.Thread(target=lambda: receipts.extend(submit_many(mailroom, 300, 0.08)))
    load.start()
    time.sleep(2)
    with kafka.paused():
        time.sleep(20)
    load.join()
    assert len(receipts) == 300  # intake never waits for the broker
    wait_until(lambda: all_visible(mailroom, receipts, "in_progress"), 180, "recovery")
    reconcile(mailroom, receipts)


def test_a_relay_restarted_mid_stream_skips_nothing(production):
    mailroom, processes = production
    for worker in worker_names(mailroom):
        processes.start(worker, "worker", worker)
    receipts = submit_many(mailroom, 500)
    processes.start("relay", "relay")
    wait_until(lambda: mailroom.app.position("relay") > 200, 60, "relay progress")
    processes.kill("relay")
    more = submit_many(mailroom, 50)
    processes.start("relay", "relay")
    everything = receipts + more
    wait_until(lambda: all_visible(mailroom, everything, "in_progress"), 180, "all routed")
    reconcile(mailroom, everything)
