"""The production half of ``mailroom backup`` / ``restore``: PostgreSQL with the machine's
``pg_dump`` / ``pg_restore`` (custom format, the event store's schema), blobs through the
blob store port (S3 with the minio client). See docs/operations-backup.md."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from mailroom.adapters.event_store import persistence_env
from mailroom.config import Settings

if TYPE_CHECKING:
    from mailroom.backup import Progress


def _database(settings: Settings) -> tuple[dict[str, str], str]:
    """libpq's environment for the event store (the password never on a command line) and
    the event store's schema."""
    env = persistence_env(settings.event_store_url)
    pg = {
        "PGHOST": env["POSTGRES_HOST"],
        "PGPORT": env["POSTGRES_PORT"],
        "PGUSER": env["POSTGRES_USER"],
        "PGPASSWORD": env["POSTGRES_PASSWORD"],
        "PGDATABASE": env["POSTGRES_DBNAME"],
    }
    return pg, env.get("POSTGRES_SCHEMA", "public")


def _run(tool: str, args: list[str], pg: dict[str, str]) -> None:
    from mailroom.backup import BackupError

    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(f"{tool} not found: install the PostgreSQL client tools")
    done = subprocess.run(  # noqa: S603 (our binary, our arguments)
        [binary, *args], env={**os.environ, **pg}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{tool} failed: {lines[-1] if lines else done.returncode}")


def views_in_schema(settings: Settings) -> bool:
    """Whether the read models live in the event store's schema (the default), so the dump
    carries them too."""
    if not settings.views_db:
        return True
    pg, schema = _database(settings)
    views = make_url(settings.views_db)
    return (
        views.get_backend_name() == "postgresql"
        and views.host == pg["PGHOST"]
        and str(views.port or 5432) == pg["PGPORT"]
        and views.database == pg["PGDATABASE"]
        and schema in str(views.query.get("options", ""))
    )


def dump(settings: Settings, target: Path) -> dict[str, Any]:
    """``pg_dump -Fc`` of the event store's schema: one consistent snapshot of the events
    (and of the views when they share the schema)."""
    pg, schema = _database(settings)
    args = ["--format=custom", f"--schema={schema}", "--no-owner", "--no-privileges"]
    _run("pg_dump", [*args, f"--file={target}"], pg)
    return {"schema": schema, "views_included": views_in_schema(settings)}


def restore(
    settings: Settings,
    source: Path,
    manifest: dict[str, Any],
    force: bool,
    progress: Progress | None,
) -> list[str]:
    """Blobs into the (empty) bucket, then ``pg_restore`` into the (empty or absent) schema in
    one transaction, then the read models rebuilt from the event store and reconciled."""
    from mailroom.backup import BackupError, catch_up_and_reconcile, copy_blobs_in
    from mailroom.bootstrap import build_blob_store

    pg, schema = _database(settings)
    if manifest.get("schema") != schema:
        raise BackupError(
            f"the backup holds schema {manifest.get('schema')!r}: point MAILROOM_EVENT_STORE at"
            f" ?schema={manifest.get('schema')} in the database to restore into"
        )
    blobs = build_blob_store(settings)
    blobs.check()  # creates the bucket when it is missing
    if next(iter(blobs.iter_blobs()), None) is not None and not force:
        raise BackupError(f"{settings.blob_store_url} is not empty: use an empty bucket or --force")
    _empty_schema(pg, schema, force)
    copy_blobs_in(source, manifest, lambda: blobs, progress)
    restore_args = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    _run(
        "pg_restore",
        [*restore_args, f"--dbname={pg['PGDATABASE']}", str(source / "events.dump")],
        pg,
    )
    # Views track the positions of the old bus; rebuilt from the log they are complete.
    findings = catch_up_and_reconcile(settings, rebuild=True)
    if findings:
        raise BackupError("restored, but the install does not reconcile: " + "; ".join(findings))
    return findings


def _empty_schema(pg: dict[str, str], schema: str, force: bool) -> None:
    """Drop the target schema when it is empty (pg_restore creates it); refuse one with
    tables unless ``force``."""
    from mailroom.backup import BackupError

    names = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password"}
    given = {names.get(k, "dbname"): v for k, v in pg.items() if v}
    conninfo = make_conninfo(**given, connect_timeout=10)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
        if row and row[0] and not force:
            raise BackupError(
                f"schema {schema} in database {pg['PGDATABASE']} is not empty:"
                " restore into an empty schema or use --force"
            )
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
