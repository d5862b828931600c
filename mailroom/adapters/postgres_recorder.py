"""The PostgreSQL process recorder: a time bound on its retries, one round trip per insert.

eventsourcing retries every recorder call up to ten times when the database is away; with
a pool that waits seconds for a connection, a request would hang for half a minute before
the mailroom could answer 503. Here a failed call is repeated once, and only when it
failed fast (a connection that died with a restarted server); a call that already waited
for the pool fails at once. Each insert is one round trip (``OneRoundTripInsert``).
Selected with the library's PROCESS_RECORDER_TOPIC setting.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mailroom.adapters.pg_arrays import (
    BigintArray,
    ByteaArray,
    TextArray,
    UuidArray,
    register_array_dumpers,
)

F = TypeVar("F", bound=Callable[..., Any])

register_array_dumpers()  # for the pool's connections, made after this import

_OPEN_TRANSACTION = frozenset({TransactionStatus.INTRANS, TransactionStatus.INERROR})

_FAST_FAILURE_S = 0.5
_PAUSE_S = 0.1


def _once_more_if_fast(retried: F) -> F:
    call = getattr(retried, "__wrapped__", retried)  # the method without the library's retry

    @functools.wraps(call)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return call(*args, **kwargs)
        except (InterfaceError, OperationalError):
            if time.monotonic() - started > _FAST_FAILURE_S:
                raise
            time.sleep(_PAUSE_S)
            return call(*args, **kwargs)

    return cast(F, bounded)


class OneRoundTripInsert(PostgresProcessRecorder):
    """eventsourcing's insert in one round trip, the table lock held for the server's work
    and the commit only.

    Every insert takes an exclusive lock on the events table (so notification ids commit in
    order, without gaps a reader could pass over). The library's insert syncs the pipeline
    after the INSERT and sends COMMIT after reading the ids (psycopg's transaction blocks
    sync inside a pipeline): the lock stays held over another round trip and the Python
    work in between, which under load waits for the GIL behind other requests.

    Events without tracking (every intake) are one prepared call of a server function that
    takes the lock, notifies and inserts, in the statement's own transaction: one statement
    for psycopg to send instead of six. Events with tracking (the workers) are BEGIN, LOCK,
    NOTIFY, the tracking row, INSERT and COMMIT sent as one pipelined batch; an error aborts
    the rest of it, COMMIT included, and the transaction is rolled back before the
    connection goes back to the pool.
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        super().__init__(
            datastore,
            events_table_name=events_table_name,
            tracking_table_name=tracking_table_name,
        )
        function = Identifier(datastore.schema, f"{self.events_table_name}_insert_locked")
        table = Identifier(datastore.schema, self.events_table_name)
        # Four arrays rather than one array of the library's composite type: sent in binary
        # (mailroom.adapters.pg_arrays), where a composite array is text (every state
        # escaped in Python).
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {function}(originator_ids {id_type}[], "
                "originator_versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {table} AS t "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(originator_ids, originator_versions, topics, states) "
                "RETURNING notification_id; "
                "END $body$"
            ).format(
                function=function,
                id_type=Identifier(datastore.originator_id_type),
                lock_timeout=datastore.lock_timeout,
                table=table,
                channel=Identifier(self.channel_name),
            )
        )
        self._id_array: Callable[[Iterable[Any]], list[Any]] = (
            UuidArray if datastore.originator_id_type == "uuid" else TextArray
        )
        self._insert_locked_bytes: bytes | None = None
        self.insert_locked_statement = SQL(
            "SELECT notification_id FROM {function}(%s, %s, %s, %s) AS notification_id"
        ).format(function=function)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if kwargs.get("tracking") is None:
            return self._insert_untracked(stored_events) if stored_events else None
        return self._insert_tracked(stored_events, **kwargs)

    def _insert_untracked(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        ids = self._id_array(e.originator_id for e in stored_events)
        columns = (
            ids,
            BigintArray(e.originator_version for e in stored_events),
            TextArray(e.topic for e in stored_events),
            ByteaArray(e.state for e in stored_events),
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit  # the statement is its own transaction
            if self._insert_locked_bytes is None:  # composed once: it is the same every time
                self._insert_locked_bytes = self.insert_locked_statement.as_bytes(conn)
            curs.execute(self._insert_locked_bytes, columns, prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    def _insert_tracked(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        inserted: Cursor[DictRow] | None = None
        with self.datastore.get_connection() as conn:
            assert conn.autocommit  # the library's connections: BEGIN and COMMIT are ours
            try:
                with conn.pipeline(), conn.cursor() as control:
                    control.execute("BEGIN")
                    self._insert_events(control, stored_events, **kwargs)  # tracking
                    if stored_events:
                        inserted = conn.cursor()
                        self._insert_stored_events(inserted, stored_events, **kwargs)
                    control.execute("COMMIT")
            except BaseException:
                # Only a live session inside the aborted transaction is rolled back; a dead
                # connection (status UNKNOWN) keeps its own error and is dropped by the pool.
                if conn.info.transaction_status in _OPEN_TRANSACTION:
                    conn.execute("ROLLBACK")
                raise
            if inserted is None:
                return None
            with inserted:
                return self._fetch_ids_after_insert_events(inserted, stored_events, **kwargs)


class BoundedPostgresProcessRecorder(OneRoundTripInsert):
    insert_events = _once_more_if_fast(OneRoundTripInsert.insert_events)
    select_events = _once_more_if_fast(PostgresProcessRecorder.select_events)
    select_notifications = _once_more_if_fast(PostgresProcessRecorder.select_notifications)
    max_notification_id = _once_more_if_fast(PostgresProcessRecorder.max_notification_id)
    insert_tracking = _once_more_if_fast(PostgresProcessRecorder.insert_tracking)
    max_tracking_id = _once_more_if_fast(PostgresProcessRecorder.max_tracking_id)
    has_tracking_id = _once_more_if_fast(PostgresProcessRecorder.has_tracking_id)
