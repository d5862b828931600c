"""Who is signed in, kept in the signed session cookie, and the flash messages shown once.

The cookie (Starlette's SessionMiddleware, see ``mount_web``) is signed, not encrypted: it holds
only the principal's id, login, name, roles and departments, never a password or case data.
A sign-in lasts at most :data:`SIGN_IN_SECONDS`, however active the session is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, Request

from mailroom.auth.principal import Principal, Role
from mailroom.web.csrf import new_csrf_token
from mailroom.web.exceptions import SignInRequiredError, WebError

PRINCIPAL_KEY = "principal"
FLASH_KEY = "flash"
SIGN_IN_SECONDS = 10 * 3600
FlashKind = Literal["success", "info", "warning", "error"]
FLASH_KINDS: frozenset[str] = frozenset({"success", "info", "warning", "error"})


@dataclass(frozen=True)
class Flash:
    kind: str  # success | info | warning | error (CSS class flash--KIND)
    text: str


def _session(request: Request) -> dict[str, Any] | None:
    """The session, or None where the middleware did not run (e.g. the 500 handler)."""
    if "session" not in request.scope:
        return None
    return request.session


def principal_to_dict(principal: Principal, signed_in_at: float) -> dict[str, Any]:
    return {
        "id": principal.id,
        "login": principal.login,
        "name": principal.name,
        "roles": sorted(str(r) for r in principal.roles),
        "departments": sorted(principal.departments),
        "since": int(signed_in_at),
    }


def principal_from_dict(data: object) -> Principal | None:
    """The principal a session dict describes; None for anything malformed."""
    if not isinstance(data, dict):
        return None
    try:
        known = {role.value for role in Role}
        roles = frozenset(Role(r) for r in data["roles"] if r in known)
        departments = frozenset(str(d) for d in data["departments"])
        return Principal(
            id=str(data["id"]),
            login=str(data["login"]),
            name=str(data["name"]),
            roles=roles,
            departments=departments,
        )
    except (KeyError, TypeError):
        return None


def current_principal(request: Request) -> Principal | None:
    """The signed-in principal, or None (not signed in, or the sign-in is too old)."""
    session = _session(request)
    if session is None:
        return None
    data = session.get(PRINCIPAL_KEY)
    if data is None:
        return None
    since = data.get("since") if isinstance(data, dict) else None
    now = time.time()
    if not isinstance(since, int) or not since - 60 <= now or now - since > SIGN_IN_SECONDS:
        # Expired: forget who it was, keep the CSRF token (so "Abmelden" still works).
        session.pop(PRINCIPAL_KEY, None)
        return None
    return principal_from_dict(data)


def sign_in(request: Request, principal: Principal) -> None:
    """Start a new session for ``principal``: nothing of the old one survives (no session
    fixation), and a new CSRF token replaces the one of the sign-in form."""
    request.session.clear()
    request.session[PRINCIPAL_KEY] = principal_to_dict(principal, time.time())
    new_csrf_token(request)


def sign_out(request: Request) -> None:
    request.session.clear()


def flash(request: Request, kind: FlashKind, text: str) -> None:
    """Show ``text`` once, on the next page rendered with base.html (after a redirect)."""
    if kind not in FLASH_KINDS:
        raise ValueError(f"unknown flash kind {kind!r}")
    messages = list(request.session.get(FLASH_KEY, []))
    messages.append([kind, text])
    request.session[FLASH_KEY] = messages[-5:]


def take_flashes(request: Request) -> list[Flash]:
    """The pending flash messages, removed from the session (called by base.html)."""
    session = _session(request)
    if session is None:
        return []
    messages = session.pop(FLASH_KEY, [])
    return [Flash(str(k), str(t)) for k, t in messages if k in FLASH_KINDS]


def next_path(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a form post (or an htmx
    request) the page it was sent from."""
    if request.method in ("GET", "HEAD") and request.headers.get("HX-Request") != "true":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    origin = request.headers.get("HX-Current-URL") or request.headers.get("Referer") or ""
    base = str(request.base_url).rstrip("/")
    return origin.removeprefix(base) if origin.startswith(base + "/") else ""


def require_principal(request: Request) -> Principal:
    """FastAPI dependency for pages: the principal, or a redirect to the sign-in page
    (303 to ``/anmelden?weiter=…``; for htmx requests an ``HX-Redirect``)."""
    principal = current_principal(request)
    if principal is None:
        raise SignInRequiredError(next_path(request))
    return principal


def require_role(*roles: Role) -> Callable[..., Principal]:
    """FastAPI dependency: signed in with one of ``roles``, else 403 "Kein Zugriff"."""

    def dependency(principal: Principal = Depends(require_principal)) -> Principal:
        if not any(principal.has(role) for role in roles):
            raise WebError(403)
        return principal

    return dependency
