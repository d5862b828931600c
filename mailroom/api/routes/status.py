"""The citizen's status check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from mailroom.api.deps import MailroomDep, client_key
from mailroom.api.schemas import DepartmentOut, ErrorOut, StatusOut, TimelineEntryOut
from mailroom.bootstrap import Mailroom
from projections.status import StatusRecord

router = APIRouter(tags=["status"])


@router.get(
    "/status/{reference}",
    response_model=StatusOut,
    responses={404: {"model": ErrorOut}, 429: {"model": ErrorOut}},
)
def get_status(
    reference: str,
    request: Request,
    mailroom: MailroomDep,
    access_code: Annotated[str, Header(alias="X-Access-Code", max_length=50)],
) -> StatusOut:
    """Status of a request: plain German, the department once known, and a timeline."""
    record = mailroom.status.lookup(reference, access_code, client_key(request))
    return to_status_out(record, mailroom)


def status_text(record: StatusRecord, department: str | None) -> str:
    if record.status == "routed" and department:
        return f"Weitergeleitet an: {department}"
    if record.status == "in_progress" and department:
        return f"In Bearbeitung bei: {department}"
    if record.status == "triage":
        return "In Prüfung durch die Poststelle"
    if record.status == "closed":
        return "Abgeschlossen"
    return "Eingegangen"


def to_status_out(record: StatusRecord, mailroom: Mailroom) -> StatusOut:
    department = None
    if record.department_id:
        department = DepartmentOut(
            id=record.department_id, name=mailroom.department_name(record.department_id)
        )
    return StatusOut(
        reference=record.reference,
        status=record.status,
        status_text=status_text(record, department.name if department else None),
        department=department,
        case_reference=record.case_reference,
        subject=record.subject,
        received_at=record.received_at,
        timeline=[TimelineEntryOut(at=e.at, status=e.status, text=e.text) for e in record.timeline],
    )
