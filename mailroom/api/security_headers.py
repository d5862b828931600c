"""Security headers on every response: API, pages, errors, static files.

Pages get their own, looser policy first (``mailroom.web.headers``: scripts and style sheets
from this server, ``style="…"`` attributes); this middleware fills in what a response does
not set itself:

* ``Content-Security-Policy``: nothing may load or frame a JSON answer; the API docs pages
  (``/docs``, ``/redoc``) load scripts from this server only (their styles are injected
  by the bundles, hence ``'unsafe-inline'`` for styles there alone);
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer``;
* ``Strict-Transport-Security`` in production only (development runs on plain HTTP);
* ``Cache-Control: no-store`` on everything but ``/static`` assets: status answers,
  receipts with access codes, pages and documents carry personal data.

uvicorn's ``server`` header is switched off in ``mailroom.api.server.uvicorn_options``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
DOCS_PATHS = frozenset({"/docs", "/redoc"})
HSTS = "max-age=31536000; includeSubDomains"
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
CACHEABLE_PREFIXES = ("/static/",)


def security_headers(path: str, hsts: bool = False) -> dict[str, str]:
    """The headers a response to ``path`` gets unless it set them itself."""
    headers = dict(COMMON_HEADERS)
    headers["Content-Security-Policy"] = DOCS_CSP if path in DOCS_PATHS else API_CSP
    if not path.startswith(CACHEABLE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def add_security_headers(headers: MutableHeaders, path: str, hsts: bool = False) -> None:
    for name, value in security_headers(path, hsts).items():
        if name not in headers:
            headers[name] = value


class SecurityHeaders:
    """Pure ASGI middleware (streams untouched); a header a route set itself is kept."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), scope["path"], self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
