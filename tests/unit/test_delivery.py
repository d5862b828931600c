"""Bounded retries, recorded failures, waiting out outages and visible stalls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError, Tracking

from mailroom.consumers.base import Failure
from mailroom.consumers.delivery import Delivery, RetryPolicy
from mailroom.consumers.health import STALLED, WAITING, HealthStore
from projections.database import create_views_engine
from tests.fixtures.builders import FakeClock

POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.5, max_delay_s=8)


@dataclass
class FlakyConsumer:
    """Fails on the events in ``poison`` (always) or ``flaky`` (that many times)."""

    name: str = "flaky"
    topics: tuple[str, ...] = ()
    poison: set[str] = field(default_factory=set)
    flaky: dict[str, int] = field(default_factory=dict)
    error: type[Exception] = AttributeError
    skippable: bool = True
    counted_ahead: bool = False
    processed: list[str] = field(default_factory=list)
    failures: list[tuple[str, Failure]] = field(default_factory=list)

    def position(self, source: str) -> int:
        return 0

    def process(self, event: Any, tracking: Tracking) -> bool:
        if event in self.poison:
            raise self.error("'PdfImage' object has no attribute 'get_pos'")
        if self.flaky.get(event, 0) > 0:
            self.flaky[event] -= 1
            raise self.error("not yet")
        self.processed.append(event)
        return True

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        if self.skippable:
            self.failures.append((event, failure))
        return self.skippable

    def persist_attempts(self, event: Any) -> bool:
        return self.counted_ahead and len(event) > 0  # looks at the event, as OCR lanes do


@pytest.fixture
def health(tmp_path) -> HealthStore:
    return HealthStore(create_views_engine(f"sqlite:///{tmp_path / 'views.sqlite'}"), FakeClock())


def deliver_all(delivery: Delivery, events: list[str]) -> list[float]:
    """Feed events like a runner does; return the pauses it was asked to take."""
    pauses = []
    for position, event in enumerate(events, start=1):
        while not (verdict := delivery.attempt(lambda e=event: e, Tracking("log", position))).done:
            assert not verdict.stalled
            pauses.append(verdict.wait_s)
    return pauses


def test_an_event_that_keeps_failing_is_recorded_as_failed_and_the_stream_moves_on(health):
    consumer = FlakyConsumer(poison={"speck.png"})
    pauses = deliver_all(Delivery(consumer, POLICY, health), ["a", "speck.png", "b", "c"])
    assert consumer.processed == ["a", "b", "c"]
    ((event, failure),) = consumer.failures
    assert event == "speck.png" and failure.code == "AttributeError"
    assert "get_pos" in failure.detail
    assert pauses == [0.5, 1.0]  # two pauses with back-off between three attempts
    assert health.problems() == []  # nothing left to report once it moved on


def test_an_event_that_fails_once_is_processed_on_the_next_attempt(health):
    consumer = FlakyConsumer(flaky={"b": 1})
    deliver_all(Delivery(consumer, POLICY, health), ["a", "b"])
    assert consumer.processed == ["a", "b"] and consumer.failures == []


def test_an_outage_is_waited_out_without_counting_against_the_event(health):
    consumer = FlakyConsumer(flaky={"a": 10}, error=OperationalError)
    delivery = Delivery(consumer, POLICY, health)
    pauses = deliver_all(delivery, ["a"])
    assert consumer.processed == ["a"] and consumer.failures == []
    assert pauses == [0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8]  # back-off, capped, never given up


def test_waiting_for_a_dependency_is_reported(health):
    consumer = FlakyConsumer(poison={"a"}, error=OperationalError)
    delivery = Delivery(consumer, POLICY, health)
    assert not delivery.attempt(lambda: "a", Tracking("log", 1)).done
    (problem,) = health.problems()
    assert (problem.consumer, problem.state, problem.error) == ("flaky", WAITING, "event_store")


def test_a_read_model_that_cannot_apply_an_event_stalls_visibly_and_does_not_skip(health):
    consumer = FlakyConsumer(poison={"b"}, skippable=False)
    delivery = Delivery(consumer, POLICY, health)
    verdicts = [delivery.attempt(lambda: "b", Tracking("log", 2)) for _ in range(4)]
    assert [v.done for v in verdicts] == [False] * 4
    assert verdicts[-1].stalled and verdicts[-1].wait_s == POLICY.max_delay_s
    (problem,) = health.problems()
    assert (problem.state, problem.position, problem.error) == (STALLED, 2, "AttributeError")
    consumer.poison.clear()  # the cause is fixed: it goes on and the report clears
    assert delivery.attempt(lambda: "b", Tracking("log", 2)).done
    assert health.problems() == []


def test_attempts_are_counted_across_a_restart(health):
    consumer = FlakyConsumer(poison={"x"})
    first = Delivery(consumer, POLICY, health)
    for _ in range(2):
        assert not first.attempt(lambda: "x", Tracking("log", 7)).done
    restarted = Delivery(consumer, POLICY, health)  # a new process, same health store
    assert restarted.attempt(lambda: "x", Tracking("log", 7)).done
    assert [event for event, _ in consumer.failures] == ["x"]


def test_expensive_work_that_ends_the_process_is_bounded_too(health):
    """GIVEN a letter whose reading kills the worker (no exception is ever raised)
    WHEN the worker is restarted again and again
    THEN after the allowed attempts the letter is recorded as failed without reading it."""
    consumer = FlakyConsumer(counted_ahead=True)
    for _ in range(POLICY.max_attempts):  # each attempt "dies": only the count remains
        Delivery(consumer, POLICY, health)._begin("log", 9)
    verdict = Delivery(consumer, POLICY, health).attempt(lambda: "bomb.tif", Tracking("log", 9))
    assert verdict.done and consumer.processed == []
    ((event, failure),) = consumer.failures
    assert event == "bomb.tif" and failure.code == "attempts_exhausted"


@pytest.mark.parametrize("counted_ahead", [False, True])
def test_an_undecodable_event_stalls_rather_than_being_skipped(health, counted_ahead):
    consumer = FlakyConsumer(counted_ahead=counted_ahead)

    def undecodable() -> str:
        raise ValueError("unknown event class")

    verdict = Delivery(consumer, POLICY, health).attempt(undecodable, Tracking("log", 3))
    assert not verdict.done and verdict.stalled
