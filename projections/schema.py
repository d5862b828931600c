"""The views database's schema, managed by Alembic migrations (``projections/migrations``).

Every process upgrades the schema at start (under a PostgreSQL advisory lock, so processes
starting together do not race). An install from before migrations existed has the baseline
tables but no version table: it is stamped at the baseline first and then upgraded, so an
upgraded install keeps its ``var/`` and its views.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "views_alembic_version"
BASELINE = "0001"
_LOCK_KEY = 7_261_001  # any constant unique to this schema


def alembic_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = alembic_config(conn)
        if _is_unversioned_install(conn):
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def _is_unversioned_install(conn: Connection) -> bool:
    tables = set(inspect(conn).get_table_names())
    return "projection_tracking" in tables and VERSION_TABLE not in tables
