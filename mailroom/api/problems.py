"""RFC 9457 problem details: the one body every API error has.

A problem is ``application/problem+json`` with the standard members ``type`` (a stable
relative URI, ``/problems/<code>``), ``title`` (the same for every problem of a type),
``status``, ``detail`` (this occurrence, in words) and ``instance`` (the request path), plus
the members clients had before: ``error`` (the code) and ``message`` (= ``detail``), and
extension members such as ``field``, ``details`` or ``dependency``. The codes and titles are
listed in :data:`TITLES` (and in docs/http-edges.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "/problems/"
RETRY_AFTER_S = 5
RETRY_STATUSES = frozenset({429, 503, 507})

TITLES: dict[str, str] = {
    "malformed_request": "The request is malformed",
    "not_authenticated": "Authentication is required",
    "forbidden": "Not allowed",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "request_timeout": "The request body did not arrive in time",
    "idempotency_conflict": "Idempotency-Key reused with different content",
    "request_too_large": "The request is too large",
    "file_too_large": "A file is too large",
    "unsupported_media_type": "Unsupported file type",
    "invalid_request": "The request is not valid",
    "invalid_text": "A text field is not valid",
    "unknown_service": "Unknown service key",
    "rejected_file": "A file was refused",
    "too_many_attempts": "Too many attempts",
    "internal_error": "Internal error",
    "service_unavailable": "A service the mailroom needs is unavailable",
    "storage_full": "Storage is full",
    "http_error": "HTTP error",
}


def problem_body(
    status: int, code: str, detail: str, instance: str, **extra: object
) -> dict[str, object]:
    title = TITLES.get(code) or HTTPStatus(status).phrase
    return {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "error": code,
        "message": detail,
        **extra,
    }


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(
    instance: str,
    status: int,
    code: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> ProblemResponse:
    """The problem response; 429/503/507 always carry ``Retry-After``."""
    all_headers = dict(headers or {})
    if status in RETRY_STATUSES and not any(k.lower() == "retry-after" for k in all_headers):
        all_headers["Retry-After"] = str(RETRY_AFTER_S)
    body = problem_body(status, code, detail, instance, **extra)
    return ProblemResponse(body, status_code=status, headers=all_headers)
