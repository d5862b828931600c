"""Staff accounts: local accounts (embedded default) and principals from sign-in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from aggregates import ids
from aggregates.staff import StaffError, StaffMember
from mailroom.application import MailroomApp
from mailroom.auth.passwords import (
    generate_password,
    hash_password,
    verify_password,
    verify_unknown,
)
from mailroom.auth.permissions import may_manage_staff
from mailroom.auth.principal import Principal, Role
from mailroom.services import Changed, ForbiddenError, ServiceError
from routing.catalog import Catalog, UnknownDepartmentError

MIN_PASSWORD_LENGTH = 12


class StaffService:
    def __init__(self, app: MailroomApp, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.catalog = catalog
        self.clock = clock

    def add(
        self,
        actor: Principal,
        login: str,
        name: str,
        roles: Sequence[str],
        departments: Sequence[str],
        password: str | None = None,
    ) -> tuple[Changed, str]:
        """Register a local account; returns it and its password (generated when not given)."""
        if not may_manage_staff(actor):
            raise ForbiddenError("only an administrator adds staff")
        for department in departments:
            try:
                self.catalog.department(department)
            except UnknownDepartmentError:
                raise ServiceError(
                    f"unknown department {department!r}", "unknown_department"
                ) from None
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise ServiceError(
                f"the password needs at least {MIN_PASSWORD_LENGTH} characters", "weak_password"
            )
        now = self.clock()
        try:
            member = StaffMember.register(
                login, name, list(roles), list(departments), actor.id, now
            )
        except StaffError as exc:
            raise ServiceError(str(exc), "invalid_staff") from None
        password = password or generate_password()
        member.set_password(hash_password(password), by=actor.id, at=now)
        try:
            self.app.save(member)
        except IntegrityError:
            raise ServiceError(f"login {member.login!r} exists already", "login_taken") from None
        return Changed(member.id, member.version), password

    def authenticate(self, login: str, password: str) -> Principal | None:
        """The principal for a correct local login and password, else None (same timing)."""
        member = self.find(login)
        if member is None or not member.active or not member.password_hash:
            verify_unknown(password)
            return None
        if not verify_password(member.password_hash, password):
            return None
        return principal_of(member)

    def find(self, login: str) -> StaffMember | None:
        return self.app.find_staff(ids.staff_id(login.strip()))

    def any_registered(self) -> bool:
        topic = get_topic(StaffMember.Registered)
        return bool(self.app.notifications_after(0, 1, (topic,)))

    def list_for_department(self, department_id: str) -> list[tuple[str, str]]:
        """(principal id, name) of the active local accounts working for ``department_id``,
        by name: whom a case of that department can be assigned to."""
        topic = get_topic(StaffMember.Registered)
        found: dict[str, str] = {}
        position = 0
        while notifications := self.app.notifications_after(position, 500, (topic,)):
            position = notifications[-1].id
            for notification in notifications:
                member = self.app.find_staff(UUID(str(notification.originator_id)))
                if member and member.active and department_id in member.departments:
                    found[member.principal_id] = member.name
        return sorted(found.items(), key=lambda entry: (entry[1].casefold(), entry[0]))


def principal_of(member: StaffMember) -> Principal:
    return Principal(
        id=member.principal_id,
        login=member.login,
        name=member.name,
        roles=frozenset(Role(r) for r in member.roles),
        departments=frozenset(member.departments),
    )
