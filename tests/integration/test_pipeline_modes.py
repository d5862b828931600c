"""The pipeline scenarios, run in both modes: embedded, and PostgreSQL + Kafka + S3 with
the relay and each worker as a separate process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailroom.bootstrap import Mailroom, build
from mailroom.intake.service import Upload
from mailroom.runner import EmbeddedRunner
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.documents import text_pdf
from tests.integration.stack import (
    ProcessGroup,
    all_visible,
    production_settings,
    reconcile,
    wait_until,
)


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
            self.processes.start_all()
        else:
            self.mailroom.runner = EmbeddedRunner(self.mailroom.app, self.mailroom.consumers)
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
    processes.start_all()
    try:
        yield Stack("production", mailroom, processes)
    finally:
        processes.stop_all()
        mailroom.stop()


def test_a_portal_submission_reaches_the_status_view_with_its_department(stack):
    receipt = stack.mailroom.intake.submit(submission(service_key="hundesteuer"), [], None)
    wait_until(lambda: all_visible(stack.mailroom, [receipt], "in_progress"), 90, "routing")
    record = stack.mailroom.status.lookup(receipt.reference, receipt.access_code, "c")
    assert record.department_id == "steueramt"
    reconcile(stack.mailroom, [receipt])


def test_a_born_digital_pdf_gets_its_text_layer_recorded(stack):
    pdf = text_pdf(["Antrag auf Hundesteuer-Ermäßigung", "Seite zwei mit Anlage"])
    receipt = stack.mailroom.intake.submit(submission(), [Upload("antrag.pdf", pdf)], None)

    def extracted() -> bool:
        return bool(stack.mailroom.app.get_item(receipt.item_id).texts)

    wait_until(extracted, 90, "text extraction")
    (pages,) = stack.mailroom.app.get_item(receipt.item_id).texts.values()
    assert "Ermäßigung" in pages[0].text and "Anlage" in pages[1].text
    assert stack.mailroom.blobs.exists(
        stack.mailroom.app.get_item(receipt.item_id).documents[0].blob_key
    )


def test_a_restart_in_the_middle_loses_nothing_and_doubles_nothing(stack):
    intake = stack.mailroom.intake
    first = [intake.submit(submission(), [], None) for _ in range(20)]
    wait_until(lambda: all_visible(stack.mailroom, first[:5], "in_progress"), 60, "progress")
    stack.stop_consumers()
    second = [intake.submit(submission(service_key="trauung"), [], None) for _ in range(20)]
    stack.start_consumers()
    everything = first + second
    wait_until(lambda: all_visible(stack.mailroom, everything, "in_progress"), 90, "catch-up")
    reconcile(stack.mailroom, everything)
