"""The acting principal: every command and every query names who asks.

A principal is built at sign-in (local account or OpenID Connect claims) and kept in the
session; the services decide what it may see and do (``permissions.py``), never templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"  # works the cases of one or more departments
    MAILROOM = "mailroom"  # triage and scanning (Poststelle)
    LEAD = "lead"  # department lead: a clerk who also sees the department's statistics
    ADMIN = "admin"  # configures the mailroom; sees every department


@dataclass(frozen=True)
class Principal:
    """``id`` is stable (``staff:LOGIN`` for local accounts, ``oidc:SUB`` otherwise) and is
    what events record as the actor; ``name`` is what colleagues see."""

    id: str
    login: str
    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_system(self) -> bool:
        return self.id.startswith("system:")


def system_principal(name: str) -> Principal:
    """A process acting on its own (the router, an import): allowed everything."""
    return Principal(
        id=f"system:{name}",
        login=name,
        name=name,
        roles=frozenset({Role.ADMIN}),
        departments=frozenset(),
    )
