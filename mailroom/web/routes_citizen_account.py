"""The Bürgerkonto: citizens sign in with OpenID Connect at the city's citizen-account
provider (a realm of its own, a client of its own: ``mailroom.citizen_oidc``) and see their
requests, their Postfach and how documents reach them.

``/buergerkonto/anmelden`` keeps state, nonce and PKCE verifier in the session and sends the
browser to the provider; ``/buergerkonto/zurueck`` validates the id token against the
provider's keys (issuer, audience, expiry, nonce) and signs the citizen in (``citizen:SUB``,
never a staff principal). A failed sign-in shows a German page and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mailroom import texts_de
from mailroom.auth.oidc import OidcError
from mailroom.bootstrap import CITIZEN_OIDC_CALLBACK_PATH
from mailroom.services import ServiceError
from mailroom.services.citizen import CitizenStatus
from mailroom.web.citizen_session import (
    PENDING_KEY,
    citizen_from_claims,
    citizen_oidc,
    current_citizen,
    sign_in_citizen,
    sign_out_citizen,
)
from mailroom.web.exceptions import WebError
from mailroom.web.routes_citizen import (
    ANSWER_ERRORS,
    FILE_FIELD,
    TEXT_FIELD,
    answer_error,
    render_citizen,
    spooled_uploads,
    status_page,
)
from mailroom.web.routes_documents import content_disposition
from mailroom.web.routes_signin import local_target
from mailroom.web.session import flash

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

HOME = "/buergerkonto"
SIGN_IN = HOME + "/anmelden"
_SIGN_IN_PREFIX = (SIGN_IN, CITIZEN_OIDC_CALLBACK_PATH)


def _home_target(value: str | None) -> str:
    """Back to a Bürgerkonto page after signing in; anything else is the overview."""
    target = local_target(value, HOME)
    if not (target == HOME or target.startswith(HOME + "/")) or target.startswith(_SIGN_IN_PREFIX):
        return HOME
    return target


def _redirect_to_sign_in(request: Request) -> Response:
    path = request.url.path if request.method == "GET" else HOME
    return RedirectResponse(f"{SIGN_IN}?weiter={quote(path, safe='/')}", status_code=303)


@router.get(HOME)
def overview(request: Request) -> Response:
    citizen = current_citizen(request)
    if citizen is None:
        return render_citizen(request, "buerger/konto_anmelden.html", {"error": ""})
    services = request.app.state.mailroom.services.citizen
    agreed, email = services.digital_delivery(citizen.account_id)
    context = {
        "requests": services.requests_of(citizen.account_id),
        "postfach": services.postfach(citizen.account_id),
        "digital": agreed,
        "email": email or citizen.email or "",
        "email_error": "",
    }
    return render_citizen(request, "buerger/konto.html", context)


@router.get(SIGN_IN)
def sign_in_begin(request: Request, weiter: str = "") -> Response:
    client = citizen_oidc(request)
    if client is None:
        return render_citizen(request, "buerger/konto_anmelden.html", {"error": ""}, 404)
    try:
        start = client.begin()
    except OidcError as exc:
        return _failed(request, exc)
    request.session[PENDING_KEY] = {**start.pending(), "weiter": _home_target(weiter)}
    return RedirectResponse(start.url, status_code=303)


@router.get(CITIZEN_OIDC_CALLBACK_PATH)
def sign_in_callback(request: Request) -> Response:
    client = citizen_oidc(request)
    pending = request.session.pop(PENDING_KEY, None)
    if client is None or not isinstance(pending, dict):
        return _failed(request, OidcError("state_mismatch", "no sign-in was started"))
    try:
        claims = client.complete_callback(dict(request.query_params), pending)
        citizen = citizen_from_claims(claims)
    except OidcError as exc:
        return _failed(request, exc)
    request.app.state.mailroom.services.citizen.signed_in(citizen)
    sign_in_citizen(request, citizen)
    log.info("citizen %s signed in with the Bürgerkonto", citizen.principal_id)
    return RedirectResponse(_home_target(pending.get("weiter")), status_code=303)


def _failed(request: Request, exc: OidcError) -> Response:
    log.warning("Bürgerkonto sign-in refused: %s (%s)", exc.code, exc.detail)
    unreachable = exc.code == "provider_unreachable"
    message = (
        texts_de.CITIZEN_SIGN_IN_UNAVAILABLE if unreachable else texts_de.CITIZEN_SIGN_IN_FAILED
    )
    status = 503 if unreachable else 401
    return render_citizen(request, "buerger/konto_anmelden.html", {"error": message}, status)


@router.post(HOME + "/abmelden")
def sign_out(request: Request) -> Response:
    sign_out_citizen(request)
    flash(request, "success", texts_de.CITIZEN_SIGNED_OUT)
    return RedirectResponse(HOME, status_code=303)


@router.get(HOME + "/anliegen/{reference}")
def request_page(request: Request, reference: str) -> Response:
    citizen = current_citizen(request)
    if citizen is None:
        return _redirect_to_sign_in(request)
    services = request.app.state.mailroom.services.citizen
    return _account_page(request, services.status_for_account(citizen.account_id, reference))


@router.post(HOME + "/anliegen/{reference}/antwort")
async def answer_submit(request: Request, reference: str) -> Response:
    citizen = current_citizen(request)
    if citizen is None:
        return _redirect_to_sign_in(request)
    form = await request.form()
    text = _text(form.get(TEXT_FIELD), 20_000)
    request_id = _text(form.get("anfrage"), 100) or None
    services = request.app.state.mailroom.services.citizen
    async with spooled_uploads(request, form.getlist(FILE_FIELD)) as uploads:
        try:
            await run_in_threadpool(
                services.answer_for_account, citizen, reference, text, uploads, request_id
            )
        except ANSWER_ERRORS as exc:
            message, status_code = answer_error(request, exc)
            shown = await run_in_threadpool(
                services.status_for_account, citizen.account_id, reference
            )
            return _account_page(request, shown, error=message, typed=text, status_code=status_code)
    shown = await run_in_threadpool(services.status_for_account, citizen.account_id, reference)
    return _account_page(request, shown, notice=texts_de.CITIZEN_ANSWER_RECEIVED)


def _account_page(
    request: Request,
    status: CitizenStatus,
    *,
    notice: str = "",
    error: str = "",
    typed: str = "",
    status_code: int = 200,
) -> Response:
    return status_page(
        request,
        status,
        answer_action=f"{HOME}/anliegen/{status.reference}/antwort",
        hidden={},
        back=(HOME, "Zurück zum Bürgerkonto"),
        notice=notice,
        error=error,
        typed=typed,
        status_code=status_code,
    )


@router.get(HOME + "/postfach/{document_id}")
def postfach_document(request: Request, document_id: str) -> Response:
    """The PDF; the first opening is recorded as the read receipt."""
    citizen = current_citizen(request)
    if citizen is None:
        return _redirect_to_sign_in(request)
    services = request.app.state.mailroom.services.citizen
    title, pdf = services.open_document(citizen.account_id, document_id)
    headers = {
        "Content-Disposition": content_disposition(f"{title}.pdf"),
        "Cache-Control": "no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post(HOME + "/zustellung")
def delivery_choice(
    request: Request,
    digital: Annotated[str, Form()] = "",
    email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    citizen = current_citizen(request)
    if citizen is None:
        return _redirect_to_sign_in(request)
    services = request.app.state.mailroom.services.citizen
    agreed = digital == "1"
    try:
        services.set_digital_delivery(citizen.account_id, agreed, email)
    except ServiceError as exc:
        if exc.code != "invalid_email":
            raise WebError(503) from None
        context = {
            "requests": services.requests_of(citizen.account_id),
            "postfach": services.postfach(citizen.account_id),
            "digital": agreed,
            "email": email,
            "email_error": texts_de.CITIZEN_INVALID_EMAIL,
        }
        return render_citizen(request, "buerger/konto.html", context, 422)
    flash(request, "success", texts_de.CITIZEN_DELIVERY_SAVED[agreed])
    return RedirectResponse(HOME + "#zustellung", status_code=303)


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""
