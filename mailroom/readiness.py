"""Readiness: can this mailroom accept and process mail right now, and if not, why.

Each dependency is probed in its own thread with a time limit, so one hanging store cannot
make the answer slow; the answer names what is wrong in a word ("unreachable", "full",
"stalled") and never passes on exception texts, host names or credentials.
"""

from __future__ import annotations

import concurrent.futures
import logging
import shutil
import threading
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
        """This process can take requests: every dependency answers. A stalled consumer does
        not make it unready — taking API processes out of the load balancer would stop the
        intake too and mend nothing — it makes the mailroom "degraded" (and /metrics says so)."""
        return all(state == OK for state in self.checks.values())

    @property
    def degraded(self) -> bool:
        return any(c.state == STALLED for c in self.consumers)

    def as_json(self) -> dict[str, object]:
        status = "not_ready" if not self.ready else "degraded" if self.degraded else "ready"
        return {
            "status": status,
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


class _UnreachableError(Exception):
    pass


class KafkaCheck:
    """A check that the broker answers a metadata request within ``timeout_s``.

    One client per process, made on first use and again after a failure; a probe still
    hanging from an earlier report counts as "unreachable" rather than queueing behind it."""

    def __init__(self, bootstrap: list[str], timeout_s: float) -> None:
        self.bootstrap = bootstrap
        self.timeout_ms = max(300, int(timeout_s * 700))  # an answer before the report times out
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise _UnreachableError
        try:
            if self._client is None:
                from kafka import KafkaConsumer

                self._client = KafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    client_id="mailroom-readiness",
                    enable_auto_commit=False,
                    bootstrap_timeout_ms=self.timeout_ms,
                    request_timeout_ms=self.timeout_ms + 1000,
                )  # which bootstraps: the first probe
            else:
                self._client.bootstrap(timeout_ms=self.timeout_ms, refresh=True)
        except Exception as exc:
            self._drop_client()
            raise _UnreachableError from exc
        finally:
            self._lock.release()

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # a broken client may fail to close; it is dropped anyway
                log.debug("closing the readiness client failed", exc_info=True)

    def close(self) -> None:
        self._drop_client()


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
        except _UnreachableError:
            log.warning("readiness: %s does not answer", name)
            return UNREACHABLE
        except Exception as exc:
            outage = outage_of(exc)
            log.warning("readiness: %s: %s", name, exc)
            if outage is None:
                return FAILED
            return FULL if outage.full else UNREACHABLE
        return OK

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for check in self.checks.values():
            closer = getattr(check, "close", None)
            if closer is not None:
                closer()
