"""Who may see and do what. Enforced by the services; templates only hide what is refused.

- clerk: sees and works the cases of their departments;
- lead: a clerk who also sees the statistics of their departments;
- mailroom: works the triage queue (items not yet placed), sees no cases;
- admin: sees every department and manages staff; system principals act for processes.
Something a principal may not see answers exactly like something unknown.
"""

from __future__ import annotations

from mailroom.auth.principal import Principal, Role


def sees_all(principal: Principal) -> bool:
    return principal.is_system or principal.has(Role.ADMIN)


def case_departments(principal: Principal) -> frozenset[str] | None:
    """The departments whose cases the principal may see; None means all of them."""
    if sees_all(principal):
        return None
    if principal.has(Role.CLERK) or principal.has(Role.LEAD):
        return principal.departments
    return frozenset()


def may_see_cases_of(principal: Principal, department_id: str) -> bool:
    allowed = case_departments(principal)
    return allowed is None or department_id in allowed


def may_triage(principal: Principal) -> bool:
    return sees_all(principal) or principal.has(Role.MAILROOM)


def statistics_departments(principal: Principal) -> frozenset[str] | None:
    """Departments whose statistics the principal may see (None: all; empty: none)."""
    if sees_all(principal):
        return None
    if principal.has(Role.LEAD):
        return principal.departments
    return frozenset()


def may_manage_staff(principal: Principal) -> bool:
    return sees_all(principal)


def may_handle_print(principal: Principal) -> bool:
    """The print queue, print batches and returned mail belong to the mailroom (Poststelle)."""
    return sees_all(principal) or principal.has(Role.MAILROOM)
