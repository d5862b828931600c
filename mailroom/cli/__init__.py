"""Command line entry point: importing the command modules registers their commands."""

from mailroom.cli import admin, casework, items, ocr, routing, scan, serve, workers  # noqa: F401
from mailroom.cli.main import app

__all__ = ["app"]
