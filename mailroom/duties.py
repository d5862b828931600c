"""Periodic duties: work that is due by the clock rather than by an event (a Postfach
document unread too long goes by post). Each belongs to a consumer and runs where that
consumer runs: in the server process (embedded) or in its worker process (production)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from mailroom.outages import outage_of

log = logging.getLogger(__name__)


@dataclass
class PeriodicDuty:
    name: str
    owner: str  # the consumer whose process runs it
    interval_s: float
    run_once: Callable[[], int]  # returns how many things it did
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"duty-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                done = self.run_once()
            except Exception as exc:  # an outage or a bug: try again at the next interval
                what = "unavailable" if outage_of(exc) else "failed"
                log.warning("duty %s %s: %s", self.name, what, exc)
                continue
            if done:
                log.info("duty %s: %d done", self.name, done)
