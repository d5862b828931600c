"""Use cases: the one place the CLI, the API and the web call to change or read state.

Every command takes the acting principal and returns the id and new version of the aggregate
it changed (``Changed``), so that a page shown right after it can wait until its read model
has caught up (``projections.base.Projection.wait_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Changed:
    """What a command changed: the aggregate and its version after the command."""

    id: UUID
    version: int


class ServiceError(ValueError):
    """A command or query cannot be carried out; ``code`` names the problem for the UI."""

    code = "invalid_request"

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        if code:
            self.code = code


class NotFoundError(ServiceError):
    """Unknown — or not visible to the principal (both answer the same)."""

    code = "not_found"


class ForbiddenError(ServiceError):
    """The principal may see the thing but not do this with it."""

    code = "forbidden"


class StaleError(ServiceError):
    """Someone else acted first: the form was based on an older version."""

    code = "stale"
