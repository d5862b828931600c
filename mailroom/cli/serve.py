"""``mailroom serve`` and ``mailroom station add | list | revoke | rotate``."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from mailroom.auth.principal import Principal, system_principal
from mailroom.cli.main import app

if TYPE_CHECKING:
    from aggregates.station import ScanningStation
    from mailroom.bootstrap import Mailroom
    from mailroom.services.stations import StationService

STATION_ACTOR = "cli:station"

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
    from mailroom.config import Settings
    from mailroom.logs import configure_logging, logging_config

    settings = Settings()
    configure_logging(settings)
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
    typer.echo(f"  dashboard:   {base}/anmelden")
    _first_sign_in(mailroom)
    if not mailroom.services.stations.any_registered():
        typer.echo("  No scanning station is registered yet. Register one with:")
        typer.echo("      mailroom station add 'Poststelle Rathaus'")
        typer.echo(f"  and upload with: mailroom scan --server {base} --token TOKEN FILES...")
    if not mailroom.services.portal_clients.any_registered():
        typer.echo("  No portal client may submit requests yet. Register one with:")
        typer.echo("      mailroom portal-client add 'Bürgerportal'")
        typer.echo(f"  and send its key: curl -H 'Authorization: Bearer KEY' {base}/api/v1/...")
    raise_open_file_limit()
    if workers > 1:
        mailroom.stop()  # each worker process composes its own
        uvicorn.run(
            "mailroom.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            log_config=logging_config(settings),  # JSON or text, also in the worker processes
            **uvicorn_options(),
        )
    else:
        uvicorn.run(
            api,
            host=host,
            port=port,
            log_level=settings.log_level,
            log_config=logging_config(settings),
            **uvicorn_options(),
        )


def _stations() -> AbstractContextManager[StationService]:
    from mailroom.cli.credentials import credential_service
    from mailroom.services.stations import StationService

    return credential_service(StationService)


def _actor() -> Principal:
    return system_principal(STATION_ACTOR)


@station_app.command("add")
def station_add(name: Annotated[str, typer.Argument(help="A name people recognise")]) -> None:
    """Register a scanning station and print its token (shown only once)."""
    with _stations() as stations:
        _, token = stations.register(_actor(), name)
    typer.echo(f"Registered scanning station {name.strip()!r}.")
    typer.echo("Its token (store it now; it is not shown again):")
    typer.echo(token)


@station_app.command("list")
def station_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout")] = False,
) -> None:
    """List the scanning stations: id, name, when registered, active or revoked."""
    with _stations() as stations:
        found = stations.list_all(_actor())
    if as_json:
        typer.echo(json.dumps([_station_json(s) for s in found], indent=2))
        return
    if not found:
        typer.echo("No scanning station is registered.")
        return
    rows = [(str(s.id)[:8], s.name, _when(s.registered_at), _state(s)) for s in found]
    table = [_HEADER, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@station_app.command("revoke")
def station_revoke(
    station: Annotated[str, typer.Argument(help="The station's id (a unique prefix) or name")],
) -> None:
    """Revoke a station: its token is refused from now on."""
    with _stations() as stations:
        found = stations.find(_actor(), station)
        stations.revoke(_actor(), str(found.id))
    typer.echo(f"Revoked scanning station {found.name!r} ({str(found.id)[:8]}).")


@station_app.command("rotate")
def station_rotate(
    station: Annotated[str, typer.Argument(help="The station's id (a unique prefix) or name")],
) -> None:
    """Give a station a new token (printed once); the old token is refused from now on."""
    with _stations() as stations:
        old = stations.find(_actor(), station)
        changed, token = stations.rotate(_actor(), str(old.id))
    typer.echo(
        f"Rotated the token of scanning station {old.name!r}: "
        f"{str(old.id)[:8]} is revoked, {str(changed.id)[:8]} replaces it."
    )
    typer.echo("Its new token (store it now; it is not shown again):")
    typer.echo(token)


_HEADER = ("ID", "NAME", "REGISTERED", "STATE")


def _state(station: ScanningStation) -> str:
    if station.revoked:
        return f"revoked {_when(station.revoked_at)}" if station.revoked_at else "revoked"
    return "active"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _station_json(station: ScanningStation) -> dict[str, object]:
    return {
        "id": str(station.id),
        "name": station.name,
        "registered_at": _iso(station.registered_at),
        "state": "revoked" if station.revoked else "active",
        "revoked_at": _iso(station.revoked_at),
        "rotated_from": None if station.rotated_from is None else str(station.rotated_from),
    }


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _first_sign_in(mailroom: Mailroom) -> None:
    """On the very first start of a development install, create an administrator so that
    someone can sign in; in production accounts come from the identity provider."""
    staff = mailroom.services.staff
    if staff.any_registered() or mailroom.settings.oidc_issuer:
        return
    if mailroom.settings.environment != "development":
        typer.echo("  No staff account yet. Create one with:")
        typer.echo("      mailroom staff add LOGIN --role admin")
        return
    _, password = staff.add(
        system_principal("first-start"), "admin", "Administration", ["admin"], []
    )
    typer.echo("  First start: an administrator account was created. Sign in with")
    typer.echo(f"      Benutzername: admin   Passwort: {password}")
    typer.echo("  (shown only now; add colleagues with:")
    typer.echo("      mailroom staff add LOGIN --role clerk --department ID)")
