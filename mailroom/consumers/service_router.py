"""Routes portal submissions by their service key and opens their case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates.case import Case
from aggregates.mail_item import MailItem
from aggregates.values import Channel
from mailroom.application import MailroomApp
from mailroom.consumers.base import tracking_name
from routing.catalog import Catalog


class ServiceRouter:
    name = "router"
    topics: tuple[str, ...] = (get_topic(MailItem.Received),)

    def __init__(self, app: MailroomApp, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.catalog = catalog
        self.clock = clock

    def position(self, source: str) -> int:
        return self.app.position(tracking_name(self.name, source))

    def process(self, event: DomainEventProtocol[Any], tracking: Tracking) -> bool:
        own = Tracking(
            tracking_name(self.name, tracking.application_name), tracking.notification_id
        )
        if own.notification_id <= self.app.position(own.application_name):
            return False
        item = self.app.get_item(event.originator_id)
        if item.channel != Channel.PORTAL or item.submission is None or item.case_id:
            return self.app.save_processed(own)
        service = self.catalog.service(item.submission.service_key)
        item.route(
            service.department_id,
            method="service-key",
            confidence=1.0,
            explanation=f"Portal service {service.key!r} belongs to {service.department_id}",
        )
        case = Case(
            reference=item.reference,
            department_id=service.department_id,
            subject=item.submission.subject,
            party=item.submission.applicant.name,
            opened_at=self.clock(),
            first_item_id=item.id,
            service_key=service.key,
        )
        item.attach_to_case(case.id, case.reference)
        return self.app.save_processed(own, item, case)
