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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

GRACE_S = 60.0  # scheduling, a slow commit: slack on top of every promise
# The longest a consumer may take over one event (Kafka: over one poll's records, its
# max.poll.interval.ms); slow consumers (OCR of a letter of many pages) get longer.
EVENT_TURN_S = 5 * 60.0
SLOW_EVENT_TURN_S = 30 * 60.0


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
