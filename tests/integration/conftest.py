"""The pipeline in both modes, for the scenarios that must hold in each: embedded, and
PostgreSQL + Kafka + S3 with the relay and each worker as a separate process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailroom.bootstrap import Mailroom, build
from mailroom.runner import EmbeddedRunner
from tests.fixtures.builders import FakeClock
from tests.integration.stack import ProcessGroup, production_settings, worker_names


@dataclass
class Stack:
    mode: str
    mailroom: Mailroom
    processes: ProcessGroup | None = None

    def stop_consumers(self) -> None:
        if self.processes:
            self.processes.stop_all()
        else:
            self.mailroom.runner.stop()

    def start_consumers(self) -> None:
        if self.processes:
            self.processes.start_shared(worker_names(self.mailroom))
        else:
            self.mailroom.runner = EmbeddedRunner(
                self.mailroom.app, self.mailroom.consumers, self.mailroom.health
            )
            self.mailroom.runner.start()


@pytest.fixture(params=["embedded", "production"])
def stack(request, tmp_path: Path, settings) -> Iterator[Stack]:
    if request.param == "embedded":
        mailroom = build(settings, clock=FakeClock())
        mailroom.start()
        yield Stack("embedded", mailroom)
        mailroom.stop()
        return
    prod = production_settings(
        tmp_path,
        request.getfixturevalue("postgres_url"),
        request.getfixturevalue("postgres_schema"),
        request.getfixturevalue("kafka_bootstrap"),
        request.getfixturevalue("s3_endpoint"),
    )
    mailroom = build(prod, clock=FakeClock())
    processes = ProcessGroup(prod, tmp_path)
    processes.start_shared(worker_names(mailroom))
    try:
        yield Stack("production", mailroom, processes)
    finally:
        processes.stop_all()
        mailroom.stop()
