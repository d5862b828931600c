"""PrintBatch: letters collected into one print-ready PDF for the print street (Druckstraße).

Its id is derived from the letters it holds, so building the same batch twice (a retried
command) is the same batch. Marking it printed marks each of its letters printed.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from aggregates.ids import NAMESPACE


class PrintBatchError(ValueError):
    pass


class PrintBatch(Aggregate):
    """Stored event classes: never rename them; evolve with class_version and upcasters."""

    class Built(Aggregate.Created):
        document_ids: list[UUID]
        blob_key: str
        manifest_key: str
        letters: int
        sheets: int
        pages: int
        by: str
        at: datetime

    class MarkedPrinted(Aggregate.Event):
        by: str
        at: datetime

    @staticmethod
    def create_id(document_ids: list[UUID]) -> UUID:
        return uuid5(NAMESPACE, "print-batch:" + ",".join(sorted(str(d) for d in document_ids)))

    @event(Built)
    def __init__(
        self,
        document_ids: list[UUID],
        blob_key: str,
        manifest_key: str,
        letters: int,
        sheets: int,
        pages: int,
        by: str,
        at: datetime,
    ) -> None:
        if not document_ids:
            raise PrintBatchError("a print batch holds at least one letter")
        self.document_ids = document_ids
        self.blob_key = blob_key
        self.manifest_key = manifest_key
        self.letters = letters
        self.sheets = sheets
        self.pages = pages
        self.built_at = at
        self.printed_at: datetime | None = None

    def mark_printed(self, by: str, at: datetime) -> None:
        if self.printed_at is not None:
            raise PrintBatchError("the batch is already marked printed")
        self._marked_printed(by=by, at=at)

    @event(MarkedPrinted)
    def _marked_printed(self, by: str, at: datetime) -> None:
        self.printed_at = at
