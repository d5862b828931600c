"""Outgoing letters from the case page: a clerk drafts a letter from a template, previews it,
saves the draft, approves it (a second person where the template requires it) or discards
it; the delivery consumer then renders it and sends it to the Postfach or to print.

    GET  /faelle/{reference}/schreiben                the case page's list (htmx refresh)
    GET  /faelle/{reference}/schreiben/neu?vorlage=   the form of a new draft
    POST /faelle/{reference}/schreiben/neu            save the new draft
    POST /faelle/{reference}/schreiben/vorschau       the PDF of what was typed (nothing stored)
    GET  /faelle/{reference}/schreiben/{id}           a letter: its draft form, or what was sent
    POST /faelle/{reference}/schreiben/{id}/{aktion}  speichern | freigeben | verwerfen
    GET  /schreiben/{id}.pdf                          the rendered letter (a draft: its preview)
    POST /faelle/{reference}/buergerkonto/verknuepfen link the case's letter to a Bürgerkonto

Forms carry the version they were shown (``expected_version``): a stale form changes
nothing. A refused form comes back with its German message and what was typed; missing
template fields are named by their labels. Approval approves what is stored: typed changes
must be saved (and previewed) first. Who may not see the case gets the 404 of an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from aggregates.outgoing_document import OutgoingDocument
from letters import TemplateInfo
from mailroom import texts_de
from mailroom.auth.principal import Principal
from mailroom.services import Changed, NotFoundError, ServiceError, StaleError
from mailroom.services.letters import MissingLetterFieldsError
from mailroom.web import letters_page
from mailroom.web.errors import error_page
from mailroom.web.routes_cases import FormState, case_context
from mailroom.web.session import flash, require_principal
from mailroom.web.templating import render

router = APIRouter(include_in_schema=False)

Form = dict[str, str]
ACTIONS = ("speichern", "freigeben", "verwerfen")
AUTOMATIC_TEMPLATES = frozenset({"eingangsbestaetigung"})  # written by the mailroom itself


class FormError(Exception):
    """A form refused before the service is called (German message)."""


def _mailroom(request: Request) -> Any:
    return request.app.state.mailroom


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundError(f"no letter {value}") from None


def _form(submitted: Any) -> Form:
    return {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}


def _version(form: Form) -> int:
    try:
        return int(form.get("expected_version", ""))
    except ValueError:
        raise FormError(letters_page.letter_error("stale")) from None


def _find(
    mailroom: Any, principal: Principal, reference: str, document_id: str
) -> tuple[Any, OutgoingDocument]:
    """The case (visible to the principal) and one of its letters; else NotFoundError."""
    case = mailroom.services.casework.find_visible(principal, reference)
    document = mailroom.app.find_document(_uuid(document_id))
    if document is None or document.case_id != case.id:
        raise NotFoundError(f"no letter {document_id} in case {reference}")
    return case, document


# -- the case page's list --------------------------------------------------------------------


@router.get("/faelle/{reference}/schreiben")
def letters_fragment(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(require_principal)],
    runde: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    """The list of the case's letters (htmx swaps it while letters are being made)."""
    mailroom = _mailroom(request)
    page = mailroom.services.workspace.case_page(principal, reference)
    case = page.detail.case
    context = letters_page.case_letters(mailroom, principal, case.reference, page.items)
    context |= {"case": case, "refresh_round": runde}
    return render(request, "briefe/liste.html", context)


# -- a letter's page -------------------------------------------------------------------------


def _letter_page(
    request: Request,
    principal: Principal,
    case: Any,
    info: TemplateInfo,
    values: dict[str, str],
    document: OutgoingDocument | None = None,
    error: str = "",
    missing: tuple[str, ...] = (),
    status: int = 200,
) -> Response:
    mailroom = _mailroom(request)
    row = mailroom.read_models.outgoing.get(str(document.id)) if document else None
    line = letters_page.letter_line(row, principal) if row is not None else None
    blocked = letters_page.second_approval_block(row, principal) if row is not None else ""
    context = {
        "case": case,
        "info": info,
        "fields": letters_page.form_fields(info, values, missing),
        "document": document,
        "line": line,
        "is_draft": document is None or str(document.state) == "draft",
        "version": document.version if document is not None else 0,
        "approval_blocked": blocked,
        "approval_detail": texts_de.LETTER_SECOND_APPROVAL_DETAIL if blocked else "",
        "error": error,
        "recipient_address": row.recipient_address.splitlines() if row is not None else [],
    }
    return render(request, "briefe/schreiben.html", context, status_code=status)


