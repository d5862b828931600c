"""The views schema made by the migrations is exactly the SQLAlchemy metadata the code uses,
on SQLite and on PostgreSQL, for a fresh install and for installs upgraded from older
revisions (the full-text engine objects, made outside the metadata, are left out)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

import projections
from projections.database import metadata
from projections.schema import VERSION_TABLE, alembic_config, current_revision, upgrade_schema
from projections.search import is_full_text_object

WORKSPACE_TABLES = {"case_view", "case_timeline", "item_view", "search_documents"}


def _import_every_view_module() -> None:
    """Every Table must be in the metadata before comparing: import all modules defining one."""
    for module in pkgutil.iter_modules(projections.__path__):
        if module.name != "migrations":
            importlib.import_module(f"projections.{module.name}")
    importlib.import_module("mailroom.consumers.health")
    importlib.import_module("mailroom.web.saved_filters")  # user preferences, no projection
    importlib.import_module("mailroom.notify.outbox")  # e-mails to send, no projection
    importlib.import_module("mailroom.services.status_limit")  # failed status checks


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name == VERSION_TABLE:
        return False
    table = getattr(getattr(obj, "table", None), "name", None)
    return not is_full_text_object(name, type_, table)


def schema_differences(engine: Engine) -> list[Any]:
    _import_every_view_module()
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        return list(compare_metadata(context, metadata))


@pytest.fixture(params=["sqlite", "postgresql"])
def make_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A factory of engines on one empty database (nothing migrated yet)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.sqlite'}"
    else:
        base = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        url = base.replace("postgresql://", "postgresql+psycopg://", 1)
        url += f"?options=-csearch_path%3D{schema}"
    engines: list[Engine] = []

    def factory() -> Engine:
        engines.append(create_engine(url))
        return engines[-1]

    yield factory
    for engine in engines:
        engine.dispose()


def test_a_fresh_install_has_exactly_the_schema_of_the_code(
    make_engine: Callable[[], Engine],
) -> None:
    engine = make_engine()
    upgrade_schema(engine)
    assert schema_differences(engine) == []
    assert set(inspect(engine).get_table_names()) >= WORKSPACE_TABLES


def test_an_install_at_the_baseline_is_upgraded_to_the_schema_of_the_code(
    make_engine: Callable[[], Engine],
) -> None:
    engine = make_engine()
    upgrade_schema(engine, "0001")
    assert current_revision(engine) == "0001"
    upgrade_schema(engine)
    assert current_revision(engine) == head_revision(engine)
    assert schema_differences(engine) == []


def head_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return ScriptDirectory.from_config(alembic_config(conn)).get_current_head()


def test_an_old_install_made_before_migrations_is_stamped_and_upgraded(
    make_engine: Callable[[], Engine],
) -> None:
    engine = make_engine()
    upgrade_schema(engine, "0001")  # the baseline tables ...
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))  # ... as made by hand: no version
        conn.execute(
            text("INSERT INTO projection_tracking (name, position) VALUES ('cases@log', 7)")
        )
    upgrade_schema(engine)
    assert current_revision(engine) == head_revision(engine)
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT position FROM projection_tracking")).scalar_one()
    assert kept == 7


def test_the_workspace_migration_can_be_undone(make_engine: Callable[[], Engine]) -> None:
    engine = make_engine()
    upgrade_schema(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    names = set(inspect(engine).get_table_names())
    assert not names & WORKSPACE_TABLES
    assert not any(name.startswith("search_fts") for name in names)
    upgrade_schema(engine)
    assert schema_differences(engine) == []


def test_the_upgrade_to_0005_lets_the_status_view_rebuild_with_citizen_accounts(
    make_engine: Callable[[], Engine],
) -> None:
    engine = make_engine()
    upgrade_schema(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projection_tracking (name, position) VALUES"
                " ('status@log', 9), ('cases@log', 9)"
            )
        )
    upgrade_schema(engine, "0005")
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM projection_tracking")).scalars())
    assert names == {"cases@log"}  # status starts again from the first event; cases keeps
