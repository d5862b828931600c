"""StaffMember: a local account of a clerk, mailroom worker, department lead or admin.

Accounts signed in through the city's identity provider (OpenID Connect) need no aggregate:
their roles and departments come from the token. The password hash is stored in its own
event (``PasswordSet``) so that it can be kept off the public bus.

Stored event classes: never rename them; evolve with class_version and upcasters.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids

ROLES = ("clerk", "mailroom", "lead", "admin")
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


class StaffError(ValueError):
    pass


class StaffMember(Aggregate):
    class Registered(Aggregate.Created):
        login: str
        name: str
        roles: list[str]
        departments: list[str]
        registered_by: str
        registered_at: datetime

    class PasswordSet(Aggregate.Event):
        password_hash: str
        by: str
        at: datetime

    class AccessChanged(Aggregate.Event):
        roles: list[str]
        departments: list[str]
        by: str
        at: datetime

    class Deactivated(Aggregate.Event):
        by: str
        at: datetime

    @staticmethod
    def create_id(login: str) -> UUID:
        return ids.staff_id(login)

    @classmethod
    def register(
        cls,
        login: str,
        name: str,
        roles: list[str],
        departments: list[str],
        registered_by: str,
        registered_at: datetime,
    ) -> StaffMember:
        login = login.strip().lower()
        if not LOGIN.match(login):
            raise StaffError(
                f"login {login!r}: 2-63 characters, lower-case letters, digits, '.', '_', '-'"
            )
        _check_access(roles, departments)
        return cls(
            login=login,
            name=name.strip() or login,
            roles=sorted(set(roles)),
            departments=sorted(set(departments)),
            registered_by=registered_by,
            registered_at=registered_at,
        )

    @event(Registered)
    def __init__(
        self,
        login: str,
        name: str,
        roles: list[str],
        departments: list[str],
        registered_by: str,
        registered_at: datetime,
    ) -> None:
        self.login = login
        self.name = name
        self.roles = list(roles)
        self.departments = list(departments)
        self.password_hash = ""
        self.active = True

    @property
    def principal_id(self) -> str:
        return f"staff:{self.login}"

    def set_password(self, password_hash: str, by: str, at: datetime) -> None:
        self._password_set(password_hash=password_hash, by=by, at=at)

    @event(PasswordSet)
    def _password_set(self, password_hash: str, by: str, at: datetime) -> None:
        self.password_hash = password_hash

    def change_access(
        self, roles: list[str], departments: list[str], by: str, at: datetime
    ) -> None:
        _check_access(roles, departments)
        self._access_changed(
            roles=sorted(set(roles)), departments=sorted(set(departments)), by=by, at=at
        )

    @event(AccessChanged)
    def _access_changed(
        self, roles: list[str], departments: list[str], by: str, at: datetime
    ) -> None:
        self.roles = list(roles)
        self.departments = list(departments)

    def deactivate(self, by: str, at: datetime) -> None:
        if self.active:
            self._deactivated(by=by, at=at)

    @event(Deactivated)
    def _deactivated(self, by: str, at: datetime) -> None:
        self.active = False


def _check_access(roles: list[str], departments: list[str]) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise StaffError(f"roles must be some of {', '.join(ROLES)} (got {', '.join(roles)})")
    if {"clerk", "lead"} & set(roles) and not departments:
        raise StaffError("a clerk or department lead needs at least one department")
