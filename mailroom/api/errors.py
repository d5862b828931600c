"""Domain errors -> HTTP status codes, in one place, with a JSON body naming the problem."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mailroom.api.deps import NotAuthenticatedError
from mailroom.intake.inspection import (
    FileTooLargeError,
    RejectedFileError,
    UnsupportedFileTypeError,
)
from mailroom.intake.service import IdempotencyConflictError, IntakeError
from mailroom.status import StatusNotFoundError, TooManyAttemptsError
from routing.catalog import UnknownServiceError


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": code, "message": message, **extra}


def install_error_handlers(app: FastAPI) -> None:
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
