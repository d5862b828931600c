"""``mailroom serve`` and ``mailroom station add``."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom, build_app
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
    typer.echo(f"  dashboard:   {base}/anmelden")
    _first_sign_in(mailroom)
    if not mailroom.services.stations.any_registered():
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
    from mailroom.bootstrap import utc_now
    from mailroom.services import ServiceError
    from mailroom.services.stations import StationService

    mailroom_app = build_app(Settings())
    try:
        _, token = StationService(mailroom_app, utc_now).register(system_principal("cli"), name)
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        mailroom_app.close()
    typer.echo(f"Registered scanning station {name.strip()!r}.")
    typer.echo("Its token (store it now; it is not shown again):")
    typer.echo(token)


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
