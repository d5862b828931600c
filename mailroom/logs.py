"""Logging for every mailroom process: JSON lines in production, readable text in development.

Which request, item and reference a line is about travels in a context variable
(``log_context``), so the code that logs does not pass ids around: the API's middleware
sets the request id, intake and the consumers set the item id and reference while they
handle an item, and every record made meanwhile carries them (as JSON fields, or as
``[req=… item=… ref=…]`` at the end of a text line). Context variables follow asyncio tasks
and stay per thread, so concurrent requests and consumer threads never mix their ids.

Keyword arguments given as ``extra={...}`` become JSON fields too (``department``,
``score``, ...): a decision line can be filtered by field, not by parsing its words.
"""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailroom.config import Settings

CONTEXT_FIELDS = ("request_id", "item_id", "reference")
_SHORT = {"request_id": "req", "item_id": "item", "reference": "ref"}
_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("mailroom_log_context", default=_EMPTY)

# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "log_context",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


def current_context() -> dict[str, str]:
    return dict(_context.get())


def _clean(ids: Mapping[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in ids.items() if value is not None and value != ""}


def bind(**ids: object) -> Token[Mapping[str, str]]:
    """Add ids to the context until ``unbind(token)`` (for code that cannot use ``with``)."""
    return _context.set({**_context.get(), **_clean(ids)})


def annotate(**ids: object) -> None:
    """Add ids to the innermost ``log_context``/``bind`` scope, until that scope ends (a
    consumer learns the reference once it has loaded the item). Outside any scope this does
    nothing, so ids never stick to a thread beyond the work they belong to."""
    current = _context.get()
    if isinstance(current, dict):
        current.update(_clean(ids))


def unbind(token: Token[Mapping[str, str]]) -> None:
    _context.reset(token)


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Every record logged inside carries these ids (None and empty values are left out)."""
    token = bind(**ids)
    try:
        yield
    finally:
        unbind(token)


def _skip_unused_record_fields() -> None:
    """No formatter here prints where a line was logged from, or the thread: the logging
    module is told not to collect them for every record (the HOWTO's "Optimization";
    finding the caller walks the stack, about a third of a record's cost). The process
    stays: records of the OCR pool's processes are told apart by it."""
    logging._srcfile = None
    logging.logThreads = False


class ContextFilter(logging.Filter):
    """Stamps the current ids on a record when it is made (before any handler formats it).

    Made by ``dictConfig`` in every process, uvicorn's worker processes included: it also
    turns off the record fields no mailroom format uses (``_skip_unused_record_fields``)."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        _skip_unused_record_fields()

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "log_context"):
            record.log_context = current_context()
        return True


def _context_of(record: logging.LogRecord) -> dict[str, str]:
    found = getattr(record, "log_context", None)
    return dict(found) if isinstance(found, Mapping) else current_context()


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the ids, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_context_of(record))
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            line.update(_access_fields(record.args))
        for key, value in _extras(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    """uvicorn's access line as fields: (client, method, path, HTTP version, status)."""
    if len(args) != 5:
        return {}
    client, method, path, _version, status = args
    return {"client": client, "method": method, "path": path, "status": status}


class TextFormatter(logging.Formatter):
    """``2026-12-01 22:00:00,123 INFO mailroom.consumers.router: message [ref=… item=…]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _context_of(record)
        ids = " ".join(f"{_SHORT[k]}={context[k]}" for k in CONTEXT_FIELDS if k in context)
        if not ids:
            return text
        first, newline, rest = text.partition("\n")  # keep a traceback below the line
        return f"{first} [{ids}]{newline}{rest}"


def log_format(settings: Settings) -> str:
    """``json`` or ``text``: MAILROOM_LOG_FORMAT, else JSON in production."""
    if settings.log_format:
        return settings.log_format
    return "json" if settings.environment == "production" else "text"


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process (uvicorn takes it as ``log_config``,
    so its error and access lines go through the same handler, in every worker process)."""
    formatter = JsonFormatter if log_format(settings) == "json" else TextFormatter
    passthrough = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"mailroom": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "mailroom",
                "filters": ["context"],
            }
        },
        "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": passthrough,
            "uvicorn.error": passthrough,
            "uvicorn.access": passthrough,
            # Alembic narrates every plugin and migration step at INFO; its warnings stay.
            "alembic": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Set up this process's logging (relay, workers, ``serve``). Python's warnings (Pillow's
    DecompressionBombWarning on a huge scan, a library's deprecation) become records of
    ``py.warnings`` too: lines in the process's format, not raw text on stderr."""
    logging.config.dictConfig(logging_config(settings))
    logging.captureWarnings(True)
