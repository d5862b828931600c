"""Portal submissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import URLPath

from mailroom.api.deps import IDEMPOTENCY_KEY_PARAMETER, idempotency_key_of, portal_client_of
from mailroom.api.multipart import received_form
from mailroom.api.schemas import ErrorOut, SubmissionMetadata, SubmissionReceipt
from mailroom.bootstrap import Mailroom

router = APIRouter(tags=["intake"])

METADATA_HELP = (
    'JSON: {"service_key", "applicant": {"name", "email"|"phone"|"address"}, "subject", '
    '"form_fields": {}, "citizen_account_id"}'
)


def multipart_body(*, metadata: bool) -> dict[str, Any]:
    """The OpenAPI description of a multipart body read by ``received_form``."""
    properties: dict[str, Any] = {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
    }
    required = []
    if metadata:
        properties["metadata"] = {"type": "string", "description": METADATA_HELP}
        required.append("metadata")
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 408, 409, 413, 415, 422, 503, 507)
}


@router.post(
    "/submissions",
    status_code=202,
    response_model=SubmissionReceipt,
    responses={401: {"model": ErrorOut}, **ERRORS},
    openapi_extra={**multipart_body(metadata=True), "parameters": [IDEMPOTENCY_KEY_PARAMETER]},
)
async def submit(request: Request) -> Response:
    """Accept a submission from the citizen portal: durable before 202 is returned.

    The portal authenticates with its client key (``Authorization: Bearer KEY``); an
    Idempotency-Key is scoped to the client that sends it."""
    # The mailroom, the client and the Idempotency-Key are read here, not as FastAPI
    # parameters and dependencies: solving those costs more per submission than reading
    # them (the header is documented above, the bearer scheme by api.openapi).
    mailroom: Mailroom = request.app.state.mailroom
    idempotency_key = idempotency_key_of(request)
    client = await portal_client_of(request)
    async with received_form(request, mailroom.spool, mailroom.receive_limits) as form:
        parsed = _metadata(form.fields.get("metadata"))
        receipt = await run_in_threadpool(
            lambda: mailroom.intake.submit(
                parsed.to_submission(), form.uploads, idempotency_key, client=client
            )
        )
    answer = SubmissionReceipt(
        reference=receipt.reference,
        access_code=receipt.access_code,
        status_url=status_url(request, receipt.reference),
    )
    # Sent as it is: FastAPI would validate and re-serialise the model it was built from.
    return Response(answer.model_dump_json(), status_code=202, media_type="application/json")


_REFERENCE = "__reference__"


def status_url(request: Request, reference: str) -> str:
    """The absolute URL of the reference's status (``request.url_for("get_status", …)``)."""
    urls: _StatusUrls | None = getattr(request.app.state, "status_urls", None)
    if urls is None:
        urls = request.app.state.status_urls = _StatusUrls(request.app.url_path_for)
    return urls.url(request, reference)


class _StatusUrls:
    """``url_for`` without its cost per submission: it walks every route of the app (raising
    and catching a miss for each) to find one name, and ``request.base_url`` parses the URL
    it builds each time. Here the path template is found once and the absolute prefix once
    per scheme, Host header and root path (a few: the Host header is the client's, so the
    cache is bounded)."""

    MAX_PREFIXES = 64

    def __init__(self, url_path_for: Callable[..., URLPath]) -> None:
        self.template = str(url_path_for("get_status", reference=_REFERENCE))
        self.prefixes: dict[tuple[object, ...], str] = {}

    def url(self, request: Request, reference: str) -> str:
        return self._prefix(request) + self.template.replace(_REFERENCE, quote(reference, safe=""))

    def _prefix(self, request: Request) -> str:
        scope = request.scope
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        server = scope.get("server")
        key = (
            scope.get("scheme"),
            host,
            tuple(server) if server else None,  # a list under some servers
            scope.get("app_root_path"),
            scope.get("root_path"),
        )
        prefix = self.prefixes.get(key)
        if prefix is None:
            if len(self.prefixes) >= self.MAX_PREFIXES:
                self.prefixes.clear()
            prefix = str(URLPath("/").make_absolute_url(request.base_url)).rstrip("/")
            self.prefixes[key] = prefix
        return prefix


def _metadata(raw: str | None) -> SubmissionMetadata:
    if raw is None:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("metadata",), "msg": "Field required", "input": None}]
        )
    try:
        return SubmissionMetadata.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("metadata", *e["loc"])} for e in exc.errors()]
        ) from exc
