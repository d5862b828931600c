"""Uploads from scanning stations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from mailroom.api.deps import MailroomDep, StationDep
from mailroom.api.multipart import received_form
from mailroom.api.routes.submissions import ERRORS, multipart_body
from mailroom.api.schemas import ErrorOut, ScanReceipt

router = APIRouter(tags=["intake"])


@router.post(
    "/scans",
    status_code=202,
    response_model=ScanReceipt,
    responses={401: {"model": ErrorOut}, **ERRORS},
    openapi_extra=multipart_body(metadata=False),
)
async def upload_scan(
    request: Request,
    mailroom: MailroomDep,
    station: StationDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> ScanReceipt:
    """Accept one scanned letter (one or more files: the pages of ONE letter); durable
    before 202 is returned."""
    async with received_form(request, mailroom.spool, mailroom.receive_limits) as form:
        receipt = await run_in_threadpool(
            mailroom.intake.scan, station, form.uploads, idempotency_key
        )
    return ScanReceipt(reference=receipt.reference)
