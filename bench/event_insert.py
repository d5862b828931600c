"""Client CPU per statement for the event insert's four array parameters: psycopg's list
dumper (which picks a dumper per element on every call) against the fixed binary array
dumpers of ``mailroom/adapters/pg_arrays.py``.

    python bench/event_insert.py [--statements 20000]

The statement is a prepared ``SELECT`` of the four arrays (two events: ids, versions,
topics, states), so what differs is the dumping on the client; PostgreSQL is the one the
test harness starts or finds (127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailroom.adapters.pg_arrays import (
    BigintArray,
    ByteaArray,
    TextArray,
    UuidArray,
    register_array_dumpers,
)
from tests.harness.postgres import postgres_server

STATEMENT = "SELECT cardinality(%s::uuid[]) + cardinality(%s::bigint[])"
STATEMENT += " + cardinality(%s::text[]) + cardinality(%s::bytea[])"


def columns() -> tuple[list[uuid.UUID], list[int], list[str], list[bytes]]:
    return (
        [uuid.uuid4(), uuid.uuid4()],
        [1, 1],
        ["aggregates.mail_item:MailItem.Received", "aggregates.reference_index:Created"],
        [b"{" + b"x" * 900 + b"}", b"{" + b"y" * 120 + b"}"],
    )


def per_statement(conn: psycopg.Connection, params: Callable[[], tuple], n: int) -> float:
    """Thread CPU (ms) per execute of the prepared statement."""
    for _ in range(100):  # prepared after the first executions; warm caches
        conn.execute(STATEMENT, params(), prepare=True)
    started = time.thread_time()
    for _ in range(n):
        conn.execute(STATEMENT, params(), prepare=True)
    return 1000 * (time.thread_time() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=20000)
    args = parser.parse_args()
    register_array_dumpers()
    with postgres_server() as url, psycopg.connect(url, autocommit=True) as conn:
        lists = per_statement(conn, columns, args.statements)

        def fixed() -> tuple:
            ids, versions, topics, states = columns()
            return UuidArray(ids), BigintArray(versions), TextArray(topics), ByteaArray(states)

        arrays = per_statement(conn, fixed, args.statements)
    print(f"client CPU per statement ({args.statements} statements, two events each)")
    print(f"  psycopg's list dumper:     {lists:.3f} ms")
    print(f"  fixed binary array dumpers: {arrays:.3f} ms  ({lists - arrays:.3f} ms less)")


if __name__ == "__main__":
    main()
