"""``mailroom serve`` and ``mailroom station add``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer
import uvicorn
from eventsourcing.utils import get_topic

from aggregates.station import ScanningStation, hash_token
from mailroom.application import MailroomApp
from mailroom.bootstrap import build_app
from mailroom.cli.main import app
from mailroom.config import Settings

station_app = typer.Typer(help="Scanning stations that may upload letters.", no_args_is_help=True)
app.add_typer(station_app, name="station")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default MAILROOM_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MAILROOM_PORT)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes (Kafka mode only)")] = 1,
) -> None:
    """Start the mailroom: API, web pages and (embedded mode) the in-process runner."""
    from mailroom.api.app import create_app
    from mailroom.api.server import raise_open_file_limit, uvicorn_options

    settings = Settings()
    if workers > 1 and settings.bus == "embedded":
        typer.echo(
            "error: --workers > 1 needs MAILROOM_BUS=kafka://... (the embedded runner "
            "lives in one process)",
            err=True,
        )
        raise typer.Exit(2)
    api = create_app(settings=settings)
    mailroom = api.state.mailroom
    host = host or settings.host
    port = port or settings.port
    base = f"http://{host}:{port}"
    typer.echo(f"Mailroom for {mailroom.catalog.city.name}")
    typer.echo(f"  event store: {_redact(settings.event_store_url)}")
    typer.echo(f"  blob store:  {settings.blob_store_url}")
    typer.echo(f"  runner:      {settings.bus}")
    typer.echo(f"  API docs:    {base}/docs")
    if not _has_station(mailroom.app):
        typer.echo("  No scanning station is registered yet. Register one with:")
        typer.echo("      mailroom station add 'Poststelle Rathaus'")
        typer.echo(f"  and upload with: mailroom scan --server {base} --token TOKEN FILES...")
    raise_open_file_limit()
    if workers > 1:
        mailroom.stop()  # each worker process composes its own
        uvicorn.run(
            "mailroom.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            **uvicorn_options(),
        )
    else:
        uvicorn.run(api, host=host, port=port, log_level="info", **uvicorn_options())


@station_app.command("add")
def station_add(name: Annotated[str, typer.Argument(help="A name people recognise")]) -> None:
    """Register a scanning station and print its token (shown only once)."""
    name = name.strip()
    if not name:
        typer.echo("error: the station needs a name", err=True)
        raise typer.Exit(2)
    settings = Settings()
    mailroom_app = build_app(settings)
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    station = ScanningStation(
        name=name,
        token_hash=token_hash,
        registered_at=datetime.now(UTC),
    )
    mailroom_app.save(station)
    mailroom_app.close()
    typer.echo(f"Registered scanning station {name!r}.")
    typer.echo("Its token (store it now; it is not shown again):")
    typer.echo(token)


def _has_station(mailroom_app: MailroomApp) -> bool:
    topic = get_topic(ScanningStation.Registered)
    return bool(mailroom_app.notifications_after(0, 1, (topic,)))


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
