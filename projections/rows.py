"""The rows a projection reads and writes while it applies events, inside one transaction.

A view keeps one row per aggregate (``get``, ``insert``, ``update`` by a key column) and may
have tables that only grow, such as a timeline (``append``). Rows are read once — a batch
loads the rows of all its aggregates in one query (``load``) — kept for the rest of the
transaction, and written back by ``flush`` in bulk: new rows inserted, changed rows updated
(only the columns that changed), appended rows inserted in the order they came. A batch of a
thousand events so costs a handful of statements instead of several per event, and leaves
the tables exactly as applying the events one by one would.

Reading anything else from the database (``connection``) writes what is pending first;
``stored`` reads without, for a caller that combines ``appended`` with what is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Table, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY

T = TypeVar("T")
LOAD_CHUNK = 500  # keys per SELECT … IN (…): well below SQLite's limit of bound variables
LOAD_CHUNK_POSTGRES = 10_000  # keys per SELECT … = ANY(array)


@dataclass
class _Row:
    values: dict[str, Any]
    new: bool  # not in the database yet
    changed: set[str] = field(default_factory=set)


class Rows:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rows: dict[tuple[str, str], _Row | None] = {}  # None: known to be absent
        self._keys: dict[str, Column[Any]] = {}
        self._appended: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
        self._indexes: dict[tuple[str, str], dict[Any, list[dict[str, Any]]]] = {}
        self._memo: dict[Any, Any] = {}

    # -- one row per aggregate -----------------------------------------------------------

    def load(self, key: Column[Any], values: Iterable[str]) -> None:
        """Read the rows of these keys (and note the ones that do not exist) in bulk."""
        table = key.table
        missing = sorted({v for v in values if (table.name, v) not in self._rows})
        postgres = self._conn.dialect.name == "postgresql"
        size = LOAD_CHUNK_POSTGRES if postgres else LOAD_CHUNK
        for start in range(0, len(missing), size):
            chunk = missing[start : start + size]
            if postgres:  # one array parameter rather than a placeholder per key
                match = key == any_(bindparam("keys", chunk, type_=ARRAY(key.type)))
            else:
                match = key.in_(chunk)
            found = self._conn.execute(select(table).where(match)).mappings()
            for row in found:
                self._rows[(table.name, row[key.name])] = _Row(dict(row), new=False)
            for value in chunk:
                self._rows.setdefault((table.name, value), None)
        self._keys[table.name] = key

    def get(self, key: Column[Any], value: str) -> dict[str, Any] | None:
        """The row as the events so far left it (a copy), None when there is none."""
        entry = self._entry(key, value)
        return None if entry is None else dict(entry.values)

    def insert(self, key: Column[Any], values: dict[str, Any]) -> bool:
        """Add the row unless one with its key exists (then False, and nothing changes)."""
        value = values[key.name]
        if self._entry(key, value) is not None:
            return False
        self._keys[key.table.name] = key
        self._rows.pop((key.table.name, value), None)  # new rows are written in this order
        self._rows[(key.table.name, value)] = _Row(dict(values), new=True)
        return True

    def update(self, key: Column[Any], value: str, changes: dict[str, Any]) -> None:
        entry = self._entry(key, value)
        if entry is None:
            raise KeyError(f"no {key.table.name} row {value!r}")
        entry.values.update(changes)
        if not entry.new:
            entry.changed.update(changes)

    def created(self, key: Column[Any], value: str) -> bool:
        """Whether this transaction added the row and nothing of it has been written yet."""
        entry = self._rows.get((key.table.name, value))
        return entry is not None and entry.new

    def _entry(self, key: Column[Any], value: str) -> _Row | None:
        if (key.table.name, value) not in self._rows:
            self.load(key, [value])
        return self._rows[(key.table.name, value)]

    # -- tables that only grow -------------------------------------------------------------

    def append(self, table: Table, values: dict[str, Any]) -> None:
        if table.name not in self._appended:
            self._appended[table.name] = (table, [])
        self._appended[table.name][1].append(values)
        if self._indexes:
            for (name, column), index in self._indexes.items():
                if name == table.name:
                    index.setdefault(values.get(column), []).append(values)

    def appended(self, column: Column[Any], value: Any) -> list[dict[str, Any]]:
        """The rows appended in this transaction and not yet written whose ``column`` has
        ``value``, oldest first (the database holds the ones written before)."""
        table = column.table.name
        index = self._indexes.get((table, column.name))
        if index is None:
            index = {}
            for values in self._appended.get(table, (column.table, []))[1]:
                index.setdefault(values.get(column.name), []).append(values)
            self._indexes[(table, column.name)] = index
        return list(index.get(value, []))

    # -- everything else -------------------------------------------------------------------

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, asked once per transaction for ``key`` (e.g. a staff member's name)."""
        if key not in self._memo:
            self._memo[key] = compute()
        result: T = self._memo[key]
        return result

    def connection(self) -> Connection:
        """The transaction's connection, with everything pending written."""
        self.flush()
        return self._conn

    def stored(self) -> Connection:
        """The transaction's connection as it is: what was written before, without what is
        pending (for a caller that looks at the pending rows itself, e.g. ``appended``)."""
        return self._conn

    def flush(self) -> None:
        for name, key in self._keys.items():
            entries = [e for (t, _), e in self._rows.items() if t == name and e is not None]
            self._insert(key.table, [e.values for e in entries if e.new])
            self._update(key, [e for e in entries if not e.new and e.changed])
            for entry in entries:
                entry.new = False
                entry.changed = set()
        for table, rows in self._appended.values():
            self._insert(table, rows)
        self._appended.clear()
        self._indexes.clear()

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(dict.fromkeys(c for row in rows for c in row))
        if self._conn.dialect.name == "postgresql":
            _copy(self._conn, table, columns, rows)
        else:
            _executemany(self._conn, table, columns, rows)

    def _update(self, key: Column[Any], entries: list[_Row]) -> None:
        groups: dict[frozenset[str], list[_Row]] = {}
        for entry in entries:
            groups.setdefault(frozenset(entry.changed), []).append(entry)
        table = key.table
        for changed, group in groups.items():
            columns = sorted(changed)
            statement = (
                update(table)
                .where(key == bindparam("key_"))
                .values({c: bindparam(f"new_{c}") for c in columns})
            )
            parameters = [
                {"key_": e.values[key.name], **{f"new_{c}": e.values[c] for c in columns}}
                for e in group
            ]
            self._conn.execute(statement, parameters)


def _copy(conn: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows by COPY, in their order (ids are handed out in that order), in the
    caller's transaction — much faster than an INSERT per row. Like an INSERT, it fails on a
    duplicate key; each value is adapted by psycopg as a bound parameter would be."""
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row.get(c) for c in columns])


def _executemany(
    conn: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    """An INSERT of many rows by the driver's executemany, each value converted by its column
    type's bind processor as a Core ``insert`` would — without building bound parameters row
    by row, which costs more than SQLite's own work."""
    dialect = conn.dialect
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    table_name = dialect.identifier_preparer.format_table(table)
    statement = f"INSERT INTO {table_name} ({names}) VALUES ({marks})"  # noqa: S608 - our names
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    pairs = list(zip(columns, processors, strict=True))
    parameters = [
        tuple(row.get(c) if p is None else p(row.get(c)) for c, p in pairs) for row in rows
    ]
    conn.exec_driver_sql(statement, parameters)
