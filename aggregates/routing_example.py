"""RoutingExample: a labelled letter the router learns from (imported by an administrator)."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids


class RoutingExample(Aggregate):
    class Imported(Aggregate.Created):
        source: str
        department_id: str
        text: str

    @staticmethod
    def create_id(source: str) -> UUID:
        return ids.routing_example_id(source)

    @event(Imported)
    def __init__(self, source: str, department_id: str, text: str) -> None:
        self.source = source
        self.department_id = department_id
        self.text = text