@router.get("/faelle/{reference}/schreiben/neu")
def new_letter(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(require_principal)],
    vorlage: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    mailroom = _mailroom(request)
    case = mailroom.services.casework.find_visible(principal, reference)
    letters = mailroom.services.letters
    if not vorlage:
        return RedirectResponse(f"/faelle/{case.reference}#schreiben-titel", status_code=303)
    try:
        form = letters.draft_form(principal, case.reference, vorlage)
    except NotFoundError:
        raise
    except ServiceError as exc:
        flash(request, "error", letters_page.letter_error(exc.code))
        return RedirectResponse(f"/faelle/{case.reference}#schreiben-titel", status_code=303)
    return _letter_page(request, principal, case, form.template, form.values)


def _save_new(request: Request, principal: Principal, reference: str, form: Form) -> Response:
    mailroom = _mailroom(request)
    services = mailroom.services
    case = services.casework.find_visible(principal, reference)
    info = services.letters.template(form.get("vorlage", ""))
    typed = letters_page.submitted(info, form)
    try:
        changed = services.letters.draft(principal, case.reference, info.name, typed)
    except MissingLetterFieldsError as exc:
        message = letters_page.missing_message(exc.labels)
        return _letter_page(
            request, principal, case, info, typed, None, message, tuple(exc.fields), 422
        )
    except NotFoundError:
        raise
    except ServiceError as exc:
        message = letters_page.letter_error(exc.code)
        return _letter_page(request, principal, case, info, typed, None, message, (), 422)
    services.workspace.wait_for(changed, "outgoing")
    flash(request, "success", texts_de.LETTER_FLASH["drafted"].format(title=info.title))
    target = letters_page.letter_url(case.reference, str(changed.id))
    return RedirectResponse(target, status_code=303)


@router.post("/faelle/{reference}/schreiben/neu")
async def save_new_letter(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_save_new, request, principal, reference, form)


def _preview(request: Request, principal: Principal, reference: str, form: Form) -> Response:
    """What was typed, rendered as the letter will look; nothing is stored."""
    mailroom = _mailroom(request)
    letters = mailroom.services.letters
    case = mailroom.services.casework.find_visible(principal, reference)
    title = "Vorschau nicht möglich"
    try:
        info = letters.template(form.get("vorlage", ""))
        fields = letters_page.parsed(info, letters_page.submitted(info, form))
        document = letters.new_document(principal, case, info.name, fields)
        pdf = letters.render(document).pdf
    except MissingLetterFieldsError as exc:
        message = letters_page.missing_message(exc.labels).replace(
            "Es wurde nichts gespeichert.", "Bitte ergänzen Sie sie im Formular."
        )
        return error_page(request, 422, title, message)
    except NotFoundError:
        raise
    except ServiceError as exc:
        return error_page(request, 422, title, letters_page.letter_error(exc.code))
    return _pdf(pdf, "vorschau.pdf")


@router.post("/faelle/{reference}/schreiben/vorschau")
async def preview_letter(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_preview, request, principal, reference, form)


