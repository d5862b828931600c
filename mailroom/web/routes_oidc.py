"""Signing in with the city's identity provider (OpenID Connect, authorization code + PKCE).

``/anmelden/oidc`` keeps state, nonce and the PKCE verifier in the (signed) session and sends
the browser to the provider; ``/anmelden/oidc/zurueck`` checks the answer, validates the
id token against the provider's keys and signs the principal in with the roles and
departments its claims name. Any failure shows the sign-in page with a German message; the
reason goes to the log, not to the page.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailroom.auth.oidc import OidcClient, OidcError, principal_from_claims
from mailroom.bootstrap import OIDC_CALLBACK_PATH
from mailroom.web.routes_signin import local_target
from mailroom.web.session import sign_in
from mailroom.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


_PENDING = "oidc_pending"
_MESSAGES = {
    "no_role": "Ihr Dienstkonto hat keine Berechtigung für die Poststelle. "
    "Bitte wenden Sie sich an die Administration.",
    "provider_unreachable": "Der Anmeldedienst der Stadt ist gerade nicht erreichbar. "
    "Bitte versuchen Sie es später noch einmal.",
}
_FAILED = "Die Anmeldung mit dem Dienstkonto ist fehlgeschlagen. Bitte versuchen Sie es erneut."


def _client(request: Request) -> OidcClient | None:
    client: OidcClient | None = getattr(request.app.state.mailroom, "oidc", None)
    return client


@router.get("/anmelden/oidc")
def oidc_begin(request: Request, weiter: str = "") -> Response:
    client = _client(request)
    if client is None:
        return RedirectResponse("/anmelden", status_code=303)
    try:
        start = client.begin()
    except OidcError as exc:
        return _failed(request, exc)
    request.session[_PENDING] = {**start.pending(), "weiter": local_target(weiter)}
    return RedirectResponse(start.url, status_code=303)


@router.get(OIDC_CALLBACK_PATH)
def oidc_callback(request: Request) -> Response:
    client = _client(request)
    pending = request.session.pop(_PENDING, None)
    if client is None or not isinstance(pending, dict):
        return _failed(request, OidcError("state_mismatch", "no sign-in was started"))
    try:
        claims = client.complete_callback(dict(request.query_params), pending)
        principal = principal_from_claims(claims, client.config)
    except OidcError as exc:
        return _failed(request, exc)
    sign_in(request, principal)
    log.info("signed in %s through OpenID Connect", principal.id)
    return RedirectResponse(local_target(pending.get("weiter")), status_code=303)


def _failed(request: Request, exc: OidcError) -> Response:
    log.warning("OpenID Connect sign-in refused: %s (%s)", exc.code, exc.detail)
    context = {
        "weiter": "",
        "login": "",
        "error": _MESSAGES.get(exc.code, _FAILED),
        "oidc_enabled": True,
    }
    return render(request, "anmelden.html", context, status_code=401)
