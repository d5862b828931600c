"""Records the text layer of born-digital PDFs as TextExtracted on the mail item."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates.mail_item import MailItem
from aggregates.values import PageText
from mailroom.application import MailroomApp
from mailroom.consumers.base import tracking_name
from mailroom.ports import BlobStore
from ocr.text_layer import read_text_layer


class TextLayerConsumer:
    name = "text-layer"
    topics: tuple[str, ...] = (get_topic(MailItem.Received),)

    def __init__(self, app: MailroomApp, blobs: BlobStore) -> None:
        self.app = app
        self.blobs = blobs

    def position(self, source: str) -> int:
        return self.app.position(tracking_name(self.name, source))

    def process(self, event: DomainEventProtocol[Any], tracking: Tracking) -> bool:
        own = Tracking(
            tracking_name(self.name, tracking.application_name), tracking.notification_id
        )
        if own.notification_id <= self.app.position(own.application_name):
            return False
        item = self.app.get_item(event.originator_id)
        for document in item.documents:
            if document.media_type != "application/pdf" or document.blob_key in item.texts:
                continue
            pages = read_text_layer(self.blobs.get(document.blob_key))
            if pages is not None:
                item.record_text(
                    document.blob_key,
                    method="text-layer",
                    pages=[
                        PageText(number=i, text=text, confidence=100.0, method="text-layer")
                        for i, text in enumerate(pages, start=1)
                    ],
                )
        return self.app.save_processed(own, item)