@router.get("/faelle/{reference}/schreiben/{document_id}")
def letter(
    request: Request,
    reference: str,
    document_id: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    mailroom = _mailroom(request)
    case, document = _find(mailroom, principal, reference, document_id)
    info = mailroom.services.letters.template(document.template)
    values = letters_page.stored_values(info, document.data)
    return _letter_page(request, principal, case, info, values, document)


def _act(
    request: Request,
    principal: Principal,
    reference: str,
    document_id: str,
    aktion: str,
    form: Form,
) -> Response:
    if aktion not in ACTIONS:
        raise NotFoundError(f"no action {aktion}")
    mailroom = _mailroom(request)
    services = mailroom.services
    letters = services.letters
    case, document = _find(mailroom, principal, reference, document_id)
    info = letters.template(document.template)
    typed = letters_page.submitted(info, form)
    shown = {**letters_page.stored_values(info, document.data), **typed}
    try:
        version = _version(form)
        if aktion == "speichern":
            changed: Changed = letters.edit(principal, document.id, typed, version)
            message = texts_de.LETTER_FLASH["edited"]
        elif aktion == "freigeben":
            row = mailroom.read_models.outgoing.get(str(document.id))
            if row is not None and letters_page.second_approval_block(row, principal):
                raise FormError(
                    f"{texts_de.LETTER_SECOND_APPROVAL}. {texts_de.LETTER_SECOND_APPROVAL_DETAIL}"
                )
            if typed and letters_page.differs(info, document.data, typed):
                raise FormError(texts_de.LETTER_UNSAVED_CHANGES)
            changed = letters.approve(principal, document.id, version)
            message = texts_de.LETTER_FLASH["approved"].format(title=document.title)
        else:
            changed = letters.discard(principal, document.id, version)
            message = texts_de.LETTER_FLASH["discarded"].format(title=document.title)
    except FormError as exc:
        return _letter_page(request, principal, case, info, shown, document, str(exc), (), 422)
    except MissingLetterFieldsError as exc:
        text = letters_page.missing_message(exc.labels)
        return _letter_page(
            request, principal, case, info, shown, document, text, tuple(exc.fields), 422
        )
    except NotFoundError:
        raise
    except ServiceError as exc:
        status = 409 if isinstance(exc, StaleError) else 422
        text = letters_page.letter_error(exc.code)
        fresh = mailroom.app.find_document(document.id) or document
        values = shown if aktion == "speichern" else letters_page.stored_values(info, fresh.data)
        return _letter_page(request, principal, case, info, values, fresh, text, (), status)
    services.workspace.wait_for(changed, "outgoing")
    flash(request, "success", message)
    if aktion == "speichern":
        return RedirectResponse(letters_page.letter_url(case.reference, document_id), 303)
    return RedirectResponse(f"/faelle/{case.reference}#schreiben-titel", status_code=303)


@router.post("/faelle/{reference}/schreiben/{document_id}/{aktion}")
async def letter_action(
    request: Request,
    reference: str,
    document_id: str,
    aktion: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_act, request, principal, reference, document_id, aktion, form)


# -- the PDF ---------------------------------------------------------------------------------


def _pdf(pdf: bytes, filename: str) -> Response:
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/schreiben/{document_id}.pdf")
def letter_pdf(
    request: Request,
    document_id: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    """The letter as rendered (staff of its case and the Poststelle); a draft not rendered
    yet: its preview (only staff of its case)."""
    letters = _mailroom(request).services.letters
    uuid = _uuid(document_id)
    try:
        pdf = letters.pdf(principal, uuid)
    except ServiceError as exc:
        if exc.code != "not_rendered":
            raise
        pdf = letters.preview(principal, uuid)
    return _pdf(pdf, f"schreiben-{letters_page.short_id(str(uuid))}.pdf")


# -- the Bürgerkonto -------------------------------------------------------------------------


def _link(request: Request, principal: Principal, reference: str, form: Form) -> Response:
    services = _mailroom(request).services
    account = form.get("konto", "").strip()
    try:
        version = _version(form)
        if not account:
            raise FormError(texts_de.ACCOUNT_MISSING)
        changed = services.casework.link_to_account(principal, reference, account, version)
    except FormError as exc:
        state = FormState("buergerkonto", str(exc), form)
        return _case_again(request, principal, reference, state, 422)
    except NotFoundError:
        raise
    except ServiceError as exc:
        status = 409 if isinstance(exc, StaleError) else 422
        text = texts_de.LETTER_ERRORS.get(exc.code) or texts_de.service_error(exc.code)
        return _case_again(
            request, principal, reference, FormState("buergerkonto", text, form), status
        )
    services.workspace.wait_for(changed, "status")
    flash(request, "success", texts_de.LETTER_FLASH["linked"].format(account=account))
    return RedirectResponse(f"/faelle/{reference}#schreiben-titel", status_code=303)


def _case_again(
    request: Request, principal: Principal, reference: str, state: FormState, status: int
) -> Response:
    context = case_context(request, principal, reference, state)
    return render(request, "fall.html", context, status_code=status)


@router.post("/faelle/{reference}/buergerkonto/verknuepfen")
async def link_account(
    request: Request,
    reference: str,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    form = _form(await request.form())
    return await run_in_threadpool(_link, request, principal, reference, form)
