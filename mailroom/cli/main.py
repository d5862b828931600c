"""The ``mailroom`` Typer application; command modules register themselves on it."""

from typing import Any

import typer

from mailroom.cli.failures import one_line_failures


class MailroomTyper(typer.Typer):
    """A bad setting or an unreachable service ends a command with one line, no traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with one_line_failures():
            return super().__call__(*args, **kwargs)


app = MailroomTyper(
    name="mailroom",
    help="Digital mailroom for a city administration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
