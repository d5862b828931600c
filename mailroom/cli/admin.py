"""``mailroom projections rebuild``: read models are rebuilt from the event store at any time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from eventsourcing.persistence import Tracking
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mailroom.cli.main import app

if TYPE_CHECKING:
    from mailroom.application import MailroomApp
    from projections.base import Projection

projections_app = typer.Typer(help="Read models (status view, queues, ...).", no_args_is_help=True)
app.add_typer(projections_app, name="projections")

SOURCE = "log"


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[str | None, typer.Argument(help="One read model (default: all)")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Notifications read per query")] = 20_000,
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
        task = progress.add_task(", ".join(p.name for p in chosen), total=head)
        applied = replay(
            mailroom.app,
            chosen,
            batch,
            lambda position: progress.update(task, completed=min(position, head)),
        )
        progress.update(task, completed=head)
        for projection in chosen:
            progress.console.print(f"{projection.name}: {applied[projection.name]} events applied")
    mailroom.stop()
    typer.echo(f"rebuilt from {head} events in the log")


def replay(
    source: MailroomApp,
    projections: Sequence[Projection],
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Feed each projection the events of the log after its position, in one pass: every
    batch of notifications is read and decoded once, and each projection applies its part in
    one transaction (``Projection.process_batch``). Returns the events applied by name."""
    topics: dict[str, list[Projection]] = {}
    for projection in projections:
        for topic in projection.topics:
            topics.setdefault(topic, []).append(projection)
    applied = {p.name: 0 for p in projections}
    position = min((p.position(SOURCE) for p in projections), default=0)
    while notifications := source.notifications_after(position, batch, tuple(topics)):
        parts: dict[str, list[tuple[Any, Tracking]]] = {p.name: [] for p in projections}
        for notification in notifications:
            event = source.to_domain_event(notification)
            tracking = Tracking(SOURCE, notification.id)
            for projection in topics[notification.topic]:
                parts[projection.name].append((event, tracking))
        for projection in projections:
            applied[projection.name] += projection.process_batch(parts[projection.name])
        position = notifications[-1].id
        if progress is not None:
            progress(position)
    return applied
