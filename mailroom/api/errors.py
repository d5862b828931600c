"""Domain errors -> HTTP status codes, in one place, as RFC 9457 problem details.

Every API error (also an unknown route, 405 and 422) is ``application/problem+json``
(see ``mailroom.api.problems``); ``mailroom.web.errors`` turns the same errors into German
pages for the web pages.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException

from mailroom.api.deps import NotAuthenticatedError
from mailroom.api.multipart import (
    BodyTimeoutError,
    MalformedRequestError,
    RequestBodyTooLargeError,
)
from mailroom.api.problems import ProblemResponse, problem
from mailroom.api.security_headers import add_security_headers
from mailroom.intake.clean_text import InvalidTextError
from mailroom.intake.inspection import (
    FileTooLargeError,
    RejectedFileError,
    UnsupportedFileTypeError,
)
from mailroom.outages import OUTAGE_TYPES, outage_of
from mailroom.services.intake import IdempotencyConflictError, IntakeError
from mailroom.services.status import StatusNotFoundError, TooManyAttemptsError
from routing.catalog import UnknownServiceError

log = logging.getLogger(__name__)

_DEPENDENCY_NAMES = {
    "event_store": "the event store",
    "views": "the views database",
    "blob_store": "the document store",
    "spool": "the upload spool",
    "disk": "the disk",
}
_HTTP_CODES = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def outage_response(request: Request, exc: BaseException) -> ProblemResponse | None:
    """503 (unreachable) or 507 (full) with Retry-After for an outage, else None."""
    outage = outage_of(exc)
    if outage is None:
        return None
    what = _DEPENDENCY_NAMES.get(outage.dependency, outage.dependency)
    path = request.url.path
    if outage.full:
        detail = f"{what} is full; nothing was stored, try again later"
        return problem(path, 507, "storage_full", detail, dependency=outage.dependency)
    detail = f"{what} is not reachable; nothing was stored, try again later"
    return problem(path, 503, "service_unavailable", detail, dependency=outage.dependency)


def _http_detail(request: Request, exc: HTTPException) -> str:
    if exc.status_code == 404 and exc.detail == "Not Found":
        return f"nothing at {request.url.path}"
    if exc.status_code == 405 and exc.detail == "Method Not Allowed":
        return f"{request.method} is not allowed on {request.url.path}"
    return str(exc.detail)


def install_error_handlers(app: FastAPI) -> None:
    async def outage_or_internal(request: Request, exc: Exception) -> ProblemResponse:
        response = outage_response(request, exc)
        if response is not None:
            log.warning("%s %s: %s", request.method, request.url.path, exc)
            return response
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        response = problem(
            request.url.path, 500, "internal_error", "the request could not be processed"
        )
        # The catch-all answers outside every middleware: add the security headers here.
        settings = getattr(getattr(request.app.state, "mailroom", None), "settings", None)
        hsts = getattr(settings, "environment", "") == "production"
        add_security_headers(MutableHeaders(raw=response.raw_headers), request.url.path, hsts)
        return response

    # The error types behind outages get a handler of their own: Starlette re-raises what
    # only the catch-all (Exception) handled, after answering, which would log it twice.
    for error_class in (*OUTAGE_TYPES, Exception):
        app.add_exception_handler(error_class, outage_or_internal)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> ProblemResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = _http_detail(request, exc)
        return problem(request.url.path, exc.status_code, code, detail, headers=exc.headers)

    @app.exception_handler(MalformedRequestError)
    async def malformed(request: Request, exc: MalformedRequestError) -> ProblemResponse:
        return problem(request.url.path, 400, "malformed_request", str(exc))

    @app.exception_handler(RequestBodyTooLargeError)
    async def body_too_large(request: Request, exc: RequestBodyTooLargeError) -> ProblemResponse:
        return problem(request.url.path, 413, "request_too_large", str(exc))

    @app.exception_handler(BodyTimeoutError)
    async def body_timeout(request: Request, exc: BodyTimeoutError) -> ProblemResponse:
        headers = {"Connection": "close"}
        return problem(request.url.path, 408, "request_timeout", str(exc), headers=headers)

    @app.exception_handler(InvalidTextError)
    async def invalid_text(request: Request, exc: InvalidTextError) -> ProblemResponse:
        field = f"metadata.{exc.field}"
        detail = f"{field}: {exc.problem}"
        return problem(request.url.path, 422, "invalid_text", detail, field=field)

    @app.exception_handler(RejectedFileError)
    async def rejected_file(request: Request, exc: RejectedFileError) -> ProblemResponse:
        status = 422
        if isinstance(exc, FileTooLargeError):
            status = 413
        elif isinstance(exc, UnsupportedFileTypeError):
            status = 415
        return problem(request.url.path, status, exc.code, exc.message)

    @app.exception_handler(IdempotencyConflictError)
    async def idempotency_conflict(
        request: Request, exc: IdempotencyConflictError
    ) -> ProblemResponse:
        return problem(request.url.path, 409, "idempotency_conflict", str(exc))

    @app.exception_handler(IntakeError)
    async def intake_error(request: Request, exc: IntakeError) -> ProblemResponse:
        return problem(request.url.path, 422, "invalid_request", str(exc))

    @app.exception_handler(UnknownServiceError)
    async def unknown_service(request: Request, exc: UnknownServiceError) -> ProblemResponse:
        detail = f"unknown service key {exc.args[0]!r}; see GET /api/v1/services"
        return problem(request.url.path, 422, "unknown_service", detail)

    @app.exception_handler(NotAuthenticatedError)
    async def not_authenticated(request: Request, exc: NotAuthenticatedError) -> ProblemResponse:
        headers = {"WWW-Authenticate": "Bearer"}
        return problem(
            request.url.path, 401, "not_authenticated", str(exc), headers=headers, reason=exc.code
        )

    @app.exception_handler(StatusNotFoundError)
    async def status_not_found(request: Request, exc: StatusNotFoundError) -> ProblemResponse:
        detail = "no request with this reference and access code"
        return problem(request.url.path, 404, "not_found", detail)

    @app.exception_handler(TooManyAttemptsError)
    async def too_many_attempts(request: Request, exc: TooManyAttemptsError) -> ProblemResponse:
        headers = {"Retry-After": str(exc.retry_after_s)}
        return problem(request.url.path, 429, "too_many_attempts", str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> ProblemResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        return problem(request.url.path, 422, "invalid_request", summary, details=details)
