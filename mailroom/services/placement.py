"""Placing an item with a department by hand (triage, a clerk's re-routing, the CLI).

The item is re-routed (``MailItem.Rerouted``: the router learns from every one of them) and
its case follows: an item without a case opens one, a case opened by this item moves along.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aggregates.case import Case
from aggregates.mail_item import MailItem
from mailroom.application import MailroomApp
from mailroom.services import ServiceError
from routing import Catalog
from routing.catalog import UnknownDepartmentError
from routing.sender import letter_sender, letter_subject


def check_department(catalog: Catalog, department_id: str) -> None:
    try:
        catalog.department(department_id)
    except UnknownDepartmentError:
        raise ServiceError(f"unknown department {department_id!r}", "unknown_department") from None


def place_item(
    app: MailroomApp,
    catalog: Catalog,
    item: MailItem,
    department_id: str,
    by: str,
    note: str,
    at: datetime,
) -> list[Any]:
    """Re-route ``item`` to ``department_id``; returns the changed aggregates (not saved)."""
    check_department(catalog, department_id)
    if item.department_id == department_id:
        raise ServiceError(f"{item.reference} is already with {department_id}", "unchanged")
    item.reroute(department_id, rerouted_by=by, note=note)
    changed: list[Any] = [item]
    case = app.find_case(item.case_id) if item.case_id else None
    if case is None:
        submission = item.submission
        service_key = submission.service_key if submission else None
        sender = ("", "") if submission else letter_sender(item.text)
        case = Case.open(
            reference=item.reference,
            department_id=department_id,
            subject=submission.subject if submission else letter_subject(item.text),
            party=submission.applicant.name if submission else sender[0],
            address=(submission.applicant.address or "") if submission else sender[1],
            opened_at=at,
            opened_by=by,
            first_item_id=item.id,
            service_key=service_key,
            processing_days=catalog.processing_days(department_id, service_key),
        )
        item.attach_to_case(case.id, case.reference)
        changed.append(case)
    elif case.first_item_id == item.id and not case.closed:
        case.reassign(department_id, reassigned_by=by, note=note)
        changed.append(case)
    return changed
