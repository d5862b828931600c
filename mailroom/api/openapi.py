"""The OpenAPI document: FastAPI's, completed with what the routes cannot say themselves.

* every operation's error answers are ``application/problem+json`` (RFC 9457) with the
  ``Problem`` / ``ValidationProblem`` schema and an example, ``Retry-After`` on 429/503/507;
* the multipart ``metadata`` part is ``application/json`` with the ``SubmissionMetadata``
  schema (not a bare string);
* the ``bearerAuth`` security scheme on the portal and scanning-station endpoints.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from mailroom.api.problems import PROBLEM_MEDIA_TYPE, RETRY_STATUSES, problem_body
from mailroom.api.schemas import ProblemOut, SubmissionMetadata, ValidationProblemOut

BEARER = "bearerAuth"
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": (
        "A portal client's API key (POST /api/v1/submissions) or a scanning station's "
        "token (POST /api/v1/scans), issued with `mailroom portal-client` / `mailroom station`."
    ),
}
BEARER_PATHS = frozenset({"/api/v1/submissions", "/api/v1/scans"})
COMMON_ERRORS = (500, 503)  # any API operation: a bug, or a store unreachable
DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing or invalid credentials",
    404: "Not found",
    405: "Method not allowed",
    408: "The request body did not arrive in time",
    409: "Idempotency-Key reused with different content",
    413: "Too large",
    415: "Unsupported file type",
    422: "Validation failed",
    429: "Too many attempts; retry after Retry-After seconds",
    500: "Internal error",
    503: "A store is unreachable; nothing was stored, retry after Retry-After seconds",
    507: "A store is full; nothing was stored, retry after Retry-After seconds",
}
_EXAMPLES: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: ("malformed_request", "the multipart body is malformed", {}),
    401: ("not_authenticated", "a valid API key is required (Authorization: Bearer)", {}),
    404: ("not_found", "no request with this reference and access code", {}),
    405: ("method_not_allowed", "DELETE is not allowed on this path", {}),
    408: ("request_timeout", "the request body did not arrive in time", {}),
    409: ("idempotency_conflict", "Idempotency-Key was used for different content", {}),
    413: ("file_too_large", "seite.png is larger than the limit of 50 MB", {}),
    415: ("zip_archive", "antrag.pdf: file is a ZIP archive, not a PDF", {}),
    422: (
        "invalid_request",
        "metadata.applicant.email: String should match pattern",
        {"details": [{"field": "metadata.applicant.email", "problem": "String should match"}]},
    ),
    429: ("too_many_attempts", "too many wrong access codes; try again later", {}),
    500: ("internal_error", "the request could not be processed", {}),
    503: (
        "service_unavailable",
        "the event store is not reachable; nothing was stored, try again later",
        {"dependency": "event_store"},
    ),
    507: (
        "storage_full",
        "the document store is full; nothing was stored, try again later",
        {"dependency": "blob_store"},
    ),
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying",
    "schema": {"type": "integer", "minimum": 1},
}


def problem_example(status: int, path: str) -> dict[str, Any]:
    code, detail, extra = _EXAMPLES.get(status, ("http_error", "the request failed", {}))
    return problem_body(status, code, detail, re.sub(r"\{[^}]+\}", "example", path), **extra)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (ProblemOut, ValidationProblemOut, SubmissionMetadata):
        _add_schema(schemas, model)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    bearer_names = _bearer_schemes(components)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            _complete_operation(path, operation, bearer_names)
    return document


def _add_schema(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[str(schema.get("title", model.__name__))] = schema


def _bearer_schemes(components: dict[str, Any]) -> set[str]:
    """Bearer schemes FastAPI generated (e.g. ``HTTPBearer``) are all ``bearerAuth``."""
    schemes = components.setdefault("securitySchemes", {})
    names = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }
    for name in names:
        schemes.pop(name)
    schemes[BEARER] = BEARER_SCHEME
    return names


# Operations whose error answers are their own documented body, not a problem: /readyz
# answers 503 with the readiness report (probes read the status, operators the body).
OWN_ERROR_BODIES = frozenset({"/readyz"})


def _complete_operation(path: str, operation: dict[str, Any], bearer_names: set[str]) -> None:
    security = [
        {BEARER if name in bearer_names else name: scopes for name, scopes in entry.items()}
        for entry in operation.get("security", [])
    ]
    if path in BEARER_PATHS and not any(BEARER in entry for entry in security):
        security.append({BEARER: []})
    if security:
        operation["security"] = security
        # The scheme describes the Authorization header; OpenAPI ignores it as a parameter.
        parameters = operation.get("parameters", [])
        operation["parameters"] = [
            p
            for p in parameters
            if not (p["in"] == "header" and p["name"].lower() == "authorization")
        ]
    responses = operation.setdefault("responses", {})
    if path in BEARER_PATHS:
        responses.setdefault("401", {})
    if path.startswith("/api/"):  # not /healthz, /readyz, /metrics: they answer their own way
        for status in COMMON_ERRORS:
            responses.setdefault(str(status), {})
    for key, response in responses.items():
        if key.isdigit() and int(key) >= 400 and path not in OWN_ERROR_BODIES:
            _problem_response(int(key), path, response)
    _metadata_part(operation)


def _problem_response(status: int, path: str, response: dict[str, Any]) -> None:
    schema = "ValidationProblem" if status == 422 else "Problem"
    response["description"] = DESCRIPTIONS.get(status, response.get("description", "Error"))
    response["content"] = {
        PROBLEM_MEDIA_TYPE: {
            "schema": {"$ref": f"#/components/schemas/{schema}"},
            "example": problem_example(status, path),
        }
    }
    if status in RETRY_STATUSES:
        response.setdefault("headers", {})["Retry-After"] = RETRY_AFTER_HEADER
    if status == 401:
        response.setdefault("headers", {})["WWW-Authenticate"] = {"schema": {"type": "string"}}


def _metadata_part(operation: dict[str, Any]) -> None:
    """The ``metadata`` form field is a JSON document with its own schema."""
    content = operation.get("requestBody", {}).get("content", {})
    form = content.get("multipart/form-data")
    if not form:
        return
    properties = form.get("schema", {}).get("properties", {})
    if "metadata" not in properties:
        return
    properties["metadata"] = {
        "$ref": "#/components/schemas/SubmissionMetadata",
        "description": "JSON (sent as a form field, Content-Type application/json)",
    }
    encoding = form.setdefault("encoding", {})
    encoding["metadata"] = {"contentType": "application/json"}
    encoding.setdefault(
        "files", {"contentType": "application/pdf, image/png, image/jpeg, image/tiff"}
    )
