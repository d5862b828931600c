"""ReferenceIndex: maps a reference to its mail item; its id is derived from the reference,
so saving it together with the item makes references unique (a duplicate fails to save)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids


class ReferenceIndex(Aggregate):
    class Registered(Aggregate.Created):
        reference: str
        item_id: UUID

    @staticmethod
    def create_id(reference: str) -> UUID:
        return ids.reference_index_id(reference)

    @event(Registered)
    def __init__(self, reference: str, item_id: UUID) -> None:
        self.reference = reference
        self.item_id = item_id
