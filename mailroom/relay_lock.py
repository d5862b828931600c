"""One relay per event store: a PostgreSQL advisory lock held for the relay's lifetime.

A second relay started against the same event store waits ("waiting for the relay lock held
by another relay") and takes over when the first one ends, however it ends: the lock belongs
to the first relay's database session, which the server drops when the process dies. The
lock lives on a connection of its own, so it is independent of the event store's pool.

If that connection breaks (the server restarted), the relay tries to take the lock again;
when another relay holds it by then, this one stops publishing and ends, so two relays never
publish side by side for longer than a check interval. An SQLite event store (one machine,
embedded mode) needs no lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg

log = logging.getLogger(__name__)

RETRY_S = 1.0  # how often a waiting relay tries the lock
CHECK_S = 1.0  # how often the holder checks that its lock session is still there


class RelayLockLostError(RuntimeError):
    """Another relay took the lock while this one's session was gone."""


def lock_key(event_store_url: str) -> int:
    """A signed 64-bit key per event store (database and schema, not the credentials)."""
    parts = urlsplit(event_store_url)
    schema = parse_qs(parts.query).get("schema", ["public"])[0]
    where = f"mailroom-relay:{parts.hostname}:{parts.port}:{parts.path}:{schema}"
    return int.from_bytes(hashlib.sha256(where.encode()).digest()[:8], "big", signed=True)


def _conninfo(event_store_url: str) -> str:
    """The libpq URL without our own ``schema=`` parameter (libpq would refuse it)."""
    parts = urlsplit(event_store_url)
    query = "&".join(
        f"{name}={value}"
        for name, values in parse_qs(parts.query).items()
        if name == "sslmode" or name == "application_name"
        for value in values
    )
    return urlunsplit(parts._replace(scheme="postgresql", query=query))


class RelayLock:
    def __init__(self, event_store_url: str, connect_timeout_s: float = 3.0) -> None:
        self.conninfo = _conninfo(event_store_url)
        self.key = lock_key(event_store_url)
        self.connect_timeout_s = connect_timeout_s
        self.conn: psycopg.Connection[tuple[object, ...]] | None = None

    def try_acquire(self) -> bool:
        """One attempt: True when this process holds the lock now."""
        self.release()
        try:
            conn = psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout_s)),
                application_name="mailroom-relay-lock",
            )
        except psycopg.OperationalError as exc:
            log.warning("relay lock: database unreachable (%s); retrying", exc)
            return False
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if row is not None and row[0]:
            self.conn = conn
            return True
        conn.close()
        return False

    def acquire(self, stop: threading.Event) -> bool:
        """Wait until the lock is ours (True) or ``stop`` is set (False)."""
        waiting_logged = False
        while not stop.is_set():
            if self.try_acquire():
                log.info("relay lock acquired")
                return True
            if not waiting_logged:
                log.info("waiting for the relay lock held by another relay")
                waiting_logged = True
            stop.wait(RETRY_S)
        return False

    def still_held(self) -> bool:
        """Whether our lock session is alive; a broken session is replaced if the lock is
        free. Raises RelayLockLostError when another relay holds it meanwhile."""
        if self.conn is not None:
            try:
                self.conn.execute("SELECT 1")
                return True
            except psycopg.Error:
                log.warning("relay lock: the lock session was lost; taking the lock again")
                self.release()
        if self.try_acquire():
            log.info("relay lock acquired again")
            return True
        if self.conn is None and self._held_by_other():
            raise RelayLockLostError("another relay holds the relay lock now")
        return False  # database still away: nobody else can publish from it either

    def _held_by_other(self) -> bool:
        try:
            with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND objsubid = 1 AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
                    ((self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF),
                ).fetchone()
        except psycopg.Error:
            return False
        return row is not None and int(str(row[0])) > 0

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None


def _watch(
    lock: RelayLock, stop: threading.Event, done: threading.Event, lost: threading.Event
) -> None:
    while not done.wait(CHECK_S) and not stop.is_set():
        try:
            lock.still_held()
        except RelayLockLostError:
            log.error("another relay took over the relay lock; this relay stops")
            lost.set()
            stop.set()
            return


@contextlib.contextmanager
def relay_lock(event_store_url: str, stop: threading.Event) -> Iterator[threading.Event | None]:
    """Hold the relay lock inside the block. Yields an event set when the lock was lost
    (``stop`` is set too), or None when ``stop`` was set while waiting: do not publish then.
    Without PostgreSQL, yields at once (nothing to share the event store with)."""
    lost = threading.Event()
    if not event_store_url.startswith(("postgresql://", "postgres://")):
        yield lost
        return
    lock = RelayLock(event_store_url)
    if not lock.acquire(stop):
        yield None
        return
    done = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(lock, stop, done, lost), name="relay-lock", daemon=True
    )
    watcher.start()
    try:
        yield lost
    finally:
        done.set()
        watcher.join(timeout=10)
        lock.release()
