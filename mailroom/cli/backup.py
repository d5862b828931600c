"""``mailroom backup PATH``, ``mailroom restore PATH`` and ``mailroom reconcile``.

See ``mailroom.backup`` for what a backup holds and docs/operations-backup.md for the
procedures of both modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from mailroom.cli.main import app


@contextmanager
def _blob_progress(verb: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the blobs, shown from the first blob on (so a refusal before
    any blob is copied stays one line)."""
    progress = Progress(
        TextColumn(f"{verb} blobs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    )
    task: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if not task:
            progress.start()
            task.append(progress.add_task(verb, total=total))
        progress.update(task[0], completed=done, total=total)

    try:
        yield update
    finally:
        progress.stop()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("backup")
def backup(
    path: Annotated[Path, typer.Argument(help="A new (or empty) directory for the backup")],
) -> None:
    """Back up the install while it runs: event store, views, blobs and the secret.

    Embedded mode: SQLite online backups. Production: pg_dump of the event store's schema
    and a copy of the bucket (the machine's pg_dump must match the server's major version).
    """
    from mailroom.backup import BackupError, create_backup
    from mailroom.config import Settings

    try:
        with _blob_progress("Copying") as progress:
            manifest = create_backup(Settings(), path, progress)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    counts = ", ".join(f"{n} {what}" for what, n in manifest["counts"].items())
    typer.echo(f"backup written to {path} ({manifest['mode']}: {counts})")


@app.command("restore")
def restore(
    path: Annotated[Path, typer.Argument(help="A backup directory made by `mailroom backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty data directory / schema / bucket")
    ] = False,
) -> None:
    """Restore a backup into an empty install (stop the mailroom first), verify every
    checksum, bring the read models up to the event store and reconcile."""
    from mailroom.backup import BackupError, restore_backup
    from mailroom.config import Settings

    try:
        with _blob_progress("Restoring") as progress:
            restore_backup(Settings(), path, force, progress)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"restored from {path}; reconciliation found nothing amiss")


@app.command("reconcile")
def reconcile(
    checksums: Annotated[
        bool, typer.Option(help="Hash every referenced blob (else: only check it exists)")
    ] = True,
) -> None:
    """Check the install against its event store: every referenced blob present and intact,
    the status view and the case directory equal to a rebuild. Exit 1 on any finding."""
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.reconcile import reconcile as run

    mailroom = build(Settings())
    try:
        findings = run(mailroom, checksums)
    finally:
        mailroom.stop()
    for finding in findings:
        typer.echo(finding)
    if findings:
        raise _fail(f"{len(findings)} findings")
    typer.echo("reconciled: event store, blobs and views agree")
