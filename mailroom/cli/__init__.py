"""Command line entry point: importing the command modules registers their commands."""

from mailroom.cli import (  # noqa: F401
    admin,
    backup,
    casework,
    items,
    letters,
    notifications,
    ocr,
    portal_clients,
    printing,
    routing,
    scan,
    serve,
    staff,
    workers,
)
from mailroom.cli.main import app

__all__ = ["app"]
