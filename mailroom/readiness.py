"""Readiness: can this mailroom accept and process mail right now, and if not, why.

Each dependency is probed in its own thread with a time limit, so one hanging store cannot
make the answer slow; the answer names what is wrong in a word ("unreachable", "full",
"stalled") and never passes on exception texts, host names or credentials.
"""

from __future__ import annotations

import concurrent.futures
import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailroom.consumers.health import STALLED, HealthRecord, HealthStore
from mailroom.outages import outage_of

log = logging.getLogger(__name__)

OK = "ok"
UNREACHABLE = "unreachable"
FULL = "full"
TIMEOUT = "timeout"
FAILED = "failed"


@dataclass(frozen=True)
class ReadinessReport:
    checks: dict[str, str]  # dependency -> ok | unreachable | full | timeout | failed
    consumers: list[HealthRecord]  # consumers that are retrying, waiting or stalled

    @property
    def ready(self) -> bool:
        healthy = all(state == OK for state in self.checks.values())
        return healthy and not any(c.state == STALLED for c in self.consumers)

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not_ready",
            "checks": self.checks,
            "consumers": [
                {
                    "consumer": c.consumer,
                    "source": c.source,
                    "state": c.state,
                    "attempts": c.attempts,
                    "since": c.since.isoformat(),
                }
                for c in self.consumers
            ],
        }


def disk_check(path: Path, min_free_bytes: int) -> Callable[[], None]:
    """A check that the disk holding ``path`` has room left."""

    def check() -> None:
        if shutil.disk_usage(path).free < min_free_bytes:
            raise _DiskFullError

    return check


class _DiskFullError(Exception):
    pass


class Readiness:
    def __init__(
        self, checks: Mapping[str, Callable[[], object]], health: HealthStore, timeout_s: float
    ) -> None:
        self.checks = dict(checks)
        self.health = health
        self.timeout_s = timeout_s
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=len(self.checks) + 1, thread_name_prefix="readiness"
        )

    def report(self) -> ReadinessReport:
        futures = {name: self._pool.submit(check) for name, check in self.checks.items()}
        problems = self._pool.submit(self.health.problems)
        states = {name: self._state(name, future) for name, future in futures.items()}
        consumers: list[HealthRecord] = []
        if self._state("consumer_health", problems) == OK:
            consumers = problems.result()
        return ReadinessReport(states, consumers)

    def _state(self, name: str, future: concurrent.futures.Future[Any]) -> str:
        try:
            future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            log.warning("readiness: %s did not answer within %.1f s", name, self.timeout_s)
            return TIMEOUT
        except _DiskFullError:
            return FULL
        except Exception as exc:
            outage = outage_of(exc)
            log.warning("readiness: %s: %s", name, exc)
            if outage is None:
                return FAILED
            return FULL if outage.full else UNREACHABLE
        return OK

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
