"""The clerks' web pages: server-rendered German HTML with htmx, beside the JSON API.

``mount_web(app, mailroom)`` adds everything the pages need to an app built by
``mailroom.api.app.create_app``: /static, the session cookie, page security headers, German
error pages and the page routers (each with the CSRF check). Add a page router to
:data:`ROUTERS`; a test can add its own with :func:`include_web_router`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from mailroom.web import (
    routes_cases,
    routes_citizen,
    routes_citizen_account,
    routes_documents,
    routes_letters,
    routes_oidc,
    routes_print,
    routes_queues,
    routes_search,
    routes_signin,
    routes_statistics,
    routes_triage,
)
from mailroom.web.csrf import csrf_protect
from mailroom.web.errors import install_web_error_handlers
from mailroom.web.headers import PageHeaders, PageSessions
from mailroom.web.session import SIGN_IN_SECONDS
from mailroom.web.templating import STATIC_DIR

SESSION_COOKIE = "mailroom_session"
_SESSION_KEY_LABEL = b"mailroom.web.session-cookie.v1"

ROUTERS: list[APIRouter] = [routes_signin.router, routes_oidc.router]
ROUTERS += [routes_queues.router, routes_search.router, routes_statistics.router]
ROUTERS += [routes_triage.router, routes_cases.router, routes_documents.router]
ROUTERS += [routes_letters.router, routes_print.router]
ROUTERS += [routes_citizen.router, routes_citizen_account.router]  # citizens (status, Bürgerkonto)


def session_key(secret: bytes) -> str:
    """The cookie signing key: derived from the server secret, so it differs from every
    other key taken from that secret."""
    return hmac.new(secret, _SESSION_KEY_LABEL, hashlib.sha256).hexdigest()


def include_web_router(app: FastAPI, router: APIRouter) -> None:
    """Include a page router: its POST/PUT/PATCH/DELETE routes require the CSRF token, and
    it stays out of the API's OpenAPI document."""
    app.include_router(router, dependencies=[Depends(csrf_protect)], include_in_schema=False)


def mount_web(app: FastAPI, mailroom: Any) -> None:
    """Call once, after the API's error handlers are installed (it wraps them)."""
    settings = mailroom.settings
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PageHeaders)
    app.add_middleware(
        PageSessions,
        secret_key=session_key(settings.secret()),
        old_secret_keys=[session_key(old) for old in settings.old_secrets()],  # newest first
        session_cookie=SESSION_COOKIE,
        max_age=SIGN_IN_SECONDS,
        https_only=settings.environment == "production",
    )
    install_web_error_handlers(app)
    for router in ROUTERS:
        include_web_router(app, router)
