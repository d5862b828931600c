"""The event store's PostgreSQL recorder against a real server: one round trip per insert,
the table lock and the library's guarantees (ids in commit order, atomic tracking) kept."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
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


def test_an_insert_stores_every_field_as_it_was_given(recorder):
    binary = StoredEvent(uuid.uuid4(), 7, 'test.Odd"Topic,{x}', bytes(range(256)) + b'\\"{,}')
    recorder.insert_events([binary])
    (stored,) = recorder.select_events(binary.originator_id)
    assert (stored.originator_version, stored.topic, stored.state) == (
        binary.originator_version,
        binary.topic,
        binary.state,
    )


def test_the_insert_columns_are_dumped_by_the_fixed_binary_array_dumpers(recorder):
    """Not by psycopg's list dumper, which inspects every element on every call."""
    from psycopg.adapt import PyFormat

    from mailroom.adapters import pg_arrays

    with recorder.datastore.get_connection() as conn:
        for array in (
            pg_arrays.UuidArray,
            pg_arrays.BigintArray,
            pg_arrays.TextArray,
            pg_arrays.ByteaArray,
        ):
            dumper = conn.adapters.get_dumper(array, PyFormat.BINARY)
            assert issubclass(dumper, pg_arrays._ArrayDumper), (array, dumper)


def test_binary_arrays_arrive_as_postgresql_arrays_of_their_type(postgres_url: str):
    from mailroom.adapters.pg_arrays import BigintArray, ByteaArray, TextArray, UuidArray

    ids = [uuid.uuid4(), uuid.UUID(int=0)]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT %s, %s, %s, %s, pg_typeof(%s)::text, %s, cardinality(%s)",
            (
                UuidArray(ids),
                BigintArray([0, -1, 2**63 - 1]),
                TextArray(["Straße ä", "", 'a,{"}']),
                ByteaArray([b"", bytes(range(256))]),
                BigintArray([1]),
                UuidArray([]),
                TextArray([]),
            ),
            binary=True,
        ).fetchone()
    assert row == (
        ids,
        [0, -1, 2**63 - 1],
        ["Straße ä", "", 'a,{"}'],
        [b"", bytes(range(256))],
        "bigint[]",
        [],
        0,
    )


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


def _frontend_messages(recorder, insert) -> tuple[list[str], str]:
    """The protocol messages libpq sent for ``insert()``, and the whole trace."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "libpq.trace"
        with trace.open("w") as out:
            with recorder.datastore.get_connection() as conn:  # the pool's only connection
                conn.pgconn.trace(out.fileno())
                conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                insert()
            finally:
                with recorder.datastore.get_connection() as conn:
                    conn.pgconn.untrace()
        text = trace.read_text()
    fields = [line.split("\t") for line in text.splitlines()]
    return [f[2] for f in fields if len(f) > 2 and f[0] == "F"], text


def test_an_insert_is_one_prepared_statement_in_one_round_trip(recorder):
    """After the first insert on a connection (which prepares the statement), an insert is
    Bind, Execute and one Sync: the lock, the notification and the insert run in the
    server function, and the statement commits by itself."""
    recorder.insert_events([event()])
    sent, text = _frontend_messages(recorder, lambda: recorder.insert_events([event(), event()]))
    assert sent.count("Sync") == 1 and "Parse" not in sent, sent
    assert "insert_locked" in recorder.insert_locked_statement.as_string()
    assert "BEGIN" not in text and "COMMIT" not in text  # the statement's own transaction


def test_a_tracked_insert_sends_its_statements_and_the_commit_in_one_batch(recorder):
    """libpq's trace of a worker's insert (with tracking) shows one Sync: LOCK, NOTIFY,
    the tracking row, INSERT and COMMIT were sent together, so the table lock is not held
    across a second round trip (the library's own insert syncs after the INSERT and sends
    COMMIT after reading the ids)."""
    sent, text = _frontend_messages(
        recorder,
        lambda: recorder.insert_events([event(), event()], tracking=Tracking("upstream", 1)),
    )
    assert sent.count("Sync") == 1, sent
    assert "LOCK TABLE" in text and "NOTIFY" in text and "COMMIT" in text


def test_an_insert_waits_for_the_exclusive_table_lock(recorder, postgres_url: str):
    """The untracked insert takes the EXCLUSIVE lock (not only the ROW EXCLUSIVE lock every
    INSERT takes): it waits while another transaction holds a ROW EXCLUSIVE lock, so
    notification ids commit in the order they were issued."""
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
    with psycopg.connect(postgres_url) as other:
        other.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")  # an open transaction
        with ThreadPoolExecutor(1) as pool:
            insert = pool.submit(recorder.insert_events, [event()])
            time.sleep(0.5)
            assert not insert.done()  # held back by the lock
            other.commit()
            assert insert.result(timeout=5)
