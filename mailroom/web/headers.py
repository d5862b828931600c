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

from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
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
    and /static have no session, and skip reading and re-signing the cookie."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
