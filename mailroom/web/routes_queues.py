"""The clerk's lists: /arbeitskorb (my cases and my departments' counts) and the department
queue /fachdienste/{id} with filters, keyset paging, saved filters and bulk actions.

A department the principal may not see answers exactly like an unknown one (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from mailroom import texts_de
from mailroom.auth.permissions import may_see_cases_of, may_triage, sees_all
from mailroom.auth.principal import Principal
from mailroom.services import Changed, ServiceError, StaleError
from mailroom.services.casework import CaseworkService
from mailroom.web import saved_filters
from mailroom.web.exceptions import WebError
from mailroom.web.queue_query import ME, NOBODY, QueueQuery
from mailroom.web.session import flash, require_principal
from mailroom.web.templating import render
from routing.catalog import Department, UnknownDepartmentError

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_BULK = 200
LIST_TARGET = "vorgangsliste"  # the id of the region htmx swaps (listen/vorgaenge.html)
INVALID_CURSOR = texts_de.service_error("invalid_cursor")

Signed = Annotated[Principal, Depends(require_principal)]


def _mailroom(request: Request) -> Any:
    return request.app.state.mailroom


def visible_department(request: Request, principal: Principal, department_id: str) -> Department:
    """The department, if the principal may see its cases; else 404 (unknown or not)."""
    try:
        department: Department = _mailroom(request).catalog.department(department_id)
    except UnknownDepartmentError:
        raise WebError(404) from None
    if not may_see_cases_of(principal, department.id):
        raise WebError(404)
    return department


def _names(request: Request) -> dict[str, Any]:
    catalog = _mailroom(request).catalog
    return {
        "department_names": {d.id: d.name for d in catalog.departments},
        "service_names": {s.key: s.name for s in catalog.services()},
        "case_statuses": texts_de.CASE_STATUSES,
    }


# -- my cases ---------------------------------------------------------------------------------


@router.get("/arbeitskorb")
def my_desk(request: Request, principal: Signed) -> Response:
    workspace = _mailroom(request).services.workspace
    context = {
        "rows": workspace.my_cases(principal),
        "counts": workspace.department_counts(principal),
        "may_triage": may_triage(principal),
        "sees_all": sees_all(principal),
        **_names(request),
    }
    return render(request, "arbeitskorb.html", context)


@router.get("/fachdienste")
def departments(_: Signed) -> Response:
    return RedirectResponse("/arbeitskorb#fachdienste", status_code=303)


# -- the department queue -------------------------------------------------------------------


@router.get("/fachdienste/{department_id}")
def department_queue(request: Request, department_id: str, principal: Signed) -> Response:
    mailroom = _mailroom(request)
    department = visible_department(request, principal, department_id)
    services = [(s.key, s.name) for s in department.services]
    query = QueueQuery.parse(request.query_params, {key for key, _ in services})
    workspace = mailroom.services.workspace
    try:
        page = workspace.queue(
            principal,
            department.id,
            query.filters(principal),
            query.service_sort,
            query.cursor or None,
            PAGE_SIZE,
        )
    except ServiceError as exc:
        if exc.code != "invalid_cursor":
            raise
        flash(request, "warning", INVALID_CURSOR)
        return RedirectResponse(_queue_url(department.id, query.first_page()), status_code=303)
    staff = mailroom.services.staff.list_for_department(department.id)
    counts = workspace.department_counts(principal)
    saved = saved_filters.list_filters(mailroom.views, principal.id, department.id)
    context = {
        "department": department,
        "query": query,
        "query_string": query.query_string(),
        "page": page,
        "counts": next((c for c in counts if c.department_id == department.id), None),
        "services": services,
        "staff": staff,
        "staff_names": dict(staff),
        "saved": saved,
        "other_departments": [
            (d.id, d.name)
            for d in sorted(mailroom.catalog.departments, key=lambda d: d.name)
            if d.id != department.id
        ],
        "queue_url": lambda **changes: _queue_url(department.id, replace(query, **changes)),
        "nobody": NOBODY,
        "me": ME,
        **_names(request),
    }
    if request.headers.get("HX-Target") == LIST_TARGET:  # filtered without a page load
        pushed = {"HX-Push-Url": _queue_url(department.id, query)}  # the canonical address
        return render(request, "listen/vorgaenge.html", context, headers=pushed)
    return render(request, "fachdienst.html", context)


def _queue_url(department_id: str, query: QueueQuery) -> str:
    encoded = query.query_string(cursor=True)
    return f"/fachdienste/{department_id}" + (f"?{encoded}" if encoded else "")


def _back(department: Department, zurueck: str) -> RedirectResponse:
    """Back to the queue with the same filters (re-read: only known parameters survive)."""
    keys = {s.key for s in department.services}
    query = QueueQuery.from_query_string(zurueck[:2000], keys)
    return RedirectResponse(_queue_url(department.id, query), status_code=303)


# -- bulk actions -----------------------------------------------------------------------------


def _selection(values: list[str]) -> list[tuple[str, int | None]]:
    """``REFERENCE:VERSION`` per checked row (the version the page showed)."""
    chosen: dict[str, int | None] = {}
    for value in values[:MAX_BULK]:
        reference, _, version = value.strip().partition(":")
        if reference:
            chosen[reference] = int(version) if version.isdecimal() else None
    return list(chosen.items())


def _cases(count: int) -> str:
    return "1 Vorgang" if count == 1 else f"{count} Vorgänge"


def bulk_message(done: int, verb: str, stale: int, refused: int) -> str:
    """Like "3 Vorgänge zugewiesen, 1 übersprungen (inzwischen geändert)."."""
    parts = [f"{_cases(done)} {verb}"]
    if stale:
        parts.append(f"{stale} übersprungen (inzwischen geändert)")
    if refused:
        parts.append(f"{refused} nicht möglich")
    return ", ".join(parts) + "."


Command = Callable[[str, int | None], Changed]


def _bulk_command(
    casework: CaseworkService, principal: Principal, aktion: str, assignee: str, target: str
) -> tuple[str, Command] | None:
    """What the bulk form asks for: the past participle for the message, and the command."""
    if aktion == "zuweisen" and assignee == ME:
        return "zugewiesen", lambda ref, version: casework.take(principal, ref, version)
    if aktion == "zuweisen" and assignee:
        return "zugewiesen", lambda ref, v: casework.assign(principal, ref, assignee, v)
    if aktion == "weiterleiten" and target:
        return "weitergeleitet", lambda ref, v: casework.reroute(principal, ref, target, "", v)
    return None


@router.post("/fachdienste/{department_id}/sammelaktion")
def bulk_action(
    request: Request,
    department_id: str,
    principal: Signed,
    aktion: Annotated[str, Form()] = "",
    auswahl: Annotated[list[str] | None, Form()] = None,
    zuweisen_an: Annotated[str, Form()] = "",
    weiterleiten_an: Annotated[str, Form()] = "",
    zurueck: Annotated[str, Form()] = "",
) -> Response:
    mailroom = _mailroom(request)
    department = visible_department(request, principal, department_id)
    selection = _selection(auswahl or [])
    if not selection:
        flash(request, "warning", "Bitte wählen Sie mindestens einen Vorgang aus.")
        return _back(department, zurueck)
    chosen = _bulk_command(
        mailroom.services.casework, principal, aktion, zuweisen_an, weiterleiten_an
    )
    if chosen is None:
        flash(request, "warning", "Bitte wählen Sie, an wen die Vorgänge gehen sollen.")
        return _back(department, zurueck)
    verb, command = chosen
    changed: list[Changed] = []
    stale = refused = 0
    for reference, version in selection:
        try:
            changed.append(command(reference, version))
        except StaleError:
            stale += 1
        except ServiceError:
            refused += 1
    for change in changed:
        mailroom.services.workspace.wait_for(change, "cases")
    message = bulk_message(len(changed), verb, stale, refused)
    flash(request, "success" if changed and not (stale or refused) else "warning", message)
    return _back(department, zurueck)


# -- saved filters ----------------------------------------------------------------------------


@router.post("/fachdienste/{department_id}/filter")
def save_filter(
    request: Request,
    department_id: str,
    principal: Signed,
    name: Annotated[str, Form()] = "",
    abfrage: Annotated[str, Form()] = "",
) -> Response:
    mailroom = _mailroom(request)
    department = visible_department(request, principal, department_id)
    keys = {s.key for s in department.services}
    query = QueueQuery.from_query_string(abfrage[:2000], keys).first_page()
    try:
        new = saved_filters.save_filter(
            mailroom.views,
            principal.id,
            department.id,
            name,
            query.query_string(),
            mailroom.services.workspace.clock,
        )
    except saved_filters.SavedFilterError as exc:
        flash(request, "error", str(exc))
    else:
        shown = saved_filters.clean_name(name)
        verb = "gespeichert" if new else "aktualisiert"
        flash(request, "success", f"Filter „{shown}“ {verb}.")
    return RedirectResponse(_queue_url(department.id, query), status_code=303)


@router.post("/fachdienste/{department_id}/filter/{filter_id}/loeschen")
def delete_filter(
    request: Request,
    department_id: str,
    filter_id: int,
    principal: Signed,
    zurueck: Annotated[str, Form()] = "",
) -> Response:
    mailroom = _mailroom(request)
    department = visible_department(request, principal, department_id)
    name = saved_filters.delete_filter(mailroom.views, principal.id, department.id, filter_id)
    if name:
        flash(request, "success", f"Filter „{name}“ gelöscht.")
    else:
        flash(request, "warning", "Diesen Filter gibt es nicht mehr.")
    return _back(department, zurueck)
