"""``mailroom reroute`` and ``mailroom cases import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mailroom.cli.main import app

cases_app = typer.Typer(help="Cases (Vorgänge).", no_args_is_help=True)
app.add_typer(cases_app, name="cases")


@app.command()
def reroute(
    reference: Annotated[str, typer.Argument(help="The item's reference")],
    department: Annotated[str, typer.Argument(help="Department id from the catalog")],
    by: Annotated[str, typer.Option(help="Who re-routes (recorded in the event)")],
    note: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Move an item to another department; the router learns from every re-routing."""
    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    mailroom = build(Settings())
    try:
        mailroom.services.casework.reroute_item(
            system_principal(f"cli:{by}"), reference, department, note=note
        )
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        mailroom.stop()
    typer.echo(f"{reference} is now with {mailroom.department_name(department)}")


@cases_app.command("import")
def import_cases(
    path: Annotated[Path, typer.Argument(help="JSON lines: case, department, party, ...")],
) -> None:
    """Import the open cases of a legacy system, so follow-up letters find them."""
    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from routing import load_cases
    from routing.cases import CasesFileError

    try:
        directory = load_cases(path)
    except CasesFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    mailroom = build(Settings())
    try:
        imported, known = mailroom.services.imports.import_cases(
            system_principal("cli:cases-import"), directory
        )
    finally:
        mailroom.stop()
    typer.echo(f"{imported} cases imported, {known} were already known")
