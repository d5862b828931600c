"""``mailroom print``: the print street of the mailroom (Poststelle) — print batches of the
letters that go by post, marking them printed, and recording mail the post brought back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from mailroom.cli.main import app

print_app = typer.Typer(
    help="Letters that go by post: print batches and returns.", no_args_is_help=True
)
app.add_typer(print_app, name="print")

PRINCIPAL = "cli:print"


@print_app.command("batch")
def print_batch(
    out: Annotated[Path, typer.Option("--out", help="Where to write the batch PDF")],
    limit: Annotated[int, typer.Option(help="At most this many letters", min=1)] = 2000,
) -> None:
    """Collect every letter queued for print into one duplex-ready PDF (each letter starts on
    a front side) and write its manifest beside it (FILE.json)."""
    from rich.progress import Progress

    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    if out.suffix.lower() != ".pdf":
        typer.echo(f"error: --out must name a .pdf file, not {out}", err=True)
        raise typer.Exit(2)
    if not out.parent.is_dir():
        typer.echo(f"error: folder {out.parent} does not exist", err=True)
        raise typer.Exit(2)
    mailroom = build(Settings())
    try:
        principal = system_principal(PRINCIPAL)
        waiting = len(mailroom.services.letters.print_queue(principal))
        with Progress(transient=True) as progress:
            task = progress.add_task("letters", total=min(waiting, limit))
            result = mailroom.services.letters.build_print_batch(
                principal, out, limit, progress=lambda: progress.advance(task)
            )
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        mailroom.stop()
    typer.echo(
        f"{result.letters} letters, {result.sheets} sheets ({result.pages} pages) in {out}; "
        f"manifest {out.with_suffix('.json')}; batch {result.batch_id}"
    )
    typer.echo(f"after printing: mailroom print done {result.batch_id}")


@print_app.command("done")
def print_done(
    batch_id: Annotated[str, typer.Argument(help="The batch id printed by 'batch'")],
) -> None:
    """Mark a batch printed: each of its letters is recorded as printed."""
    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    parsed = _uuid(batch_id, "batch id")
    mailroom = build(Settings())
    try:
        mailroom.services.letters.mark_batch_printed(system_principal(PRINCIPAL), parsed)
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        mailroom.stop()
    typer.echo(f"batch {batch_id} marked printed")


@print_app.command("returned")
def print_returned(
    letter_id: Annotated[str, typer.Argument(help="The letter id (from the manifest)")],
    reason: Annotated[
        str,
        typer.Option(
            help="addressee_unknown, moved, address_incomplete, refused, deceased or other"
        ),
    ],
    note: Annotated[str, typer.Option(help="What the post wrote on it")] = "",
) -> None:
    """Record a letter the post brought back as undeliverable."""
    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    parsed = _uuid(letter_id, "letter id")
    mailroom = build(Settings())
    try:
        mailroom.services.letters.record_returned(system_principal(PRINCIPAL), parsed, reason, note)
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        mailroom.stop()
    typer.echo(f"letter {letter_id} recorded as returned ({reason})")


@print_app.command("fallback")
def print_fallback() -> None:
    """Queue for print the Postfach documents left unread longer than their template allows
    (the delivery worker does this every hour by itself)."""
    from mailroom.bootstrap import build
    from mailroom.config import Settings

    mailroom = build(Settings())
    try:
        moved = mailroom.services.letters.fall_back_unread()
    finally:
        mailroom.stop()
    typer.echo(f"{moved} unread documents queued for print")


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        typer.echo(f"error: {value!r} is not a {what}", err=True)
        raise typer.Exit(2) from None
