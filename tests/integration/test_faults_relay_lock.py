"""The relay lock (mailroom.relay_lock) against the test PostgreSQL server: one holder per
event store, free again when the holder's session ends, none needed for SQLite."""

from __future__ import annotations

import threading

import pytest

from mailroom.relay_lock import RelayLock, RelayLockLostError, lock_key, relay_lock


def test_one_relay_holds_the_lock_the_other_gets_it_once_the_session_ends(
    postgres_url: str, postgres_schema: str
):
    url = f"{postgres_url}?schema={postgres_schema}"
    first, second = RelayLock(url), RelayLock(url)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.still_held()
    first.release()  # as when the process dies: the server ends the session
    assert second.try_acquire()
    second.release()


def test_the_key_is_per_event_store_not_per_credentials():
    store = "postgresql://{}127.0.0.1:5432/mailroom?schema={}"
    assert lock_key(store.format("", "a")) != lock_key(store.format("", "b"))
    assert lock_key(store.format("", "a")) == lock_key(store.format("relay:geheim@", "a"))


def test_a_waiting_relay_gives_up_when_asked_to_stop(postgres_url: str, postgres_schema: str):
    url = f"{postgres_url}?schema={postgres_schema}"
    holder = RelayLock(url)
    assert holder.try_acquire()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with relay_lock(url, stop) as lost:
        assert lost is None  # never held: the relay must not publish
    holder.release()


def test_sqlite_needs_no_lock(tmp_path):
    with relay_lock(f"sqlite:///{tmp_path / 'events.sqlite'}", threading.Event()) as lost:
        assert lost is not None and not lost.is_set()


def test_a_relay_whose_session_was_lost_stops_if_another_took_the_lock(
    postgres_url: str, postgres_schema: str
):
    url = f"{postgres_url}?schema={postgres_schema}"
    first, second = RelayLock(url), RelayLock(url)
    assert first.try_acquire()
    first.release()  # its session is gone (say, the server restarted) ...
    assert second.try_acquire()  # ... and the other relay was quicker
    with pytest.raises(RelayLockLostError):
        first.still_held()
    second.release()
