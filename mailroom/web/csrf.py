"""Cross-site request forgery protection: one random token per session.

Forms carry it as the hidden field ``csrf_token`` (``{{ csrf_field }}`` in templates); htmx
sends it as the header ``X-CSRF-Token`` (``hx-headers`` on ``<body>`` in base.html). Every web
router is included with :func:`csrf_protect` (see ``mailroom.web.include_web_router``), which
checks POST, PUT, PATCH and DELETE before the route runs, so a refused request changes nothing.

One POST is exempt: the citizen's status lookup (``POST /status``) changes nothing — it only
reads, by reference and access code sent in the body rather than the URL — so a forged one
gains an attacker nothing, and the city's portal or a plain HTML form elsewhere may post to it.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from fastapi import Request

from mailroom.web.exceptions import CsrfError

log = logging.getLogger(__name__)

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_POSTS = frozenset({"/status"})  # lookups sent by POST to keep secrets out of URLs
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = new_csrf_token(request)
    return token


def new_csrf_token(request: Request) -> str:
    """Replace the session's token (at sign-in: a token seen before it is worthless after)."""
    token = secrets.token_urlsafe(32)
    request.session[SESSION_KEY] = token
    return token


async def submitted_token(request: Request) -> str | None:
    """The token the request carries: the header, else the form field."""
    header = request.headers.get(HEADER)
    if header is not None:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(_FORM_TYPES):
        return None
    form = await request.form()  # Starlette caches it: the route's Form() fields reuse it
    value = form.get(FORM_FIELD)
    return value if isinstance(value, str) else None


async def verify_csrf(request: Request) -> None:
    """Raise :class:`CsrfError` unless the request carries the session's token."""
    expected = request.session.get(SESSION_KEY) if "session" in request.scope else None
    given = await submitted_token(request)
    if (
        not isinstance(expected, str)
        or not expected
        or given is None
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        log.warning("CSRF check failed: %s %s", request.method, request.url.path)
        raise CsrfError


async def csrf_protect(request: Request) -> None:
    """FastAPI dependency: state-changing requests must carry the token; others pass."""
    if request.method in STATE_CHANGING and not (
        request.method == "POST" and request.url.path in READ_ONLY_POSTS
    ):
        await verify_csrf(request)
