"""The city's services that the portal may submit, and the health check."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mailroom.api.deps import MailroomDep
from mailroom.api.schemas import DepartmentOut, ServiceOut

router = APIRouter()


@router.get("/api/v1/services", response_model=list[ServiceOut], tags=["catalog"])
def list_services(mailroom: MailroomDep) -> list[ServiceOut]:
    return [
        ServiceOut(
            key=s.key,
            name=s.name,
            department=DepartmentOut(
                id=s.department_id, name=mailroom.department_name(s.department_id)
            ),
        )
        for s in mailroom.catalog.services()
    ]


@router.get("/healthz", tags=["operations"])
def health(mailroom: MailroomDep) -> JSONResponse:
    try:
        head = mailroom.app.max_notification_id()
    except Exception as exc:  # any failure of the event store makes us unhealthy
        return JSONResponse({"status": "unavailable", "event_store": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "events": head})
