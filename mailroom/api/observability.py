"""Request ids and HTTP latency for every request (the outermost middleware).

A request keeps the ``X-Request-ID`` a proxy or client sent when it looks like an id (up
to 128 letters, digits and ``-_.:``); anything else is replaced by a fresh one, so a log
line can never be forged through the header. The id is in the log context while the
request is handled (every line logged for it, uvicorn's access line included, carries it)
and is echoed in the response's ``X-Request-ID``. The latency histogram is labelled with
the route *template* (``/api/v1/status/{reference}``), never the raw path, so references
do not end up in Prometheus and the label set stays small.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailroom.logs import bind, unbind
from mailroom.metrics import HTTP_LATENCY

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mailroom.bootstrap import Mailroom

HEADER = "x-request-id"
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
UNMATCHED = "unmatched"


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == HEADER.encode():
            candidate = value.decode("latin-1").strip()
            if _SANE.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope, root_path: str = "") -> str:
    """The matched route's path template (a mount: its prefix and ``{path}``), or
    ``unmatched`` (a 404 must not put arbitrary paths into a label). ``root_path`` is the
    scope's root path before routing: a mount (static files) extends it."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        mounted = str(scope.get("root_path", ""))
        if mounted != root_path and mounted.startswith(root_path):
            return mounted[len(root_path) :].rstrip("/") + "/{path}"
        return UNMATCHED
    if getattr(route, "endpoint", None) is None:  # a Mount (static files and the like)
        return template.rstrip("/") + "/{path}"
    return _with_router_prefix(template, scope.get("path", ""))


def _with_router_prefix(template: str, path: str) -> str:
    """Routes of an included router know their path without the router's prefix
    (``/submissions`` under ``/api/v1``): the prefix is what the request path has in front
    of the template's segments (prefixes are literal; a ``{x:path}`` template is kept)."""
    if ":path}" in template:
        return template
    wanted = template.strip("/").split("/") if template.strip("/") else []
    parts = path.strip("/").split("/") if path.strip("/") else []
    if len(parts) <= len(wanted):
        return template
    prefix = "/" + "/".join(parts[: len(parts) - len(wanted)])
    return prefix + ("" if template == "/" else template)


class RequestObservability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(list(scope.get("headers", [])))
        root_path = str(scope.get("root_path", ""))
        started = time.perf_counter()
        status = 500  # when the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        token = bind(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            unbind(token)
            HTTP_LATENCY.labels(
                scope.get("method", ""), route_template(scope, root_path), str(status)
            ).observe(time.perf_counter() - started)


def install_observability(app: FastAPI, mailroom: Mailroom) -> None:
    """Add the middleware (call it after every other ``add_middleware``: outermost) and the
    lag meter ``/metrics`` reads."""
    from mailroom.lag import LagMeter

    app.add_middleware(RequestObservability)
    app.state.lag_meter = LagMeter(mailroom)
