"""``mailroom staff add``: local staff accounts (the embedded default's sign-in)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from mailroom.cli.main import app

staff_app = typer.Typer(
    help="Staff accounts (clerks, mailroom, leads, admins).", no_args_is_help=True
)
app.add_typer(staff_app, name="staff")


class RoleChoice(StrEnum):
    clerk = "clerk"
    mailroom = "mailroom"
    lead = "lead"
    admin = "admin"


@staff_app.command("add")
def staff_add(
    login: Annotated[str, typer.Argument(help="Sign-in name (lower case, e.g. erika.muster)")],
    role: Annotated[
        list[RoleChoice], typer.Option(help="clerk, mailroom, lead or admin (repeatable)")
    ],
    department: Annotated[
        list[str] | None, typer.Option(help="Department id from the catalog (repeatable)")
    ] = None,
    name: Annotated[str, typer.Option(help="Full name shown to colleagues")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Add a local account. Without --password-stdin a password is generated and printed once."""
    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    mailroom = build(Settings())
    try:
        _, chosen = mailroom.services.staff.add(
            system_principal("cli:staff-add"),
            login,
            name or login,
            [r.value for r in role],
            department or [],
            password,
        )
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        mailroom.stop()
    roles = ", ".join(r.value for r in role)
    where = f" for {', '.join(department)}" if department else ""
    typer.echo(f"Added {login.strip().lower()} ({roles}{where}).")
    if not password_stdin:
        typer.echo("Password (shown only now):")
        typer.echo(chosen)
