"""How a command ends when it cannot start: one line on stderr, no traceback.

* a bad setting: ``error: MAILROOM_X: what is wrong`` (one line per setting), exit code 2;
  the value is never echoed (it may be a secret);
* a store or the broker unreachable: ``error: cannot reach the event store at HOST:PORT
  (MAILROOM_EVENT_STORE): …``, exit code 1; passwords in URLs are masked.

Everything else keeps its traceback: it is a bug to be reported.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from pydantic_settings import SettingsError

from mailroom.adapters.event_store import EventStoreURLError
from mailroom.config import Settings
from mailroom.endpoints import DEPENDENCIES, describe, redact
from mailroom.outages import outage_of

SETTINGS_EXIT = 2
UNREACHABLE_EXIT = 1
_NAMED = re.compile(r"(MAILROOM_[A-Z0-9_]+)(?:=\S*)?\s*:?\s*(.*)", re.DOTALL)


def _one_line(text: str) -> str:
    return " ".join(redact(text).split())


def settings_error_lines(exc: ValidationError) -> list[str]:
    """One line per bad setting, named by its environment variable, without its value."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["loc"]:
            name = "MAILROOM_" + str(error["loc"][0]).upper()
            lines.append(f"error: {name}: {_one_line(message)}")
            continue
        named = _NAMED.match(message)
        text = f"{named[1]}: {named[2]}" if named else message
        lines.append(f"error: {_one_line(text)}")
    return lines


def unreachable_line(exc: BaseException) -> str | None:
    """The line for an outage at start-up (a store or the broker), else None."""
    outage = outage_of(exc)
    if outage is None or outage.dependency not in DEPENDENCIES:
        return None
    if outage.full:
        what = DEPENDENCIES[outage.dependency][0]
        return f"error: {what} is full: {_one_line(str(exc))}"
    try:
        where = describe(Settings(), outage.dependency)
    except (ValidationError, ValueError):
        where = DEPENDENCIES[outage.dependency][0]
    return f"error: cannot reach {where}: {_one_line(str(exc))}"


def _thread_failure(args: threading.ExceptHookArgs) -> None:
    """A worker thread that dies of an outage says so in one line, like the main thread."""
    line = unreachable_line(args.exc_value) if args.exc_value is not None else None
    if line is None:
        _default_thread_hook(args)
        return
    name = args.thread.name if args.thread is not None else "thread"
    print(f"{line} [{name}]", file=sys.stderr)


_default_thread_hook = threading.excepthook


@contextmanager
def one_line_failures() -> Iterator[None]:
    """Turn start-up failures into one line and an exit code (see the module docstring)."""
    from mailroom.bootstrap import ConfigurationError  # bootstrap imports much; only here

    threading.excepthook = _thread_failure
    try:
        yield
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        print("\n".join(settings_error_lines(exc)), file=sys.stderr)
        raise SystemExit(SETTINGS_EXIT) from None
    except (SettingsError, ConfigurationError, EventStoreURLError) as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        raise SystemExit(SETTINGS_EXIT) from None
    except Exception as exc:
        line = unreachable_line(exc)
        if line is None:
            raise
        print(line, file=sys.stderr)
        raise SystemExit(UNREACHABLE_EXIT) from None
