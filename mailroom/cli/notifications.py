"""``mailroom notifications``: the e-mails to citizens in the outbox, for operators.

``list`` shows what is pending, sent or failed (the recipient masked: operators need to know
that an address was refused, not whose it is); ``retry`` sends failed ones again after the
cause was fixed (a wrong relay setting, a relay that was away longer than the retries).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.cli.main import app

if TYPE_CHECKING:
    from mailroom.notify.outbox import Outbox, OutboxRow

notifications_app = typer.Typer(help="E-mails to citizens (the outbox).", no_args_is_help=True)
app.add_typer(notifications_app, name="notifications")


def _outbox() -> Outbox:
    from datetime import UTC, datetime

    from mailroom.config import Settings
    from mailroom.notify.outbox import Outbox
    from projections.database import create_views_engine

    settings = Settings()
    engine = create_views_engine(settings.views_db_url, settings.dependency_timeout_s)
    return Outbox(engine, lambda: datetime.now(UTC))


@notifications_app.command("list")
def list_notifications(
    state: Annotated[
        str | None, typer.Option(help="pending, sending, sent or failed (default: all)")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="Only this reference")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The outbox's e-mails, oldest first, and how many there are in each state."""
    from mailroom.notify.outbox import STATES

    if state is not None and state not in STATES:
        typer.echo(f"error: unknown state {state!r} (known: {', '.join(STATES)})", err=True)
        raise typer.Exit(2)
    outbox = _outbox()
    try:
        rows = outbox.rows(state, reference)
        counts = outbox.counts()
    finally:
        outbox.engine.dispose()
    if as_json:
        entries = [_entry(row) for row in rows]
        typer.echo(json.dumps({"counts": counts, "notifications": entries}, indent=2))
        return
    for row in rows:
        entry = _entry(row)
        line = "{id:>6}  {state:<8} {kind:<22} {reference:<20} {recipient:<28} {attempts}x"
        typer.echo(line.format(**entry))
        if row.last_error:
            typer.echo(f"        {row.last_error}")
    typer.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@notifications_app.command("retry")
def retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Row ids to send again (default: every failed one)")
    ] = None,
) -> None:
    """Send failed e-mails again, with fresh attempts."""
    outbox = _outbox()
    try:
        count = outbox.requeue(ids or None)
    finally:
        outbox.engine.dispose()
    typer.echo(f"{count} e-mail(s) queued again")


def _entry(row: OutboxRow) -> dict[str, object]:
    return {
        "id": row.id,
        "state": row.state,
        "kind": row.kind,
        "reference": row.reference,
        "recipient": mask(row.recipient),
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "last_error": row.last_error,
    }


def mask(address: str) -> str:
    """``e***@example.org``: enough to tell addresses apart, not to read them."""
    local, at, domain = address.partition("@")
    if not at:
        return "***" if address else ""
    return f"{local[:1]}***@{domain}"
