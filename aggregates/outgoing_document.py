"""OutgoingDocument: a letter the city sends — drafted from a template and case data, approved
(by a second person where the template requires it), rendered to PDF, then delivered to the
citizen's Postfach or printed and posted.

    draft ─approve─> approved ─render─> rendered ─┬─> in_inbox ─┬─> read
      │                                            │             └─(unread N days)─┐
      └─discard─> discarded       └─(cannot render)─> failed
                                                   └─> print_queued <──────────────┘
                                                        └─> batched ─> printed ─> returned

Event methods never read a clock: commands name the moment (``at``) and the actor (``by``).
Stored event classes: never rename them; evolve with class_version and upcasters.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from aggregates import ids


class OutgoingDocumentError(ValueError):
    """A command does not fit the document's current state."""


class DocumentState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RENDERED = "rendered"
    IN_INBOX = "in_inbox"
    READ = "read"
    PRINT_QUEUED = "print_queued"
    BATCHED = "batched"
    PRINTED = "printed"
    RETURNED = "returned"
    DISCARDED = "discarded"
    FAILED = "failed"  # could not be rendered: nothing was sent


class PrintReason(StrEnum):
    """Why a letter goes by post."""

    NO_ACCOUNT = "no_account"  # the citizen has no Bürgerkonto linked
    NO_CONSENT = "no_consent"  # they have one but did not agree to digital delivery
    INBOX_UNREAD = "inbox_unread"  # delivered to the Postfach, not opened in time


class ReturnReason(StrEnum):
    """What the post says when a letter comes back (Unzustellbarkeitsgründe)."""

    ADDRESSEE_UNKNOWN = "addressee_unknown"
    MOVED = "moved"
    ADDRESS_INCOMPLETE = "address_incomplete"
    REFUSED = "refused"
    DECEASED = "deceased"
    OTHER = "other"


