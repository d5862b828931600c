"""The service behind ``mailroom station …`` and ``mailroom portal-client …``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from mailroom.services.credentials import CredentialService

S = TypeVar("S", bound="CredentialService")  # type: ignore[type-arg]


@contextmanager
def credential_service(service: type[S]) -> Iterator[S]:
    """``service`` on the configured event store; a refused command prints one line."""
    from mailroom.bootstrap import build_app, utc_now
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    mailroom_app = build_app(Settings())
    try:
        yield service(mailroom_app, utc_now)
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        mailroom_app.close()
