"""Case (Vorgang): the unit of work a department handles; one or more mail items.

Lifecycle: opened (by the router, a clerk or a legacy import) → assigned/taken → (waiting for
the citizen ⇄ in progress) → closed with an outcome code → possibly reopened. Every command
names the acting staff member (``by``: the principal's id, ``by_name``: what colleagues saw at
the time) and the moment (``at``): event methods never read a clock.

Stored event classes: never rename them; evolve with class_version and upcasters.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids

LEGACY_ACTOR = "system:legacy"  # who v1 events (without an actor) are attributed to


class CaseError(ValueError):
    """A command does not fit the case's current state."""


class CaseClosedError(CaseError):
    pass


class CaseStatus(StrEnum):
    OPEN = "open"  # nobody has it yet
    IN_PROGRESS = "in_progress"  # a clerk works on it
    WAITING = "waiting"  # information requested from the citizen: the deadline pauses
    CLOSED = "closed"


class Outcome(StrEnum):
    GRANTED = "granted"
    REJECTED = "rejected"
    DONE = "done"
    WITHDRAWN = "withdrawn"
    HANDED_OVER = "handed_over"  # passed on to another authority
    DUPLICATE = "duplicate"


class ExtensionReason(StrEnum):
    COMPLEX = "complex"
    THIRD_PARTY = "third_party"  # waiting for another office's statement
    WORKLOAD = "workload"
    CITIZEN_REQUEST = "citizen_request"


MAX_EXTENSION_DAYS = 120


def _known(codes: type[StrEnum], value: str) -> None:
    if value not in {c.value for c in codes}:
        allowed = ", ".join(c.value for c in codes)
        raise CaseError(f"unknown {codes.__name__} {value!r} (known: {allowed})")


