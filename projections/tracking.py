"""Tracking positions of read models, written in the same transaction as the view rows."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, String, Table, insert, select, update

from projections.database import metadata

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
)


def lock_position(conn: Connection, name: str) -> int | None:
    """The position of ``name`` (None: none recorded yet), locked for the caller's transaction.

    The UPDATE comes first so that a concurrent transaction for the same name waits for this
    one and then sees the position it left (PostgreSQL: the row lock; SQLite: the write lock).
    """
    conn.execute(
        update(projection_tracking)
        .where(projection_tracking.c.name == name)
        .values(position=projection_tracking.c.position)
    )
    row = conn.execute(
        select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    ).first()
    return None if row is None else int(row[0])


def advance_position(conn: Connection, name: str, before: int | None, position: int) -> None:
    """Record ``position`` for ``name``, which ``lock_position`` found at ``before``."""
    if before is None:
        conn.execute(insert(projection_tracking).values(name=name, position=position))
    elif position > before:
        conn.execute(
            update(projection_tracking)
            .where(projection_tracking.c.name == name)
            .values(position=position)
        )


def read_position(conn: Connection, name: str) -> int:
    row = conn.execute(
        select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    ).first()
    return 0 if row is None else int(row[0])


def reset_positions(conn: Connection, prefix: str) -> None:
    conn.execute(projection_tracking.delete().where(projection_tracking.c.name.startswith(prefix)))
