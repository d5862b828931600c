"""The event store's PostgreSQL recorder against a real server: one round trip per insert,
the table lock and the library's guarantees (ids in commit order, atomic tracking) kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

from mailroom.adapters.postgres_recorder import BoundedPostgresProcessRecorder


@pytest.fixture
def recorder(postgres_url: str, postgres_schema: str) -> Iterator[BoundedPostgresProcessRecorder]:
    params = conninfo_to_dict(postgres_url)
    datastore = PostgresDatastore(
        str(params.get("dbname", "postgres")),
        str(params.get("host", "127.0.0.1")),
        str(params.get("port", "5432")),
        str(params.get("user", "postgres")),
        str(params.get("password", "")),
        schema=postgres_schema,
        pool_size=1,
        max_overflow=0,  # one connection: a test sees whether it was left usable
        lock_timeout=5,
    )
    recorder = BoundedPostgresProcessRecorder(
        datastore, events_table_name="stored_events", tracking_table_name="tracking"
    )
    recorder.create_table()
    yield recorder
    datastore.close()


def event(originator: uuid.UUID | None = None, version: int = 1) -> StoredEvent:
    return StoredEvent(originator or uuid.uuid4(), version, "test.Event", b"{}")


def test_an_insert_returns_its_notification_ids_in_order(recorder):
    first = recorder.insert_events([event(), event()])
    second = recorder.insert_events([event()])
    assert first is not None and second is not None
    assert len(first) == 2 and first[0] < first[1] < second[0]
    stored = recorder.select_notifications(1, 10)
    assert [n.id for n in stored] == [*first, *second]


def test_a_conflicting_insert_stores_nothing_and_leaves_the_connection_usable(recorder):
    taken = uuid.uuid4()
    recorder.insert_events([event(taken)])
    bystander = event()
    with pytest.raises(IntegrityError):
        recorder.insert_events([bystander, event(taken)])
    assert recorder.select_events(bystander.originator_id) == []
    # The pool has one connection: had it been returned inside an aborted transaction,
    # this insert would fail.
    assert recorder.insert_events([event()])


def test_tracking_is_recorded_with_the_events_or_not_at_all(recorder):
    recorder.insert_events([event()], tracking=Tracking("upstream", 5))
    again = event()
    with pytest.raises(IntegrityError):
        recorder.insert_events([again], tracking=Tracking("upstream", 5))
    assert recorder.select_events(again.originator_id) == []
    assert recorder.insert_events([], tracking=Tracking("upstream", 6)) is None
    assert recorder.max_tracking_id("upstream") == 6


def test_the_statements_and_the_commit_go_to_the_server_in_one_batch(recorder, tmp_path: Path):
    """libpq's trace of the insert shows one Sync: LOCK, NOTIFY, INSERT and COMMIT were
    sent together, so the table lock is not held across a second round trip (the
    library's own insert syncs after the INSERT and sends COMMIT after reading the ids)."""
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        with recorder.datastore.get_connection() as conn:  # the pool's only connection
            conn.pgconn.trace(out.fileno())
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            recorder.insert_events([event(), event()])
        finally:
            with recorder.datastore.get_connection() as conn:
                conn.pgconn.untrace()
    frontend = [line.split("\t") for line in trace.read_text().splitlines()]
    sent = [fields[2] for fields in frontend if len(fields) > 2 and fields[0] == "F"]
    assert sent.count("Sync") == 1, sent
    text = trace.read_text()
    assert "LOCK TABLE" in text and "NOTIFY" in text and "COMMIT" in text
