"""Uploads from scanning stations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, UploadFile

from mailroom.api.deps import MailroomDep, StationDep
from mailroom.api.routes.submissions import read_uploads
from mailroom.api.schemas import ErrorOut, ScanReceipt

router = APIRouter(tags=["intake"])


@router.post(
    "/scans",
    status_code=202,
    response_model=ScanReceipt,
    responses={
        401: {"model": ErrorOut},
        409: {"model": ErrorOut},
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)
def upload_scan(
    mailroom: MailroomDep,
    station: StationDep,
    files: Annotated[list[UploadFile], File(description="the pages of ONE letter")],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> ScanReceipt:
    """Accept one scanned letter (one or more files); durable before 202 is returned."""
    receipt = mailroom.intake.scan(station, read_uploads(files), idempotency_key)
    return ScanReceipt(reference=receipt.reference)
