"""Administrators' imports: labelled example letters, and a legacy system's open cases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from eventsourcing.persistence import IntegrityError

from aggregates.case import Case, CaseStatus
from aggregates.routing_example import RoutingExample
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_manage_staff
from mailroom.auth.principal import Principal
from mailroom.services import ForbiddenError, ServiceError
from mailroom.services.placement import check_department
from routing import CaseRecord, Catalog, Example


class ImportService:
    def __init__(self, app: MailroomApp, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.catalog = catalog
        self.clock = clock

    def import_examples(
        self, actor: Principal, examples: Iterable[Example], source_prefix: str
    ) -> tuple[int, int]:
        """Record labelled letters as events; importing the same folder again adds nothing.
        Returns (imported, already known)."""
        _require_admin(actor)
        imported = known = 0
        for example in examples:
            if example.department != "misdirected":
                try:
                    check_department(self.catalog, example.department)
                except ServiceError:
                    raise ServiceError(
                        f"example {example.id}: unknown department {example.department!r}",
                        "unknown_department",
                    ) from None
            try:
                self.app.save(
                    RoutingExample(
                        source=f"{source_prefix}/{example.id}",
                        department_id=example.department,
                        text=example.text,
                    )
                )
                imported += 1
            except IntegrityError:
                known += 1
        return imported, known

    def import_cases(self, actor: Principal, cases: Iterable[CaseRecord]) -> tuple[int, int]:
        """Open the cases of a legacy system so follow-up letters can be attached to them.
        Returns (imported, already known)."""
        _require_admin(actor)
        imported = known = 0
        for record in cases:
            service_key = record.service or None
            case = Case.open(
                reference=record.case_id,
                department_id=record.department_id,
                subject=record.subject,
                party=record.party,
                address=record.address,
                opened_at=self.clock(),
                opened_by=actor.id,
                first_item_id=None,
                service_key=service_key,
                processing_days=self._processing_days(record.department_id, service_key),
                status=CaseStatus.CLOSED if record.status == "closed" else CaseStatus.OPEN,
            )
            try:
                self.app.save(case)
                imported += 1
            except IntegrityError:
                known += 1
        return imported, known

    def _processing_days(self, department_id: str, service_key: str | None) -> int | None:
        try:
            return self.catalog.processing_days(department_id, service_key)
        except KeyError:
            return None  # a department this catalog does not know (yet)


def _require_admin(actor: Principal) -> None:
    if not may_manage_staff(actor):
        raise ForbiddenError("only an administrator imports")
