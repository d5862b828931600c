"""Liveness of a worker or relay process: its loops beat, a probe asks whether one is late.

A worker that ends by an error ends its process (and is restarted); one that *hangs* — a
call that never returns, a lock never released — would sit there holding its partitions
while the mail waits. Each loop therefore says, on every turn, by when it will be back
(``expect_within``): before handling a poll's records the longest that may take (Kafka's
``max.poll.interval.ms``: beyond it the group has dropped the member anyway; the
notification sender its lease on the rows it claimed), before a pause the pause. A loop
past its promise (plus ``GRACE_S``) is late, and the process's ``/healthz`` on
``MAILROOM_METRICS_PORT`` answers 503 naming it, so Kubernetes restarts
the pod. A process with no loop running yet (a relay waiting for the relay lock) is alive.

Docker only marks a container whose health check fails "unhealthy" and systemd has no
probe at all, so a process also watches itself (``Watchdog``, ``MAILROOM_EXIT_WHEN_HUNG``):
a loop late there ends the process with ``EXIT_HUNG``, and the restart policy starts a
fresh one. Nothing is lost by that: what a loop had not finished is redelivered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

GRACE_S = 60.0  # scheduling, a slow commit: slack on top of every promise
# The longest a consumer may take over one event (Kafka: over one poll's records, its
# max.poll.interval.ms); slow consumers (OCR of a letter of many pages) get longer.
EVENT_TURN_S = 5 * 60.0
SLOW_EVENT_TURN_S = 30 * 60.0
EXIT_HUNG = 70  # EX_SOFTWARE: the process ended itself because a loop hung
API_LOOP = "api event loop"


@dataclass(frozen=True)
class LivenessReport:
    loops: dict[str, str]  # loop name -> "ok" | "late"

    @property
    def alive(self) -> bool:
        return all(state == "ok" for state in self.loops.values())

    def as_json(self) -> dict[str, object]:
        """The answer of a ``/healthz``: loop names and states, nothing else."""
        return {"status": "alive" if self.alive else "late", "loops": self.loops}


class Heartbeats:
    def __init__(self, clock: Callable[[], float] = time.monotonic, grace_s: float = GRACE_S):
        self._clock = clock
        self._grace_s = grace_s
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()

    def expect_within(self, loop: str, seconds: float) -> None:
        """``loop`` is turning: it will be back within ``seconds``."""
        with self._lock:
            self._due[loop] = self._clock() + seconds + self._grace_s

    def forget(self, loop: str) -> None:
        """``loop`` ended on purpose (a stop): it is no longer expected."""
        with self._lock:
            self._due.pop(loop, None)

    def report(self) -> LivenessReport:
        now = self._clock()
        with self._lock:
            due = dict(self._due)
        return LivenessReport({loop: "ok" if now <= at else "late" for loop, at in due.items()})


HEARTBEATS = Heartbeats()  # this process's loops


class Watchdog:
    """Ends this process when one of its loops is late, so that its supervisor restarts it.

    Checks every ``check_every_s``; ``end_process`` is ``os._exit``: a hung thread may hold
    a lock that an orderly shutdown would wait for forever.
    """

    def __init__(
        self,
        heartbeats: Heartbeats,
        check_every_s: float = 10.0,
        end_process: Callable[[int], object] = os._exit,
    ) -> None:
        self.heartbeats = heartbeats
        self.check_every_s = check_every_s
        self._end_process = end_process

    def check(self) -> bool:
        """True while every loop is on time; otherwise logs the late ones and exits."""
        report = self.heartbeats.report()
        if report.alive:
            return True
        late = sorted(loop for loop, state in report.loops.items() if state == "late")
        log.critical(
            "loop hung past its promise: %s; ending the process (exit %s) so that it is restarted",
            ", ".join(late),
            EXIT_HUNG,
        )
        for handler in logging.getLogger().handlers:  # os._exit skips logging's own flush
            handler.flush()
        self._end_process(EXIT_HUNG)
        return False

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(self.check_every_s):
            if not self.check():
                return

    def start(self) -> threading.Event:
        """Watch in a daemon thread until the returned event is set."""
        stop = threading.Event()
        threading.Thread(target=self.watch, args=(stop,), name="watchdog", daemon=True).start()
        return stop


def watch_this_process(enabled: bool) -> threading.Event | None:
    """Start the watchdog of this process's loops (``MAILROOM_EXIT_WHEN_HUNG``); set the
    returned event to stop it."""
    return Watchdog(HEARTBEATS).start() if enabled else None


async def beat(heartbeats: Heartbeats, loop: str, every_s: float) -> None:
    """Promise, from an asyncio event loop, to be back within ``every_s``, again and again:
    a loop blocked by a call that never returns (a blocking call in a coroutine, say)
    stops beating and turns late. Runs until cancelled."""
    try:
        while True:
            heartbeats.expect_within(loop, every_s)
            await asyncio.sleep(every_s / 2)
    finally:
        heartbeats.forget(loop)