class OutgoingDocument(Aggregate):
    class Drafted(Aggregate.Created):
        key: str  # what the id is derived from: random for a clerk's draft, fixed for
        # letters the mailroom writes itself (an item's Eingangsbestätigung), so a repeated
        # event drafts the same letter, not a second one
        case_id: UUID
        case_reference: str
        template: str
        title: str
        data: dict[str, Any]
        recipient_name: str
        recipient_lines: list[str]
        citizen_account_id: str | None
        requires_second_approval: bool
        inbox_fallback_days: int | None
        by: str
        by_name: str
        at: datetime

    class Edited(Aggregate.Event):
        data: dict[str, Any]
        recipient_name: str
        recipient_lines: list[str]
        by: str
        at: datetime

    class Discarded(Aggregate.Event):
        by: str
        at: datetime

    class Approved(Aggregate.Event):
        by: str
        by_name: str
        at: datetime

    class Rendered(Aggregate.Event):
        blob_key: str
        sha256: str
        pages: int
        at: datetime

    class RenderingFailed(Aggregate.Event):
        detail: str  # for operators
        at: datetime

    class DeliveredToInbox(Aggregate.Event):
        citizen_account_id: str
        at: datetime

    class QueuedForPrint(Aggregate.Event):
        reason: str  # a PrintReason code
        at: datetime

    class Batched(Aggregate.Event):
        batch_id: UUID
        at: datetime

    class Printed(Aggregate.Event):
        batch_id: UUID
        by: str
        at: datetime

    class Read(Aggregate.Event):
        by: str  # "citizen:ACCOUNT"
        at: datetime

    class ReturnedUndeliverable(Aggregate.Event):
        reason: str  # a ReturnReason code
        note: str
        by: str
        at: datetime

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(ids.NAMESPACE, f"outgoing-document:{key}")

    @event(Drafted)
    def __init__(
        self,
        key: str,
        case_id: UUID,
        case_reference: str,
        template: str,
        title: str,
        data: dict[str, Any],
        recipient_name: str,
        recipient_lines: list[str],
        citizen_account_id: str | None,
        requires_second_approval: bool,
        inbox_fallback_days: int | None,
        by: str,
        by_name: str,
        at: datetime,
    ) -> None:
        self.case_id = case_id
        self.case_reference = case_reference
        self.template = template
        self.title = title
        self.data = data
        self.recipient_name = recipient_name
        self.recipient_lines = recipient_lines
        self.citizen_account_id = citizen_account_id
        self.requires_second_approval = requires_second_approval
        self.inbox_fallback_days = inbox_fallback_days
        self.drafted_by = by
        self.drafted_at = at
        self.state = DocumentState.DRAFT
        self.approved_by: str | None = None
        self.blob_key: str | None = None
        self.sha256: str | None = None
        self.pages = 0
        self.delivered_at: datetime | None = None
        self.delivered_to: str | None = None
        self.read_at: datetime | None = None
        self.batch_id: UUID | None = None
        self.print_reason: str | None = None

    # -- before it is sent ------------------------------------------------------------------

    def edit(
        self,
        data: dict[str, Any],
        recipient_name: str,
        recipient_lines: list[str],
        by: str,
        at: datetime,
    ) -> None:
        self._require(DocumentState.DRAFT, "edited")
        self._edited(
            data=data,
            recipient_name=recipient_name,
            recipient_lines=recipient_lines,
            by=by,
            at=at,
        )

    @event(Edited)
    def _edited(
        self,
        data: dict[str, Any],
        recipient_name: str,
        recipient_lines: list[str],
        by: str,
        at: datetime,
    ) -> None:
        self.data = data
        self.recipient_name = recipient_name
        self.recipient_lines = recipient_lines

    def discard(self, by: str, at: datetime) -> None:
        self._require(DocumentState.DRAFT, "discarded")
        self._discarded(by=by, at=at)

    @event(Discarded)
    def _discarded(self, by: str, at: datetime) -> None:
        self.state = DocumentState.DISCARDED

    def approve(self, by: str, by_name: str, at: datetime) -> None:
        """A template that requires it is approved by someone other than who drafted it
        (Vier-Augen-Prinzip)."""
        self._require(DocumentState.DRAFT, "approved")
        if self.requires_second_approval and by == self.drafted_by:
            raise OutgoingDocumentError(
                f"{self.template} needs a second person's approval, not the drafter's"
            )
        self._approved(by=by, by_name=by_name, at=at)

    @event(Approved)
    def _approved(self, by: str, by_name: str, at: datetime) -> None:
        self.state = DocumentState.APPROVED
        self.approved_by = by

    def record_rendering(self, blob_key: str, sha256: str, pages: int, at: datetime) -> None:
        self._require(DocumentState.APPROVED, "rendered")
        self._rendered(blob_key=blob_key, sha256=sha256, pages=pages, at=at)

    @event(Rendered)
    def _rendered(self, blob_key: str, sha256: str, pages: int, at: datetime) -> None:
        self.state = DocumentState.RENDERED
        self.blob_key = blob_key
        self.sha256 = sha256
        self.pages = pages

    def record_rendering_failure(self, detail: str, at: datetime) -> None:
        self._require(DocumentState.APPROVED, "marked as failed")
        self._rendering_failed(detail=detail[:1000], at=at)

    @event(RenderingFailed)
    def _rendering_failed(self, detail: str, at: datetime) -> None:
        self.state = DocumentState.FAILED

    # -- delivery ---------------------------------------------------------------------------

    def deliver_to_inbox(self, citizen_account_id: str, at: datetime) -> None:
        self._require(DocumentState.RENDERED, "delivered")
        self._delivered_to_inbox(citizen_account_id=citizen_account_id, at=at)

    @event(DeliveredToInbox)
    def _delivered_to_inbox(self, citizen_account_id: str, at: datetime) -> None:
        self.state = DocumentState.IN_INBOX
        self.delivered_at = at
        self.delivered_to = citizen_account_id

    def queue_for_print(self, reason: str, at: datetime) -> None:
        if reason not in {r.value for r in PrintReason}:
            raise OutgoingDocumentError(f"unknown print reason {reason!r}")
        if self.state not in (DocumentState.RENDERED, DocumentState.IN_INBOX):
            raise OutgoingDocumentError(f"a {self.state} document cannot be queued for print")
        self._queued_for_print(reason=reason, at=at)

    @event(QueuedForPrint)
    def _queued_for_print(self, reason: str, at: datetime) -> None:
        self.state = DocumentState.PRINT_QUEUED
        self.print_reason = reason

    def inbox_unread_since(self, now: datetime) -> float | None:
        """Days a Postfach document has waited unread (None: not waiting in the Postfach)."""
        if self.state is not DocumentState.IN_INBOX or self.delivered_at is None:
            return None
        return (now - self.delivered_at).total_seconds() / 86400

    def add_to_batch(self, batch_id: UUID, at: datetime) -> None:
        self._require(DocumentState.PRINT_QUEUED, "batched")
        self._batched(batch_id=batch_id, at=at)

    @event(Batched)
    def _batched(self, batch_id: UUID, at: datetime) -> None:
        self.state = DocumentState.BATCHED
        self.batch_id = batch_id

    def mark_printed(self, batch_id: UUID, by: str, at: datetime) -> None:
        self._require(DocumentState.BATCHED, "marked printed")
        if batch_id != self.batch_id:
            raise OutgoingDocumentError("the letter is in another print batch")
        self._printed(batch_id=batch_id, by=by, at=at)

    @event(Printed)
    def _printed(self, batch_id: UUID, by: str, at: datetime) -> None:
        self.state = DocumentState.PRINTED

    def record_read(self, by: str, at: datetime) -> bool:
        """The citizen opened it in their Postfach; only the first opening is an event."""
        if self.read_at is not None:
            return False
        if self.delivered_to is None:
            raise OutgoingDocumentError("the document was not delivered to a Postfach")
        self._read(by=by, at=at)
        return True

    @event(Read)
    def _read(self, by: str, at: datetime) -> None:
        self.read_at = at
        if self.state is DocumentState.IN_INBOX:
            self.state = DocumentState.READ

    def record_returned(self, reason: str, note: str, by: str, at: datetime) -> None:
        if reason not in {r.value for r in ReturnReason}:
            raise OutgoingDocumentError(f"unknown return reason {reason!r}")
        self._require(DocumentState.PRINTED, "returned as undeliverable")
        self._returned(reason=reason, note=note, by=by, at=at)

    @event(ReturnedUndeliverable)
    def _returned(self, reason: str, note: str, by: str, at: datetime) -> None:
        self.state = DocumentState.RETURNED

    def _require(self, state: DocumentState, verb: str) -> None:
        if self.state is not state:
            raise OutgoingDocumentError(f"a {self.state} document cannot be {verb}")
