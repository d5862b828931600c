"""Triage (Poststelle): place what the router could not, or set it aside."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from aggregates.mail_item import ItemStatus, MailItem, MailItemError
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_triage
from mailroom.auth.principal import Principal
from mailroom.intake.clean_text import InvalidTextError, clean_field
from mailroom.services import Changed, NotFoundError, ServiceError, StaleError
from mailroom.services.casework import save_or_stale
from mailroom.services.placement import place_item
from routing import Catalog


class TriageService:
    def __init__(self, app: MailroomApp, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.catalog = catalog
        self.clock = clock

    def route(
        self,
        actor: Principal,
        item_id: UUID,
        department_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Changed:
        """Send a triaged item to a department (one of the router's candidates or any other);
        it opens the item's case there."""
        item = self._item(actor, item_id, expected_version)
        text = _note(note)
        changed = place_item(
            self.app, self.catalog, item, department_id, actor.id, text, self.clock()
        )
        save_or_stale(self.app, *changed)
        return Changed(item.id, item.version)

    def mark_misdirected(
        self,
        actor: Principal,
        item_id: UUID,
        addressee: str = "",
        note: str = "",
        expected_version: int | None = None,
    ) -> Changed:
        item = self._item(actor, item_id, expected_version)
        where = _note(addressee)
        text = _note(note)
        return self._do(item, lambda: item.mark_misdirected(where, text, actor.id, self.clock()))

    def request_rescan(
        self, actor: Principal, item_id: UUID, note: str = "", expected_version: int | None = None
    ) -> Changed:
        item = self._item(actor, item_id, expected_version)
        text = _note(note)
        return self._do(item, lambda: item.request_rescan(text, actor.id, self.clock()))

    def _item(self, actor: Principal, item_id: UUID, expected_version: int | None) -> MailItem:
        item = self.app.find_item(item_id) if may_triage(actor) else None
        if item is None:
            raise NotFoundError(f"no item {item_id}")
        if expected_version is not None and item.version != expected_version:
            raise StaleError(f"{item.reference} changed since the form was shown")
        if item.status is not ItemStatus.TRIAGE:
            raise StaleError(f"{item.reference} is no longer in triage")
        return item

    def _do(self, item: MailItem, command: Callable[[], None]) -> Changed:
        try:
            command()
        except MailItemError as exc:
            raise ServiceError(str(exc), "invalid_state") from None
        save_or_stale(self.app, item)
        return Changed(item.id, item.version)


def _note(value: str) -> str:
    try:
        return clean_field(value, "note", max_length=2000, multiline=True).strip()
    except InvalidTextError as exc:
        raise ServiceError(str(exc), "invalid_text") from None
