"""The city's services that the portal may submit."""

from __future__ import annotations

from fastapi import APIRouter

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
