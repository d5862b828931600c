"""The case page (/faelle/{reference}) and everything a clerk does there.

Each action is a plain form posted to ``/faelle/{reference}/{aktion}`` with the case version
it was shown (``expected_version``): the service refuses a stale form (someone else acted
first) and nothing changes. On success the page waits until the case view has the change
(read your own writes), then redirects back with a German flash message; a refused command
shows the page again with the message and what was typed. Who may not see the case gets the
same 404 page as for an unknown reference.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mailroom import texts_de
from mailroom.auth.permissions import may_see_cases_of
from mailroom.auth.principal import Principal
from mailroom.services import Changed, NotFoundError, ServiceError, StaleError
from mailroom.web import case_page, letters_page
from mailroom.web.session import flash, require_principal
from mailroom.web.templating import render
from projections.search_query import highlight_terms

router = APIRouter(include_in_schema=False)

STANDARD_TEXTS = texts_de.INFORMATION_REQUEST_TEXTS
INFO_DUE_DAYS = 14  # calendar days the citizen gets to answer, unless the clerk says otherwise
MAX_EXTENSION_DAYS = 120


class FormError(Exception):
    """A form the route refuses before calling the service (German message)."""


@dataclass(frozen=True)
class FormState:
    """A refused form, shown again: which action, why, and what was typed."""

    action: str = ""
    error: str = ""
    values: dict[str, str] = field(default_factory=dict)


Form = dict[str, str]
Action = Callable[[Any, Principal, str, Form, int], tuple[Changed, str]]


def _mailroom(request: Request) -> Any:
    return request.app.state.mailroom


def case_context(
    request: Request, principal: Principal, reference: str, state: FormState | None = None
) -> dict[str, Any]:
    mailroom = _mailroom(request)
    services = mailroom.services
    page = services.workspace.case_page(principal, reference)
    case = page.detail.case
    params = dict(request.query_params) if request.method == "GET" else {}
    q = params.get("q", "")
    terms = highlight_terms(q) if q else []
    entries = case_page.documents(page)
    texts = case_page.item_texts(page.items, entries, terms)
    today = services.workspace.today()
    staff = [
        (pid, name)
        for pid, name in services.staff.list_for_department(case.department_id)
        if pid != case.assignee_id
    ]
    departments = [(d.id, d.name) for d in mailroom.catalog.departments]
    return {
        "page": page,
        "case": case,
        "q": q,
        "hits": sum(t.hits for t in texts),
        "texts": texts,
        "viewer": case_page.viewer(page, entries, params, texts),
        "timeline": case_page.timeline(
            page, mailroom.department_name, services.letters.of_case(principal, case.reference)
        ),
        "department": mailroom.department_name(case.department_id),
        "service": case_page.service_name(mailroom.catalog, case.service_key),
        "staff": staff,
        "other_departments": [d for d in departments if d[0] != case.department_id],
        "outcomes": list(texts_de.OUTCOMES.items()),
        "extension_reasons": list(texts_de.EXTENSION_REASONS.items()),
        "outcome_names": texts_de.OUTCOMES,
        "channels": texts_de.CHANNELS,
        "standard_text_options": [(str(n), t[0]) for n, t in enumerate(STANDARD_TEXTS, 1)],
        "standard_text_bodies": json.dumps([t[1] for t in STANDARD_TEXTS], ensure_ascii=False),
        "status_names": texts_de.CASE_STATUSES,
        "info_due_default": (today + timedelta(days=INFO_DUE_DAYS)).isoformat(),
        "info_due_min": (today + timedelta(days=1)).isoformat(),
        "form": state or FormState(),
        "mine": case.assignee_id == principal.id,
        **letters_page.case_letters(mailroom, principal, case.reference, page.items),
    }


@router.get("/faelle/{reference}")
def case_detail(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    return render(request, "fall.html", case_context(request, principal, reference))


# -- the actions -----------------------------------------------------------------------------


def _required(form: Form, name: str, message: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise FormError(message)
    return value


def _take(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    return services.casework.take(p, ref, v), "Sie haben den Vorgang übernommen."


def _assign(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    assignee = _required(form, "bearbeitung", "Bitte wählen Sie eine Person aus.")
    changed = services.casework.assign(p, ref, assignee, v)
    known = services.casework.staff(assignee)
    return changed, f"Der Vorgang ist jetzt {known[0] if known else assignee} zugewiesen."


def _note(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    text = _required(form, "notiz", "Bitte geben Sie den Text der Notiz ein.")
    return services.casework.add_note(p, ref, text, v), "Die Notiz ist gespeichert."


def _reroute(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    department = _required(form, "fachdienst", "Bitte wählen Sie einen Fachdienst aus.")
    changed = services.casework.reroute(p, ref, department, form.get("notiz", ""), v)
    name = services.casework.catalog.department(department).name
    return changed, f"Der Vorgang {ref} ist an {name} weitergeleitet."


def _request_information(
    services: Any, p: Principal, ref: str, form: Form, v: int
) -> tuple[Changed, str]:
    message = form.get("nachricht", "").strip() or _standard_text(form.get("textbaustein", ""))
    if not message:
        raise FormError("Bitte schreiben Sie, was die Person nachreichen soll.")
    try:
        due = date.fromisoformat(form.get("frist", "").strip())
    except ValueError:
        raise FormError(
            "Bitte geben Sie das Datum an, bis zu dem geantwortet werden soll."
        ) from None
    if due <= services.workspace.today():
        raise FormError("Die Antwortfrist muss nach dem heutigen Tag liegen.")
    changed = services.casework.request_information(p, ref, message, due, v)
    text = f"Unterlagen angefordert (Antwort bis {due:%d.%m.%Y}). Die Bearbeitungsfrist ruht."
    return changed, text


def _standard_text(choice: str) -> str:
    number = int(choice) if choice.isdigit() else 0
    return STANDARD_TEXTS[number - 1][1] if 1 <= number <= len(STANDARD_TEXTS) else ""


def _information_received(
    services: Any, p: Principal, ref: str, form: Form, v: int
) -> tuple[Changed, str]:
    changed = services.casework.receive_information(p, ref, None, v)
    return changed, "Die Antwort ist vermerkt. Die Bearbeitungsfrist läuft weiter."


def _extend(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    try:
        days = int(form.get("tage", "").strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise FormError(f"Bitte geben Sie 1 bis {MAX_EXTENSION_DAYS} Arbeitstage an.")
    reason = _required(form, "grund", "Bitte wählen Sie einen Grund aus.")
    if reason not in texts_de.EXTENSION_REASONS:
        raise FormError("Bitte wählen Sie einen Grund aus der Liste.")
    changed = services.casework.extend_deadline(p, ref, days, reason, form.get("notiz", ""), v)
    return changed, f"Die Frist ist um {days} Arbeitstage verlängert."


def _close(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    outcome = _required(form, "ergebnis", "Bitte wählen Sie ein Ergebnis aus.")
    if outcome not in texts_de.OUTCOMES:
        raise FormError("Bitte wählen Sie ein Ergebnis aus der Liste.")
    changed = services.casework.close(p, ref, outcome, v)
    return changed, f"Der Vorgang ist abgeschlossen: {texts_de.OUTCOMES[outcome]}."


def _reopen(services: Any, p: Principal, ref: str, form: Form, v: int) -> tuple[Changed, str]:
    reason = _required(form, "grund", "Bitte geben Sie an, warum der Vorgang wieder auflebt.")
    return services.casework.reopen(p, ref, reason, v), "Der Vorgang ist wieder eröffnet."


ACTIONS: dict[str, Action] = {
    "uebernehmen": _take,
    "zuweisen": _assign,
    "notiz": _note,
    "weiterleiten": _reroute,
    "unterlagen-anfordern": _request_information,
    "unterlagen-eingegangen": _information_received,
    "frist-verlaengern": _extend,
    "abschliessen": _close,
    "wieder-eroeffnen": _reopen,
}


def _run(
    request: Request, principal: Principal, reference: str, aktion: str, form: Form
) -> Response:
    services = _mailroom(request).services
    action = ACTIONS.get(aktion)
    if action is None:
        raise NotFoundError(f"no action {aktion}")
    try:
        try:
            version = int(form.get("expected_version", ""))
        except ValueError:
            raise FormError(texts_de.service_error("stale")) from None
        changed, message = action(services, principal, reference, form, version)
    except FormError as exc:
        return _again(request, principal, reference, FormState(aktion, str(exc), form), 422)
    except NotFoundError:
        raise
    except ServiceError as exc:
        status = 409 if isinstance(exc, StaleError) else 422
        state = FormState(aktion, texts_de.service_error(exc.code), form)
        return _again(request, principal, reference, state, status)
    services.workspace.wait_for(changed, "cases")
    flash(request, "success", message)
    target = f"/faelle/{reference}"
    if aktion == "weiterleiten" and not may_see_cases_of(principal, form.get("fachdienst", "")):
        target = "/arbeitskorb"  # the case has left the clerk's departments
    return RedirectResponse(target, status_code=303)


def _again(
    request: Request, principal: Principal, reference: str, state: FormState, status: int
) -> Response:
    context = case_context(request, principal, reference, state)
    return render(request, "fall.html", context, status_code=status)


@router.post("/faelle/{reference}/{aktion}")
async def case_action(
    request: Request,
    reference: str,
    aktion: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    submitted = await request.form()
    form = {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}
    return await run_in_threadpool(_run, request, principal, reference, aktion, form)
