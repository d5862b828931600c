"""The event-sourced application: the system of record for mail items, cases and stations."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    ProcessRecorder,
    Tracking,
)

from aggregates import ids
from aggregates.case import Case
from aggregates.citizen_account import CitizenAccount
from aggregates.mail_item import MailItem
from aggregates.outgoing_document import OutgoingDocument
from aggregates.portal_client import PortalClient
from aggregates.print_batch import PrintBatch
from aggregates.reference_index import ReferenceIndex
from aggregates.staff import StaffMember
from aggregates.station import ScanningStation
from mailroom.adapters.transcodings import register_value_objects

TAggregate = TypeVar("TAggregate", bound=Aggregate)


class ConcurrentWriteError(IntegrityError):
    """Another writer changed one of the aggregates first; processing the event again
    (with fresh aggregates) resolves it."""


class MailroomApp(Application[UUID]):
    name = "Mailroom"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.save_listeners: list[Callable[[], None]] = []

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_objects(transcoder)

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder records consumers' tracking positions in the same
        # transaction as the events they produce.
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def _notify(self, recordings: Any) -> None:
        super()._notify(recordings)
        for listener in self.save_listeners:
            listener()

    # -- reads --------------------------------------------------------------------------

    def find_item(self, item_id: UUID) -> MailItem | None:
        return self._find(item_id, MailItem)

    def get_item(self, item_id: UUID) -> MailItem:
        item: Any = self.repository.get(item_id)
        assert isinstance(item, MailItem)
        return item

    def find_item_by_reference(self, reference: str) -> MailItem | None:
        index = self._find(ids.reference_index_id(reference), ReferenceIndex)
        return None if index is None else self.find_item(index.item_id)

    def find_station(self, station_id: UUID) -> ScanningStation | None:
        return self._find(station_id, ScanningStation)

    def find_portal_client(self, client_id: UUID) -> PortalClient | None:
        return self._find(client_id, PortalClient)

    def find_case(self, case_id: UUID) -> Case | None:
        return self._find(case_id, Case)

    def find_staff(self, staff_id: UUID) -> StaffMember | None:
        return self._find(staff_id, StaffMember)

    def find_staff_name(self, principal_id: str) -> str | None:
        """The name of a local staff member by principal id (``staff:LOGIN``), else None."""
        kind, _, login = principal_id.partition(":")
        member = self.find_staff(ids.staff_id(login)) if kind == "staff" else None
        return None if member is None else member.name

    def find_document(self, document_id: UUID) -> OutgoingDocument | None:
        return self._find(document_id, OutgoingDocument)

    def find_account(self, account_id: str) -> CitizenAccount | None:
        return self._find(CitizenAccount.create_id(account_id), CitizenAccount)

    def find_print_batch(self, batch_id: UUID) -> PrintBatch | None:
        return self._find(batch_id, PrintBatch)

    def _find(self, aggregate_id: UUID, cls: type[TAggregate]) -> TAggregate | None:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    # -- notification log ---------------------------------------------------------------

    def notifications_after(
        self, position: int, limit: int, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        return self.recorder.select_notifications(start=position + 1, limit=limit, topics=topics)

    def to_domain_event(self, notification: Notification) -> DomainEventProtocol[UUID]:
        return self.mapper.to_domain_event(notification)

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def iter_notifications(self, batch: int = 500) -> Iterator[Notification]:
        position = 0
        while notifications := self.notifications_after(position, batch):
            yield from notifications
            position = notifications[-1].id

    # -- consumers ----------------------------------------------------------------------

    def position(self, tracking_name: str) -> int:
        return self.process_recorder.max_tracking_id(tracking_name) or 0

    def save_processed(self, tracking: Tracking, *aggregates: Any) -> bool:
        """Record the aggregates' new events together with the consumer's position.

        Returns False when this position was recorded before (a redelivery): nothing is saved.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking)
        processing_event.collect_events(*aggregates)
        try:
            recordings = self._record(processing_event)
        except IntegrityError:
            if self.process_recorder.has_tracking_id(
                tracking.application_name, tracking.notification_id
            ):
                return False
            raise ConcurrentWriteError(
                f"{tracking.application_name} lost a race at {tracking.notification_id}"
            ) from None
        self._notify(recordings)
        return True
