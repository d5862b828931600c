"""Portal submissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from mailroom.api.deps import MailroomDep
from mailroom.api.schemas import ErrorOut, SubmissionMetadata, SubmissionReceipt
from mailroom.intake.service import Upload

router = APIRouter(tags=["intake"])

METADATA_HELP = (
    'JSON: {"service_key", "applicant": {"name", "email"|"phone"|"address"}, "subject", '
    '"form_fields": {}, "citizen_account_id"}'
)


@router.post(
    "/submissions",
    status_code=202,
    response_model=SubmissionReceipt,
    responses={
        409: {"model": ErrorOut},
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)
def submit(
    request: Request,
    mailroom: MailroomDep,
    metadata: Annotated[str, Form(description=METADATA_HELP)],
    files: Annotated[list[UploadFile] | None, File()] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> SubmissionReceipt:
    """Accept a submission from the citizen portal: durable before 202 is returned."""
    try:
        parsed = SubmissionMetadata.model_validate_json(metadata)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("metadata", *e["loc"])} for e in exc.errors()]
        ) from exc
    uploads = read_uploads(files or [])
    receipt = mailroom.intake.submit(parsed.to_submission(), uploads, idempotency_key)
    status_url = str(request.url_for("get_status", reference=receipt.reference))
    return SubmissionReceipt(
        reference=receipt.reference, access_code=receipt.access_code, status_url=status_url
    )


def read_uploads(files: list[UploadFile]) -> list[Upload]:
    return [Upload(filename=f.filename, data=f.file.read()) for f in files]
