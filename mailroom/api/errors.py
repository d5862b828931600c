"""Domain errors -> HTTP status codes, in one place, with a JSON body naming the problem."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mailroom.api.deps import NotAuthenticatedError
from mailroom.api.multipart import (
    BodyTimeoutError,
    MalformedRequestError,
    RequestBodyTooLargeError,
)
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

RETRY_AFTER_S = 5
_DEPENDENCY_NAMES = {
    "event_store": "the event store",
    "views": "the views database",
    "blob_store": "the document store",
    "spool": "the upload spool",
    "disk": "the disk",
}


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": code, "message": message, **extra}


def outage_response(exc: BaseException) -> JSONResponse | None:
    """503 (unreachable) or 507 (full) with Retry-After for an outage, else None."""
    outage = outage_of(exc)
    if outage is None:
        return None
    what = _DEPENDENCY_NAMES.get(outage.dependency, outage.dependency)
    if outage.full:
        body = error_body("storage_full", f"{what} is full; nothing was stored, try again later")
        status = 507
    else:
        body = error_body(
            "service_unavailable", f"{what} is not reachable; nothing was stored, try again later"
        )
        status = 503
    body["dependency"] = outage.dependency
    return JSONResponse(body, status_code=status, headers={"Retry-After": str(RETRY_AFTER_S)})


def install_error_handlers(app: FastAPI) -> None:
    async def outage_or_internal(request: Request, exc: Exception) -> JSONResponse:
        response = outage_response(exc)
        if response is not None:
            log.warning("%s %s: %s", request.method, request.url.path, exc)
            return response
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "the request could not be processed"), status_code=500
        )

    # The error types behind outages get a handler of their own: Starlette re-raises what
    # only the catch-all (Exception) handled, after answering, which would log it twice.
    for error_class in (*OUTAGE_TYPES, Exception):
        app.add_exception_handler(error_class, outage_or_internal)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(MalformedRequestError)
    async def malformed(_: Request, exc: MalformedRequestError) -> JSONResponse:
        return JSONResponse(error_body("malformed_request", str(exc)), status_code=400)

    @app.exception_handler(RequestBodyTooLargeError)
    async def body_too_large(_: Request, exc: RequestBodyTooLargeError) -> JSONResponse:
        return JSONResponse(error_body("request_too_large", str(exc)), status_code=413)

    @app.exception_handler(BodyTimeoutError)
    async def body_timeout(_: Request, exc: BodyTimeoutError) -> JSONResponse:
        return JSONResponse(
            error_body("request_timeout", str(exc)),
            status_code=408,
            headers={"Connection": "close"},
        )

    @app.exception_handler(InvalidTextError)
    async def invalid_text(_: Request, exc: InvalidTextError) -> JSONResponse:
        field = f"metadata.{exc.field}"
        return JSONResponse(
            error_body("invalid_text", f"{field}: {exc.problem}", field=field), status_code=422
        )

    @app.exception_handler(RejectedFileError)
    async def rejected_file(_: Request, exc: RejectedFileError) -> JSONResponse:
        status = 422
        if isinstance(exc, FileTooLargeError):
            status = 413
        elif isinstance(exc, UnsupportedFileTypeError):
            status = 415
        return JSONResponse(error_body(exc.code, exc.message), status_code=status)

    @app.exception_handler(IdempotencyConflictError)
    async def idempotency_conflict(_: Request, exc: IdempotencyConflictError) -> JSONResponse:
        return JSONResponse(error_body("idempotency_conflict", str(exc)), status_code=409)

    @app.exception_handler(IntakeError)
    async def intake_error(_: Request, exc: IntakeError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", str(exc)), status_code=422)

    @app.exception_handler(UnknownServiceError)
    async def unknown_service(_: Request, exc: UnknownServiceError) -> JSONResponse:
        message = f"unknown service key {exc.args[0]!r}; see GET /api/v1/services"
        return JSONResponse(error_body("unknown_service", message), status_code=422)

    @app.exception_handler(NotAuthenticatedError)
    async def not_authenticated(_: Request, exc: NotAuthenticatedError) -> JSONResponse:
        return JSONResponse(
            error_body("not_authenticated", str(exc)),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(StatusNotFoundError)
    async def status_not_found(_: Request, exc: StatusNotFoundError) -> JSONResponse:
        message = "no request with this reference and access code"
        return JSONResponse(error_body("not_found", message), status_code=404)

    @app.exception_handler(TooManyAttemptsError)
    async def too_many_attempts(_: Request, exc: TooManyAttemptsError) -> JSONResponse:
        return JSONResponse(
            error_body("too_many_attempts", str(exc)),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_s)},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        return JSONResponse(
            error_body("invalid_request", summary, details=details), status_code=422
        )
