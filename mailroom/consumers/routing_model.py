"""The router's model, rebuilt from events: the catalog plus every imported example and
every clerk's re-routing in the event store. Rebuilding from the same events gives the same
model, so decisions are reproducible; it is rebuilt whenever such an event is new."""

from __future__ import annotations

import logging
import threading

from eventsourcing.utils import get_topic

from aggregates.mail_item import MailItem
from aggregates.routing_example import RoutingExample
from mailroom.application import MailroomApp
from routing import Catalog, Example, Reroute, Router

log = logging.getLogger(__name__)

LEARNING_TOPICS = (get_topic(RoutingExample.Imported), get_topic(MailItem.Rerouted))


class RouterFromEvents:
    def __init__(self, app: MailroomApp, catalog: Catalog) -> None:
        self.app = app
        self.catalog = catalog
        self._examples: list[Example] = []
        self._reroutes: list[Reroute] = []
        self._position = 0
        self._router: Router | None = None
        self._lock = threading.Lock()

    def current(self) -> Router:
        with self._lock:
            if self._read_new_events() or self._router is None:
                self._router = Router(self.catalog, self._examples, self._reroutes)
                log.info(
                    "routing model %s built from %s examples and %s re-routings",
                    self._router.model_version,
                    len(self._examples),
                    len(self._reroutes),
                )
            return self._router

    def _read_new_events(self) -> int:
        new = 0
        while notifications := self.app.notifications_after(self._position, 500, LEARNING_TOPICS):
            for notification in notifications:
                event = self.app.to_domain_event(notification)
                if isinstance(event, RoutingExample.Imported):
                    self._examples.append(
                        Example(id=event.source, department=event.department_id, text=event.text)
                    )
                elif isinstance(event, MailItem.Rerouted):
                    item = self.app.get_item(event.originator_id)
                    self._reroutes.append(
                        Reroute(
                            item_id=str(item.id),
                            text=item.text,
                            to_department=event.department_id,
                            from_department=event.from_department_id,
                        )
                    )
                new += 1
            self._position = notifications[-1].id
        return new
