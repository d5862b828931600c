"""What a failure says about the world: a dependency down, a disk full, or neither.

An outage is not the fault of the request or the event being processed: the HTTP layer
answers 503/507 with Retry-After instead of 500, and the runners wait for the dependency
instead of counting the attempt against the event (which would send good letters to
triage during a database restart). Everything else is treated as a problem of the input.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass

import eventsourcing.persistence as es
import sqlalchemy.exc as sa

EVENT_STORE = "event_store"
VIEWS = "views"
BLOB_STORE = "blob_store"
BROKER = "broker"
DISK = "disk"

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_MESSAGES = ("database or disk is full", "no space left on device", "disk quota exceeded")


class DependencyUnavailableError(Exception):
    """A store the mailroom needs cannot be reached (or did not answer in time)."""

    def __init__(self, dependency: str, detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable" + (f": {detail}" if detail else ""))
        self.dependency = dependency


class StorageFullError(Exception):
    """A store refused to write because its disk or quota is full."""

    def __init__(self, dependency: str, detail: str = "") -> None:
        super().__init__(f"{dependency} is full" + (f": {detail}" if detail else ""))
        self.dependency = dependency


# The exception types that may signal an outage (``outage_of`` decides for each error).
OUTAGE_TYPES: tuple[type[Exception], ...] = (
    DependencyUnavailableError,
    StorageFullError,
    OSError,
    es.OperationalError,
    es.InterfaceError,
    sa.OperationalError,
    sa.InterfaceError,
    sa.TimeoutError,
    sa.DBAPIError,
    sqlite3.OperationalError,
)


@dataclass(frozen=True)
class Outage:
    dependency: str
    full: bool  # storage full (507) rather than unreachable (503)


def outage_of(exc: BaseException) -> Outage | None:
    """The outage behind ``exc`` (or one of its causes), or None if it is no outage."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _classify(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _classify(exc: BaseException) -> Outage | None:
    if isinstance(exc, StorageFullError):
        return Outage(exc.dependency, full=True)
    if isinstance(exc, DependencyUnavailableError):
        return Outage(exc.dependency, full=False)
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return Outage(DISK, full=True)
    dependency = _dependency_of(exc)
    if dependency is None:
        return None
    message = str(exc).lower()
    return Outage(dependency, full=any(text in message for text in _FULL_MESSAGES))


def _dependency_of(exc: BaseException) -> str | None:
    if isinstance(exc, es.OperationalError | es.InterfaceError):
        return EVENT_STORE
    if isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
        return VIEWS
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return VIEWS
    if isinstance(exc, sqlite3.OperationalError):
        return EVENT_STORE
    if type(exc).__module__.startswith("kafka.errors") and getattr(exc, "retriable", False):
        return BROKER
    return None
