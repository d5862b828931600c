"""``mailroom portal-client add | list | revoke | rotate``: who may submit by API."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.auth.principal import Principal, system_principal
from mailroom.cli.main import app

if TYPE_CHECKING:
    from aggregates.portal_client import PortalClient
    from mailroom.services.portal_clients import PortalClientService

ACTOR = "cli:portal-client"
KEY_ARGUMENT = typer.Argument(help="The client's id (a unique prefix) or name")

portal_app = typer.Typer(
    help="Portal clients that may submit requests (POST /api/v1/submissions).",
    no_args_is_help=True,
)
app.add_typer(portal_app, name="portal-client")


def _clients() -> AbstractContextManager[PortalClientService]:
    from mailroom.cli.credentials import credential_service
    from mailroom.services.portal_clients import PortalClientService

    return credential_service(PortalClientService)


def _actor() -> Principal:
    return system_principal(ACTOR)


@portal_app.command("add")
def portal_client_add(
    name: Annotated[str, typer.Argument(help="A name people recognise, e.g. 'Bürgerportal'")],
) -> None:
    """Register a portal client and print its key (shown only once)."""
    with _clients() as clients:
        _, token = clients.register(_actor(), name)
    typer.echo(f"Registered portal client {name.strip()!r}.")
    typer.echo("Its key, sent as 'Authorization: Bearer KEY' (store it now; not shown again):")
    typer.echo(token)


@portal_app.command("list")
def portal_client_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout")] = False,
) -> None:
    """List the portal clients: id, name, when registered, active or revoked."""
    with _clients() as clients:
        found = clients.list_all(_actor())
    if as_json:
        typer.echo(json.dumps([_as_json(c) for c in found], indent=2))
        return
    if not found:
        typer.echo("No portal client is registered.")
        return
    header = ("ID", "NAME", "REGISTERED", "STATE")
    table = [header, *[(str(c.id)[:8], c.name, _when(c.registered_at), _state(c)) for c in found]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@portal_app.command("revoke")
def portal_client_revoke(client: Annotated[str, KEY_ARGUMENT]) -> None:
    """Revoke a portal client: its key is refused from now on."""
    with _clients() as clients:
        found = clients.find(_actor(), client)
        clients.revoke(_actor(), str(found.id))
    typer.echo(f"Revoked portal client {found.name!r} ({str(found.id)[:8]}).")


@portal_app.command("rotate")
def portal_client_rotate(client: Annotated[str, KEY_ARGUMENT]) -> None:
    """Give a portal client a new key (printed once); the old key is refused from now on.
    Idempotency-Keys sent with the old key keep their meaning with the new one."""
    with _clients() as clients:
        old = clients.find(_actor(), client)
        changed, token = clients.rotate(_actor(), str(old.id))
    typer.echo(
        f"Rotated the key of portal client {old.name!r}: "
        f"{str(old.id)[:8]} is revoked, {str(changed.id)[:8]} replaces it."
    )
    typer.echo("Its new key (store it now; it is not shown again):")
    typer.echo(token)


def _state(client: PortalClient) -> str:
    if client.revoked:
        return f"revoked {_when(client.revoked_at)}" if client.revoked_at else "revoked"
    return "active"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _as_json(client: PortalClient) -> dict[str, object]:
    return {
        "id": str(client.id),
        "name": client.name,
        "registered_at": client.registered_at.isoformat(),
        "state": "revoked" if client.revoked else "active",
        "revoked_at": None if client.revoked_at is None else client.revoked_at.isoformat(),
        "rotated_from": None if client.rotated_from is None else str(client.rotated_from),
    }
