"""German HTML error pages for the web pages; the JSON API keeps its problem+json answers.

:func:`install_web_error_handlers` runs after ``mailroom.api.errors.install_error_handlers``:
it wraps each handler already registered so that a request for a page (see :func:`is_web_path`)
gets the same status as an HTML page, and adds handlers for :class:`WebError`,
:class:`SignInRequiredError`, :class:`CsrfError` and the services' errors. For htmx requests
the answer is a short message swapped into the flash region (``#meldungen``), not a page.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.responses import HTMLResponse, Response

from mailroom.api.problems import problem
from mailroom.services import ForbiddenError, NotFoundError, ServiceError, StaleError
from mailroom.web.exceptions import CsrfError, SignInRequiredError, WebError
from mailroom.web.templating import render

log = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

NOT_WEB_PREFIXES = ("/api/", "/static/")
NOT_WEB_PATHS = frozenset(
    {"/api", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json"}
)
SIGN_IN_PATH = "/anmelden"
CITIZEN_PREFIXES = ("/status", "/buergerkonto")  # pages for citizens (mailroom.web.routes_citizen*)
CSRF_MESSAGE = (
    "Das Formular ist abgelaufen oder ungültig. "
    "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
)
TEXTS: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Die Anfrage konnte nicht verarbeitet werden."),
    403: ("Kein Zugriff", "Sie haben keine Berechtigung für diese Seite oder Aktion."),
    404: (
        "Nicht gefunden",
        "Die Seite oder der Vorgang existiert nicht oder ist für Sie nicht sichtbar.",
    ),
    405: ("Nicht möglich", "Diese Aktion ist an dieser Stelle nicht möglich."),
    409: (
        "Inzwischen geändert",
        "Jemand anderes hat dies inzwischen bearbeitet. Bitte laden Sie die Seite neu "
        "und prüfen Sie den aktuellen Stand, bevor Sie es noch einmal versuchen.",
    ),
    413: ("Zu groß", "Die gesendeten Daten sind zu groß."),
    422: ("Eingaben unvollständig", "Bitte prüfen Sie Ihre Eingaben."),
    429: ("Zu viele Versuche", "Bitte warten Sie einen Moment und versuchen Sie es dann erneut."),
    500: (
        "Ein Fehler ist aufgetreten",
        "Die Anfrage konnte nicht bearbeitet werden. Der Fehler wurde protokolliert. "
        "Bitte versuchen Sie es später noch einmal.",
    ),
    503: (
        "Vorübergehend nicht erreichbar",
        "Ein Teil des Systems ist gerade nicht erreichbar. Es wurde nichts gespeichert. "
        "Bitte versuchen Sie es in einigen Minuten noch einmal.",
    ),
    507: (
        "Speicher voll",
        "Der Speicher ist voll. Es wurde nichts gespeichert. Bitte informieren Sie den IT-Betrieb.",
    ),
}
_KEPT_HEADERS = ("retry-after", "allow")
_FALLBACK_PAGE = (
    '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><main><h1>{title}</h1><p>{message}</p></main></body></html>"
)


def is_web_path(path: str) -> bool:
    """Pages (and unknown paths) are web; the API, operations endpoints and /static are not."""
    return path not in NOT_WEB_PATHS and not path.startswith(NOT_WEB_PREFIXES)


def _is_web_request(request: Request) -> bool:
    """A page's request, or a browser's for an unknown path; other clients of an unknown
    path (scripts, API clients) get the API's JSON answer."""
    if request.scope.get("type") != "http" or not is_web_path(request.url.path):
        return False
    matched = request.scope.get("endpoint") is not None
    return matched or "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request,
    status: int,
    title: str | None = None,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The German page (htmx: the flash-region message) for ``status``."""
    default_title, default_message = TEXTS.get(status, TEXTS[500 if status >= 500 else 400])
    title, message = title or default_title, message or default_message
    all_headers = dict(headers or {})
    is_htmx = request.headers.get("HX-Request") == "true"
    if is_htmx:
        all_headers |= {"HX-Retarget": "#meldungen", "HX-Reswap": "innerHTML"}
    template = "error_fragment.html" if is_htmx else "error.html"
    if not is_htmx and request.url.path.startswith(CITIZEN_PREFIXES):
        template = "buerger/fehler.html"  # the citizen frame, never the staff one
    context = {"status": status, "title": title, "message": message}
    try:
        return render(request, template, context, status_code=status, headers=all_headers)
    except Exception:  # the error page must not fail in turn (e.g. the database is down)
        log.exception("rendering the %s page failed", status)
        page = _FALLBACK_PAGE.format(title=title, message=message)
        return HTMLResponse(page, status_code=status, headers=all_headers)


def _web_version(original: Handler) -> Handler:
    """``original`` for API paths; for pages the German page with its status code."""

    async def handler(request: Request, exc: Exception) -> Response:
        response = original(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if not _is_web_request(request) or response.status_code < 400:
            return response
        kept = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        return error_page(request, response.status_code, headers=kept)

    return handler


def _service_error_status(exc: ServiceError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ForbiddenError):
        return 403
    if isinstance(exc, StaleError):
        return 409
    return 422


async def _service_error_json(request: Request, exc: ServiceError) -> Response:
    return problem(request.url.path, _service_error_status(exc), exc.code, str(exc))


def install_web_error_handlers(app: FastAPI) -> None:
    for key, original in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _web_version(original)
    if ServiceError not in app.exception_handlers:
        app.add_exception_handler(ServiceError, _web_version(_service_error_json))

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        return error_page(request, exc.status, exc.title, exc.message)

    @app.exception_handler(CsrfError)
    async def csrf_error(request: Request, _: CsrfError) -> Response:
        return error_page(request, 403, "Formular abgelaufen", CSRF_MESSAGE)

    @app.exception_handler(SignInRequiredError)
    async def sign_in_required(request: Request, exc: SignInRequiredError) -> Response:
        target = SIGN_IN_PATH
        if exc.next_path:
            target += "?weiter=" + quote(exc.next_path, safe="/")
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
