"""Portal submissions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import URLPath

from mailroom.api.deps import MailroomDep, PortalClientDep
from mailroom.api.multipart import received_form
from mailroom.api.schemas import ErrorOut, SubmissionMetadata, SubmissionReceipt

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
    openapi_extra=multipart_body(metadata=True),
)
async def submit(
    request: Request,
    mailroom: MailroomDep,
    client: PortalClientDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response:
    """Accept a submission from the citizen portal: durable before 202 is returned.

    The portal authenticates with its client key (``Authorization: Bearer KEY``); an
    Idempotency-Key is scoped to the client that sends it."""
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
    """``request.url_for("get_status", …)`` without its cost per request: url_for walks
    every route of the app (raising and catching a miss for each) to find one name."""
    state = request.app.state
    template: str | None = getattr(state, "status_path_template", None)
    if template is None:
        template = state.status_path_template = request.app.url_path_for(
            "get_status", reference=_REFERENCE
        )
    path = URLPath(template.replace(_REFERENCE, quote(reference, safe="")))
    return str(path.make_absolute_url(request.base_url))


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
