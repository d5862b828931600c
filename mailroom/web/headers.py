"""Security and caching headers on every page (not on the JSON API or /static).

The Content-Security-Policy allows scripts and style sheets from this server only: no inline
``<script>``, no ``hx-on`` / ``js:`` (htmx eval is off), no ``<style>`` elements — but
``style="…"`` attributes are allowed (the CSS bar chart sets ``--wert`` that way). Pages are
``no-store``: case data must not stay in the browser cache of a shared office PC.

The session cookie is a page matter too (``PageSessions``): here, beside the other
middleware that tells pages from the rest (``mailroom.web.session`` imports the templates,
which import it).
"""

from __future__ import annotations

from collections.abc import Sequence

import itsdangerous
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailroom.web.errors import is_web_path

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "object-src 'self'",
        "frame-ancestors 'self'",
        "form-action 'self'",
        "base-uri 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class PageHeaders:
    """Pure ASGI middleware (streams untouched); a header a route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PageSessions(SessionMiddleware):
    """Starlette's signed-cookie session, for pages only: the API, the operations endpoints
    and /static have no session, and skip reading and re-signing the cookie.

    ``old_secret_keys``: the signing keys of the previous server secrets. A cookie signed
    with one of them is still accepted (a rotation of MAILROOM_SECRET_KEY does not sign
    every clerk out mid-work) and comes back signed with the current key."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str,
        session_cookie: str,
        max_age: int,
        https_only: bool,
        old_secret_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(
            app,
            secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site="lax",
            https_only=https_only,
        )
        # itsdangerous verifies with every key of the list and signs with the last one.
        self.signer = itsdangerous.TimestampSigner([*reversed(old_secret_keys), secret_key])
        self._current = itsdangerous.TimestampSigner(secret_key) if old_secret_keys else None
        self._without_session = app
        if old_secret_keys:  # without a rotation there is nothing to renew
            self.app = _renewing(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):  # no page: no session
            await self._without_session(scope, receive, send)
            return
        if self._current is not None and self._signed_with_old_key(scope):
            scope[_RENEW] = True
        await super().__call__(scope, receive, send)

    def _signed_with_old_key(self, scope: Scope) -> bool:
        assert self._current is not None
        cookie = HTTPConnection(scope).cookies.get(self.session_cookie)
        return cookie is not None and not self._current.validate(cookie, max_age=self.max_age)


_RENEW = "mailroom.renew_session"


def _renewing(app: ASGIApp) -> ASGIApp:
    """Marks a session read with an old key as changed, so that the answer carries it signed
    with the current key (Starlette re-signs changed sessions only)."""

    async def renewing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.pop(_RENEW, False):
            scope["session"].modified = True
        await app(scope, receive, send)

    return renewing
