"""Liveness: a loop that does not come back within its promise makes its process late."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mailroom.kafka_runner import KafkaWorker
from mailroom.liveness import (
    API_LOOP,
    EXIT_HUNG,
    Heartbeats,
    LivenessReport,
    Watchdog,
    beat,
    watch_this_process,
)
from mailroom.relay import RELAY_LOOP, OutboxRelay
from mailroom.runner import _Follower


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def hung(
    run: Callable[[threading.Event], None], hanging: threading.Event, release: threading.Event
) -> Iterator[None]:
    """``run(stop)`` in a thread until it hangs (``hanging`` set); then stopped, the hanging
    call released, and the thread found ended."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(stop,))
    thread.start()
    try:
        assert hanging.wait(10), "the loop did not reach the call that hangs"
        yield
    finally:
        stop.set()
        release.set()
        thread.join(10)
    assert not thread.is_alive()


def test_a_process_without_loops_is_alive():
    assert Heartbeats(Clock()).report() == LivenessReport({})
    assert LivenessReport({}).alive


def test_a_loop_is_late_only_after_its_promise_and_the_grace():
    clock = Clock()
    beats = Heartbeats(clock, grace_s=10)
    beats.expect_within("worker router", 30)
    clock.now += 40
    assert beats.report().loops == {"worker router": "ok"}
    clock.now += 1
    report = beats.report()
    assert report.loops == {"worker router": "late"}
    assert not report.alive
    beats.expect_within("worker router", 30)  # it came back: a new promise
    assert beats.report().alive


def test_a_loop_that_ended_on_purpose_is_no_longer_expected():
    clock = Clock()
    beats = Heartbeats(clock, grace_s=0)
    beats.expect_within("relay", 1)
    beats.forget("relay")
    clock.now += 100
    assert beats.report() == LivenessReport({})


class HangingKafka:
    """A consumer client whose second poll never returns until released: a hung worker."""

    def __init__(self) -> None:
        self.config = {"max_poll_interval_ms": 300_000}
        self.polls = 0
        self.hanging = threading.Event()
        self.release = threading.Event()

    def subscribe(self, topics: list[str], listener: Any) -> None:
        pass

    def poll(self, timeout_ms: int) -> dict[Any, Any]:
        self.polls += 1
        if self.polls == 2:
            self.hanging.set()
            self.release.wait(30)
        return {}

    def commit(self, offsets: Any) -> None:
        pass

    def commit_async(self, offsets: Any) -> None:
        pass

    def close(self, autocommit: bool) -> None:
        pass


class QuietConsumer:
    name = "router"
    topics: tuple[str, ...] = ()


def test_a_worker_hung_in_a_poll_is_reported_late_after_the_poll_interval():
    """GIVEN a worker whose Kafka poll hangs
    THEN it is alive until max.poll.interval.ms and the grace are over, then late (the
    probe restarts it); once it stops on purpose it is no longer expected."""
    clock = Clock()
    beats = Heartbeats(clock, grace_s=60)
    kafka = HangingKafka()
    worker = KafkaWorker(QuietConsumer(), None, kafka, [], None, heartbeats=beats)  # type: ignore[arg-type]
    with hung(worker.run, kafka.hanging, kafka.release):
        assert beats.report().loops == {"worker router": "ok"}
        clock.now += 300 + 60 + 1  # the poll interval and the grace are over
        assert beats.report().loops == {"worker router": "late"}
    assert beats.report() == LivenessReport({})


class Notifications:
    """An event store with nothing to publish, which notes the relay's liveness on each turn."""

    def __init__(self, beats: Heartbeats, stop: threading.Event) -> None:
        self.save_listeners: list[Any] = []
        self.beats = beats
        self.stop = stop
        self.seen: list[dict[str, str]] = []

    def position(self, name: str) -> int:
        return 0

    def notifications_after(self, position: int, limit: int) -> list[Any]:
        self.seen.append(self.beats.report().loops)
        if len(self.seen) == 3:
            self.stop.set()
        return []


class Producer:
    def close(self, timeout: float) -> None:
        pass


def test_the_relay_promises_to_be_back_on_every_turn_and_forgets_when_stopped():
    beats = Heartbeats(Clock(), grace_s=0)
    stop = threading.Event()
    app = Notifications(beats, stop)
    relay = OutboxRelay(app, Producer, "t", None, lambda _: None, heartbeats=beats)  # type: ignore[arg-type]
    relay.run(stop, idle_wait_s=0)
    assert app.seen == [{RELAY_LOOP: "ok"}] * 3
    assert beats.report() == LivenessReport({})


class HangingOutbox:
    """An outbox whose first claim never returns until released (a database that hangs)."""

    def __init__(self) -> None:
        self.hanging = threading.Event()
        self.release = threading.Event()

    def claim(self, batch: int, lease: Any) -> list[Any]:
        self.hanging.set()
        self.release.wait(30)
        return []

    def next_due(self) -> None:
        return None


def test_a_notification_sender_hung_in_a_pass_is_reported_late_after_its_lease():
    from datetime import UTC, datetime, timedelta

    from mailroom.consumers.delivery import RetryPolicy
    from mailroom.notify.sender import SENDER_LOOP, NotificationSender
    from mailroom.notify.smtp import SmtpConfig

    clock = Clock()
    beats = Heartbeats(clock, grace_s=60)
    outbox = HangingOutbox()
    config = SmtpConfig(host="127.0.0.1", port=25, tls="none", sender="a@example.org")
    sender = NotificationSender(
        outbox,  # type: ignore[arg-type]
        config,
        RetryPolicy(3, 1.0, 1.0),
        lambda: datetime.now(UTC),
        lease=timedelta(minutes=5),
        heartbeats=beats,
    )
    with hung(sender.run, outbox.hanging, outbox.release):
        assert beats.report().loops == {SENDER_LOOP: "ok"}
        clock.now += 5 * 60 + 60 + 1  # the lease and the grace are over
        assert beats.report().loops == {SENDER_LOOP: "late"}
    assert beats.report() == LivenessReport({})


