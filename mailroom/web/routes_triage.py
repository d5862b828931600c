"""Triage (/triage): the mailroom places what the router could not, one letter after another.

The list shows the items waiting, oldest first (keyset paging with the service's cursor,
``?ab=``); the current item (``?eintrag=``) is shown large with the router's candidates.
Every action is a plain form posted to ``/triage/{item_id}/{aktion}`` carrying the item's
version: a stale form (someone else triaged it first) changes nothing. On success the page
waits for the item view (read your own writes) and redirects to the next item
(``/triage?eintrag=…``) with a German flash message. static/triage.js adds the keys.
Only the mailroom and administrators see this page; for everybody else it does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mailroom import texts_de
from mailroom.auth.permissions import may_triage
from mailroom.auth.principal import Principal
from mailroom.services import Changed, NotFoundError, ServiceError, StaleError
from mailroom.web import triage_page
from mailroom.web.exceptions import WebError
from mailroom.web.session import flash, require_principal
from mailroom.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
Form = dict[str, str]


class FormError(Exception):
    """A form refused before the service is called (German message)."""


def require_triage(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    """The mailroom and administrators; for everybody else the page is unknown (404)."""
    if not may_triage(principal):
        raise WebError(404)
    return principal


def triage_url(eintrag: str | None = None, ab: str | None = None) -> str:
    params = {k: v for k, v in (("eintrag", eintrag), ("ab", ab)) if v}
    return "/triage" + (f"?{urlencode(params)}" if params else "")


def _services(request: Request) -> Any:
    return request.app.state.mailroom.services


def _page(
    request: Request,
    principal: Principal,
    eintrag: str,
    ab: str,
    error: str = "",
    status: int = 200,
) -> Response:
    mailroom = request.app.state.mailroom
    workspace = mailroom.services.workspace
    notices: list[str] = []
    try:
        queue = workspace.triage_queue(principal, ab or None, PAGE_SIZE)
    except NotFoundError:
        raise
    except ServiceError as exc:  # a page link from before: start from the oldest again
        notices.append(texts_de.service_error(exc.code))
        queue, ab = workspace.triage_queue(principal, None, PAGE_SIZE), ""
    current = None
    if eintrag:
        try:
            current = workspace.triage_item(principal, eintrag)
        except NotFoundError:
            current = None
        if current is not None and current.status != "triage":
            if not error:
                notices.append(f"{current.reference} ist nicht mehr in der Triage.")
            current = None
    for row in queue.rows if current is None else ():
        try:
            current = workspace.triage_item(principal, row.item_id)
            break
        except NotFoundError:  # gone between the two queries
            continue
    context = triage_page.context(mailroom, queue, current, ab, triage_url)
    context.update(error=error, notices=notices)
    return render(request, "triage.html", context, status_code=status)


@router.get("/triage")
def triage(
    request: Request,
    principal: Annotated[Principal, Depends(require_triage)],
    eintrag: str = "",
    ab: str = "",
) -> Response:
    return _page(request, principal, eintrag, ab)


# -- the actions -----------------------------------------------------------------------------


def _department(request: Request, form: Form) -> str:
    """The department of a candidate button, or the one typed or picked in the search."""
    chosen = form.get("fachdienst", "").strip()
    if chosen:
        return chosen
    typed = form.get("fachdienst_suche", "").strip().casefold()
    for department in request.app.state.mailroom.catalog.departments:
        if typed in (department.id.casefold(), department.name.casefold()):
            return str(department.id)
    raise FormError(texts_de.service_error("unknown_department"))


def _act(request: Request, principal: Principal, item_id: UUID, aktion: str, form: Form) -> str:
    """Carry out ``aktion``; the flash message."""
    services = _services(request)
    try:
        version = int(form.get("expected_version", ""))
    except ValueError:
        raise StaleError("the form has no version") from None
    reference = services.workspace.triage_item(principal, item_id).reference
    changed: Changed
    if aktion == "zuordnen":
        department = _department(request, form)
        changed = services.triage.route(principal, item_id, department, "", version)
        name = request.app.state.mailroom.department_name(department)
        message = f"{reference} an {name} weitergeleitet."
    elif aktion == "fehlleitung":
        addressee = form.get("empfaenger", "")
        changed = services.triage.mark_misdirected(principal, item_id, addressee, "", version)
        message = f"{reference} als Fehlleitung markiert."
    elif aktion == "neu-scannen":
        changed = services.triage.request_rescan(principal, item_id, "", version)
        message = f"{reference} zum Neuscannen zurückgelegt."
    else:
        raise NotFoundError(f"no action {aktion}")
    services.workspace.wait_for(changed, "items")
    return message


def _run(request: Request, principal: Principal, item_id: str, aktion: str, form: Form) -> Response:
    try:
        item_uuid = UUID(item_id)
    except ValueError:
        raise NotFoundError(f"no item {item_id}") from None
    ab = form.get("ab", "")
    try:
        message = _act(request, principal, item_uuid, aktion, form)
    except FormError as exc:
        return _page(request, principal, item_id, ab, str(exc), 422)
    except NotFoundError:
        raise
    except StaleError:
        return _page(request, principal, item_id, ab, texts_de.TRIAGE_STALE, 409)
    except ServiceError as exc:
        return _page(request, principal, item_id, ab, texts_de.service_error(exc.code), 422)
    flash(request, "success", message)
    following = form.get("nach", "")
    try:
        following = str(UUID(following))
    except ValueError:
        following = ""
    return RedirectResponse(triage_url(following, ab), status_code=303)


@router.post("/triage/{item_id}/{aktion}")
async def triage_action(
    request: Request,
    item_id: str,
    aktion: str,
    principal: Annotated[Principal, Depends(require_triage)],
) -> Response:
    submitted = await request.form()
    form = {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}
    return await run_in_threadpool(_run, request, principal, item_id, aktion, form)
