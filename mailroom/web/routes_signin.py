"""Signing in with a local account (GET/POST /anmelden) and signing out (POST /abmelden)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mailroom.web.session import current_principal, flash, sign_in, sign_out
from mailroom.web.templating import render

router = APIRouter(include_in_schema=False)

HOME = "/arbeitskorb"
WRONG_CREDENTIALS = "Benutzername oder Passwort ist falsch."
MISSING_CREDENTIALS = "Bitte geben Sie Benutzername und Passwort ein."
MAX_CREDENTIAL_LENGTH = 1024  # longer is never a valid account; refused before hashing
_SIGN_IN_PATHS = ("/anmelden", "/abmelden")


def local_target(value: str | None, default: str = HOME) -> str:
    """``value`` if it is a path on this server (``/…``), else ``default``: never another
    host (``//host``, ``/\\host``, ``https://…``), never the sign-in pages themselves."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default  # browsers turn "/\host" into "//host" and drop tabs and newlines
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(_SIGN_IN_PATHS):
        return default
    return value


def oidc_enabled(request: Request) -> bool:
    """The "Dienstkonto" link is shown when the mailroom has an OpenID Connect client."""
    return getattr(request.app.state.mailroom, "oidc", None) is not None


def _form_page(request: Request, weiter: str, login: str = "", error: str = "") -> Response:
    # Re-shown forms answer 200 (also what htmx swaps); the message says what went wrong.
    context = {
        "weiter": weiter,
        "login": login,
        "error": error,
        "oidc_enabled": oidc_enabled(request),
    }
    return render(request, "anmelden.html", context)


@router.get("/")
def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/anmelden")
def sign_in_page(request: Request, weiter: str = "") -> Response:
    target = local_target(weiter)
    if current_principal(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _form_page(request, target if weiter else "")


@router.post("/anmelden")
def sign_in_submit(
    request: Request,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    weiter: Annotated[str, Form()] = "",
) -> Response:
    # A plain (sync) route: FastAPI runs it in a worker thread, so password hashing does not
    # hold up the event loop.
    login = login.strip()
    target = local_target(weiter)
    kept = target if weiter else ""
    if not login or not password:
        return _form_page(request, kept, login[:MAX_CREDENTIAL_LENGTH], MISSING_CREDENTIALS)
    principal = None
    if len(login) <= MAX_CREDENTIAL_LENGTH and len(password) <= MAX_CREDENTIAL_LENGTH:
        principal = request.app.state.mailroom.services.staff.authenticate(login, password)
    if principal is None:
        return _form_page(request, kept, login[:MAX_CREDENTIAL_LENGTH], WRONG_CREDENTIALS)
    sign_in(request, principal)
    return RedirectResponse(target, status_code=303)


@router.post("/abmelden")
def sign_out_submit(request: Request) -> Response:
    sign_out(request)
    flash(request, "success", "Sie sind abgemeldet.")
    return RedirectResponse("/anmelden", status_code=303)
