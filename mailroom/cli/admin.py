"""``mailroom projections rebuild``: read models are rebuilt from the event store at any time."""

from __future__ import annotations

from typing import Annotated

import typer
from eventsourcing.persistence import Tracking
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mailroom.cli.main import app

projections_app = typer.Typer(help="Read models (status view, queues, ...).", no_args_is_help=True)
app.add_typer(projections_app, name="projections")

SOURCE = "log"


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Argument(help="One read model (default: all)")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Notifications read per query")] = 1000,
) -> None:
    """Drop every read model and rebuild it from the event store, with progress.

    Stop the runner/workers that feed the read models first; they resume after the rebuild.
    """
    from mailroom.bootstrap import build
    from mailroom.config import Settings

    mailroom = build(Settings())
    chosen = [p for p in mailroom.projections if name in (None, p.name)]
    if not chosen:
        known = ", ".join(p.name for p in mailroom.projections)
        mailroom.stop()
        typer.echo(f"error: no read model named {name!r} (known: {known})", err=True)
        raise typer.Exit(2)
    head = mailroom.app.max_notification_id()
    with Progress(
        TextColumn("Rebuilding {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as progress:
        for projection in chosen:
            projection.clear()
            task = progress.add_task(projection.name, total=head)
            applied = position = 0
            while notifications := mailroom.app.notifications_after(
                position, batch, projection.topics
            ):
                for notification in notifications:
                    event = mailroom.app.to_domain_event(notification)
                    applied += projection.process(event, Tracking(SOURCE, notification.id))
                position = notifications[-1].id
                progress.update(task, completed=min(position, head))
            progress.update(task, completed=head)
            progress.console.print(f"{projection.name}: {applied} events applied")
    mailroom.stop()
    typer.echo(f"rebuilt from {head} events in the log")