class Case(Aggregate):
    class Opened(Aggregate.Created):
        """v2 adds who opened it and the processing budget in working days (v1: unknown)."""

        class_version = 2
        reference: str
        department_id: str
        subject: str
        party: str
        address: str
        opened_at: datetime
        first_item_id: UUID | None
        service_key: str | None
        status: str
        opened_by: str
        processing_days: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["opened_by"] = LEGACY_ACTOR
            state["processing_days"] = None

    class Reassigned(Aggregate.Event):
        """Re-routed to another department (v2 adds the clerk's note)."""

        class_version = 2
        from_department_id: str
        department_id: str
        reassigned_by: str
        note: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["note"] = ""

    class ItemAttached(Aggregate.Event):
        item_id: UUID

    class Assigned(Aggregate.Event):
        assignee_id: str
        assignee_name: str
        by: str
        at: datetime

    class NoteAdded(Aggregate.Event):
        text: str
        by: str
        by_name: str
        at: datetime

    class InformationRequested(Aggregate.Event):
        request_id: str
        message: str
        due_on: date
        by: str
        at: datetime

    class InformationReceived(Aggregate.Event):
        request_id: str
        item_id: UUID | None
        by: str
        at: datetime

    class DeadlineExtended(Aggregate.Event):
        days: int
        reason: str  # an ExtensionReason code
        note: str
        by: str
        at: datetime

    class Closed(Aggregate.Event):
        """``outcome`` is an Outcome code (v1 stored free text); v2 adds who closed it."""

        class_version = 2
        closed_at: datetime
        outcome: str
        closed_by: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["closed_by"] = LEGACY_ACTOR

    class Reopened(Aggregate.Event):
        reason: str
        by: str
        at: datetime

    @staticmethod
    def create_id(reference: str, first_item_id: UUID | None) -> UUID:
        """Opened by an item: derived from it (never two cases for one item). Imported from
        a legacy system (no item): derived from the legacy reference."""
        if first_item_id is None:
            return ids.imported_case_id(reference)
        return ids.case_id_for_first_item(first_item_id)

    @classmethod
    def open(
        cls,
        *,
        reference: str,
        department_id: str,
        subject: str,
        party: str,
        opened_at: datetime,
        opened_by: str,
        first_item_id: UUID | None,
        address: str = "",
        service_key: str | None = None,
        processing_days: int | None = None,
        status: str = CaseStatus.OPEN,
    ) -> Case:
        """The one way to open a case: by the router, a clerk or a legacy import."""
        if processing_days is not None and processing_days < 0:
            raise CaseError("processing_days must not be negative")
        return cls(
            reference=reference,
            department_id=department_id,
            subject=subject,
            party=party,
            address=address,
            opened_at=opened_at,
            first_item_id=first_item_id,
            service_key=service_key,
            status=str(status),
            opened_by=opened_by,
            processing_days=processing_days,
        )

    @event(Opened)
    def __init__(
        self,
        reference: str,
        department_id: str,
        subject: str,
        party: str,
        opened_at: datetime,
        first_item_id: UUID | None,
        address: str,
        service_key: str | None,
        status: str,
        opened_by: str,
        processing_days: int | None,
    ) -> None:
        self.reference = reference
        self.department_id = department_id
        self.subject = subject
        self.party = party
        self.address = address
        self.opened_at = opened_at
        self.opened_by = opened_by
        self.service_key = service_key
        self.processing_days = processing_days
        self.first_item_id = first_item_id
        self.item_ids = [] if first_item_id is None else [first_item_id]
        self.status = CaseStatus.CLOSED if status == "closed" else CaseStatus.OPEN
        self.assignee_id: str | None = None
        self.open_request_id: str | None = None
        self.extension_days = 0
        self.outcome: str | None = None

    @property
    def closed(self) -> bool:
        return self.status is CaseStatus.CLOSED

    def _require_open(self) -> None:
        if self.closed:
            raise CaseClosedError(f"case {self.reference} is closed")

    # -- items ---------------------------------------------------------------------------

    def attach_item(self, item_id: UUID) -> None:
        self._require_open()
        if item_id in self.item_ids:
            return
        self._item_attached(item_id=item_id)

    @event(ItemAttached)
    def _item_attached(self, item_id: UUID) -> None:
        self.item_ids.append(item_id)

    # -- who works it ----------------------------------------------------------------------

    def assign(self, assignee_id: str, assignee_name: str, by: str, at: datetime) -> None:
        self._require_open()
        if assignee_id == self.assignee_id:
            raise CaseError(f"case {self.reference} is already assigned to {assignee_name}")
        self._assigned(assignee_id=assignee_id, assignee_name=assignee_name, by=by, at=at)

    @event(Assigned)
    def _assigned(self, assignee_id: str, assignee_name: str, by: str, at: datetime) -> None:
        self.assignee_id = assignee_id
        if self.status is CaseStatus.OPEN:
            self.status = CaseStatus.IN_PROGRESS

    def reassign(self, department_id: str, reassigned_by: str, note: str = "") -> None:
        """Re-route to another department; the case leaves its assignee's desk."""
        self._require_open()
        if department_id == self.department_id:
            raise CaseError(f"case {self.reference} is already with {department_id}")
        self._reassigned(
            from_department_id=self.department_id,
            department_id=department_id,
            reassigned_by=reassigned_by,
            note=note,
        )

    @event(Reassigned)
    def _reassigned(
        self, from_department_id: str, department_id: str, reassigned_by: str, note: str
    ) -> None:
        self.department_id = department_id
        self.assignee_id = None
        if self.status is CaseStatus.IN_PROGRESS:
            self.status = CaseStatus.OPEN

    def add_note(self, text: str, by: str, by_name: str, at: datetime) -> None:
        if not text.strip():
            raise CaseError("a note needs text")
        self._note_added(text=text, by=by, by_name=by_name, at=at)

    @event(NoteAdded)
    def _note_added(self, text: str, by: str, by_name: str, at: datetime) -> None:
        pass

    # -- the citizen -----------------------------------------------------------------------

    def request_information(
        self, request_id: str, message: str, due_on: date, by: str, at: datetime
    ) -> None:
        self._require_open()
        if self.status is CaseStatus.WAITING:
            raise CaseError(f"case {self.reference} already waits for an answer")
        if due_on <= at.date():
            raise CaseError("the answer must be due after today")
        if not message.strip():
            raise CaseError("an information request needs a message")
        self._information_requested(
            request_id=request_id, message=message, due_on=due_on, by=by, at=at
        )

    @event(InformationRequested)
    def _information_requested(
        self, request_id: str, message: str, due_on: date, by: str, at: datetime
    ) -> None:
        self.open_request_id = request_id
        self.status = CaseStatus.WAITING

    def receive_information(self, item_id: UUID | None, by: str, at: datetime) -> None:
        """A follow-up item (or the clerk, item None) answers the open request."""
        self._require_open()
        if self.open_request_id is None:
            raise CaseError(f"case {self.reference} has no open information request")
        self._information_received(request_id=self.open_request_id, item_id=item_id, by=by, at=at)

    @event(InformationReceived)
    def _information_received(
        self, request_id: str, item_id: UUID | None, by: str, at: datetime
    ) -> None:
        self.open_request_id = None
        self.status = CaseStatus.IN_PROGRESS if self.assignee_id else CaseStatus.OPEN

    # -- deadline and end ----------------------------------------------------------------

    def extend_deadline(self, days: int, reason: str, note: str, by: str, at: datetime) -> None:
        self._require_open()
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise CaseError(f"an extension is 1 to {MAX_EXTENSION_DAYS} working days")
        _known(ExtensionReason, reason)
        self._deadline_extended(days=days, reason=reason, note=note, by=by, at=at)

    @event(DeadlineExtended)
    def _deadline_extended(self, days: int, reason: str, note: str, by: str, at: datetime) -> None:
        self.extension_days += days

    def close(self, closed_at: datetime, outcome: str, closed_by: str) -> None:
        if self.closed:
            raise CaseClosedError(f"case {self.reference} is already closed")
        _known(Outcome, outcome)
        self._closed(closed_at=closed_at, outcome=outcome, closed_by=closed_by)

    @event(Closed)
    def _closed(self, closed_at: datetime, outcome: str, closed_by: str) -> None:
        self.status = CaseStatus.CLOSED
        self.outcome = outcome
        self.open_request_id = None

    def reopen(self, reason: str, by: str, at: datetime) -> None:
        if not self.closed:
            raise CaseError(f"case {self.reference} is not closed")
        if not reason.strip():
            raise CaseError("reopening needs a reason")
        self._reopened(reason=reason, by=by, at=at)

    @event(Reopened)
    def _reopened(self, reason: str, by: str, at: datetime) -> None:
        self.status = CaseStatus.IN_PROGRESS if self.assignee_id else CaseStatus.OPEN
        self.outcome = None
