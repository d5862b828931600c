"""The ``mailroom`` Typer application; command modules register themselves on it."""

import typer

app = typer.Typer(
    name="mailroom",
    help="Digital mailroom for a city administration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
