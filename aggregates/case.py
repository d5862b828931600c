"""Case (Vorgang): the unit of work a department handles; one or more mail items."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids


class CaseError(Exception):
    pass


class CaseClosedError(CaseError):
    pass


class Case(Aggregate):
    class Opened(Aggregate.Created):
        reference: str
        department_id: str
        subject: str
        party: str
        address: str
        opened_at: datetime
        first_item_id: UUID | None
        service_key: str | None
        status: str

    class Reassigned(Aggregate.Event):
        from_department_id: str
        department_id: str
        reassigned_by: str

    class ItemAttached(Aggregate.Event):
        item_id: UUID

    class Closed(Aggregate.Event):
        closed_at: datetime
        outcome: str

    @staticmethod
    def create_id(reference: str, first_item_id: UUID | None) -> UUID:
        """Opened by an item: derived from it (never two cases for one item). Imported from
        a legacy system (no item): derived from the legacy reference."""
        if first_item_id is None:
            return ids.imported_case_id(reference)
        return ids.case_id_for_first_item(first_item_id)

    @event(Opened)
    def __init__(
        self,
        reference: str,
        department_id: str,
        subject: str,
        party: str,
        opened_at: datetime,
        first_item_id: UUID | None,
        address: str = "",
        service_key: str | None = None,
        status: str = "open",
    ) -> None:
        self.reference = reference
        self.department_id = department_id
        self.subject = subject
        self.party = party
        self.address = address
        self.opened_at = opened_at
        self.service_key = service_key
        self.first_item_id = first_item_id
        self.item_ids = [] if first_item_id is None else [first_item_id]
        self.closed = status == "closed"

    def attach_item(self, item_id: UUID) -> None:
        if self.closed:
            raise CaseClosedError(f"case {self.reference} is closed")
        if item_id in self.item_ids:
            return
        self._item_attached(item_id=item_id)

    @event(ItemAttached)
    def _item_attached(self, item_id: UUID) -> None:
        self.item_ids.append(item_id)

    def reassign(self, department_id: str, reassigned_by: str) -> None:
        if department_id != self.department_id:
            self._reassigned(
                from_department_id=self.department_id,
                department_id=department_id,
                reassigned_by=reassigned_by,
            )

    @event(Reassigned)
    def _reassigned(self, from_department_id: str, department_id: str, reassigned_by: str) -> None:
        self.department_id = department_id

    def close(self, closed_at: datetime, outcome: str) -> None:
        if self.closed:
            raise CaseClosedError(f"case {self.reference} is already closed")
        self._closed(closed_at=closed_at, outcome=outcome)

    @event(Closed)
    def _closed(self, closed_at: datetime, outcome: str) -> None:
        self.closed = True