class OneEventLog:
    """The embedded notification log with one event after position 0."""

    def __init__(self) -> None:
        self.save_listeners: list[Any] = []

    def notifications_after(self, position: int, limit: int, topics: Any) -> list[Any]:
        return [SimpleNamespace(id=1)] if position == 0 else []

    def to_domain_event(self, notification: Any) -> Any:
        return notification


class HangingDelivery:
    """A consumer whose processing of the event never returns until released."""

    def __init__(self) -> None:
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.policy = SimpleNamespace(delay=lambda attempt: 0.1)

    def attempt(self, event: Any, tracking: Any) -> Any:
        self.hanging.set()
        self.release.wait(30)
        return SimpleNamespace(done=True, wait_s=None, stalled=False)


class ReaderOfLetters(QuietConsumer):
    name = "ocr"
    slow_events = True

    def position(self, source: str) -> int:
        return 0


class Router(QuietConsumer):
    def position(self, source: str) -> int:
        return 0


@pytest.mark.parametrize(("consumer", "turn_s"), [(Router(), 5 * 60), (ReaderOfLetters(), 30 * 60)])
def test_an_embedded_consumer_hung_on_an_event_is_reported_late_after_its_turn(consumer, turn_s):
    """GIVEN the embedded runner's follower of a consumer that hangs on an event
    THEN the process is alive until the consumer's turn (OCR: 30 minutes, others 5) and
    the grace are over, then late; stopped, the follower is no longer expected."""
    clock = Clock()
    beats = Heartbeats(clock, grace_s=60)
    delivery = HangingDelivery()
    follower = _Follower(OneEventLog(), consumer, delivery, heartbeats=beats)  # type: ignore[arg-type]
    loop = f"runner {consumer.name}"
    with hung(follower.loop, delivery.hanging, delivery.release):
        clock.now += turn_s + 60
        assert beats.report().loops == {loop: "ok"}
        clock.now += 1
        assert beats.report().loops == {loop: "late"}
    assert beats.report() == LivenessReport({})


def test_the_watchdog_lets_a_process_on_time_run_and_ends_one_with_a_late_loop(caplog):
    clock = Clock()
    beats = Heartbeats(clock, grace_s=60)
    ended: list[int] = []
    watchdog = Watchdog(beats, end_process=ended.append)
    beats.expect_within("worker router", 300)
    beats.expect_within("worker status", 300)
    clock.now += 300 + 60
    assert watchdog.check()
    assert ended == []
    beats.expect_within("worker status", 300)  # status came back, router did not
    clock.now += 1
    with caplog.at_level(logging.CRITICAL, logger="mailroom.liveness"):
        assert not watchdog.check()
    assert ended == [EXIT_HUNG]
    assert "worker router" in caplog.text and "worker status" not in caplog.text


def test_a_process_whose_loop_hangs_ends_itself_and_says_which(tmp_path):
    """GIVEN a real process with the watchdog and a (non-daemon) loop that hangs past its
    promise THEN the process ends with EXIT_HUNG — an orderly exit would wait for the hung
    thread forever — and its last line names the loop."""
    script = tmp_path / "hangs.py"
    script.write_text(
        textwrap.dedent(
            """
            import logging, threading, time
            from mailroom.liveness import Heartbeats, Watchdog

            logging.basicConfig(level=logging.INFO)
            beats = Heartbeats(grace_s=0.2)

            def hung_loop():
                beats.expect_within("worker router", 0.3)
                threading.Event().wait()  # never returns

            threading.Thread(target=hung_loop).start()
            Watchdog(beats, check_every_s=0.1).start()
            """
        )
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == EXIT_HUNG, done.stderr
    assert time.monotonic() - started < 20
    assert "loop hung past its promise: worker router" in done.stderr.strip().splitlines()[-1]


def test_the_watchdog_can_be_turned_off():
    before = {t.name for t in threading.enumerate()}
    watch_this_process(False)
    assert "watchdog" not in {t.name for t in threading.enumerate()} - before


def test_an_event_loop_that_is_blocked_stops_beating_and_turns_late():
    """GIVEN an event loop beating (the API's: every 10 s; here every 20 ms)
    THEN it is ok while the loop runs; blocked (nothing yields to it) past its beat and the
    grace it is late; running again it is ok; cancelled it is no longer expected."""
    clock = Clock()
    beats = Heartbeats(clock, grace_s=60)

    async def main() -> list[dict[str, str]]:
        seen = []
        beating = asyncio.create_task(beat(beats, API_LOOP, 0.02))
        await asyncio.sleep(0)  # the first beat
        seen.append(beats.report().loops)
        clock.now += 0.02 + 60 + 1  # blocked: no await in between, the beat cannot run
        seen.append(beats.report().loops)
        await asyncio.sleep(0.05)  # the loop runs again: it beats
        seen.append(beats.report().loops)
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        seen.append(beats.report().loops)
        return seen

    assert asyncio.run(main()) == [{API_LOOP: "ok"}, {API_LOOP: "late"}, {API_LOOP: "ok"}, {}]
