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


def claim_position(conn: Connection, name: str, position: int) -> bool:
    """Advance ``name`` to ``position`` inside the caller's transaction.

    Returns False when the position was reached before (a redelivery). The UPDATE comes first
    so that a concurrent transaction for the same name waits for this one and then sees it.
    """
    exists = conn.execute(
        select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    ).first()
    if exists is None:
        conn.execute(insert(projection_tracking).values(name=name, position=position))
        return True
    result = conn.execute(
        update(projection_tracking)
        .where(projection_tracking.c.name == name, projection_tracking.c.position < position)
        .values(position=position)
    )
    return result.rowcount == 1


def read_position(conn: Connection, name: str) -> int:
    row = conn.execute(
        select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    ).first()
    return 0 if row is None else int(row[0])


def reset_positions(conn: Connection, prefix: str) -> None:
    conn.execute(projection_tracking.delete().where(projection_tracking.c.name.startswith(prefix)))
