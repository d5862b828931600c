"""Use cases of clerks and administrators that change routing: re-route an item, import
labelled example letters, import the open cases of a legacy system."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from aggregates.case import Case
from aggregates.mail_item import MailItem
from aggregates.reference import InvalidReferenceError, Reference
from aggregates.routing_example import RoutingExample
from mailroom.application import MailroomApp
from routing import CaseRecord, Catalog, Example
from routing.catalog import UnknownDepartmentError


class CaseworkError(ValueError):
    """The command cannot be carried out; the message names the problem."""


class Casework:
    def __init__(self, app: MailroomApp, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.catalog = catalog
        self.clock = clock

    def reroute(self, reference: str, department_id: str, by: str, note: str = "") -> MailItem:
        """A clerk moves an item to another department; the router learns from it."""
        try:
            self.catalog.department(department_id)
        except UnknownDepartmentError:
            raise CaseworkError(f"unknown department {department_id!r}") from None
        item = self._item(reference)
        if item.department_id == department_id:
            raise CaseworkError(f"{item.reference} is already with {department_id}")
        item.reroute(department_id, rerouted_by=by, note=note)
        changed: list[Any] = [item]
        case = self.app.find_case(item.case_id) if item.case_id else None
        if case is None:
            case = Case(
                reference=item.reference,
                department_id=department_id,
                subject=item.submission.subject
                if item.submission
                else f"Schreiben {item.reference}",
                party=item.submission.applicant.name if item.submission else "",
                opened_at=self.clock(),
                first_item_id=item.id,
            )
            item.attach_to_case(case.id, case.reference)
            changed.append(case)
        elif case.first_item_id == item.id:
            case.reassign(department_id, reassigned_by=by)
            changed.append(case)
        self.app.save(*changed)
        return item

    def import_examples(self, examples: Iterable[Example], source_prefix: str) -> tuple[int, int]:
        """Record labelled letters as events; importing the same folder again adds nothing.
        Returns (imported, already known)."""
        imported = known = 0
        for example in examples:
            if example.department != "misdirected":
                try:
                    self.catalog.department(example.department)
                except UnknownDepartmentError:
                    raise CaseworkError(
                        f"example {example.id}: unknown department {example.department!r}"
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

    def import_cases(self, cases: Iterable[CaseRecord]) -> tuple[int, int]:
        """Open the cases of a legacy system so follow-up letters can be attached to them.
        Returns (imported, already known)."""
        imported = known = 0
        for record in cases:
            case = Case(
                reference=record.case_id,
                department_id=record.department_id,
                subject=record.subject,
                party=record.party,
                address=record.address,
                opened_at=self.clock(),
                first_item_id=None,
                service_key=record.service or None,
                status=record.status,
            )
            try:
                self.app.save(case)
                imported += 1
            except IntegrityError:
                known += 1
        return imported, known

    def _item(self, reference: str) -> MailItem:
        try:
            canonical = str(Reference.parse(reference, self.catalog.city.reference_prefix))
        except InvalidReferenceError as exc:
            raise CaseworkError(str(exc)) from None
        item = self.app.find_item_by_reference(canonical)
        if item is None:
            raise CaseworkError(f"no item with reference {canonical}")
        return item
