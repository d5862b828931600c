"""The read-model database: one SQLAlchemy metadata for every view and its tracking; the
schema itself is created and upgraded by migrations (``projections.schema``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event

metadata = MetaData()


def create_views_engine(url: str, timeout_s: float = 3.0) -> Engine:
    """An engine whose callers wait at most about ``timeout_s`` for a connection."""
    if url.startswith("sqlite"):
        connect_args = {"timeout": max(5.0, timeout_s * 5), "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(
            url,
            pool_size=5,
            max_overflow=5,
            pool_pre_ping=True,
            pool_timeout=timeout_s,
            connect_args={"connect_timeout": max(1, round(timeout_s))},
        )
    from projections.schema import upgrade_schema

    upgrade_schema(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
