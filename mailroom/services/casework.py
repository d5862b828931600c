"""Case work: what clerks do with a case (Vorgang), each command checked against the acting
principal's departments and, when the form says which version it saw, against concurrent
changes (``StaleError``: someone else acted first; nothing is changed)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from aggregates.case import Case, CaseError, CaseStatus
from aggregates.reference import InvalidReferenceError, Reference
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_see_cases_of, may_triage
from mailroom.auth.principal import Principal
from mailroom.intake.clean_text import InvalidTextError, clean_field
from mailroom.services import Changed, NotFoundError, ServiceError, StaleError
from mailroom.services.placement import check_department, place_item
from projections.case_directory import CaseDirectoryProjection
from routing import Catalog

MAX_NOTE = 5000

# Who may be assigned: (principal id) -> (name, departments) of a known staff member, or None.
StaffLookup = Callable[[str], tuple[str, frozenset[str]] | None]


class CaseworkService:
    def __init__(
        self,
        app: MailroomApp,
        catalog: Catalog,
        directory: CaseDirectoryProjection,
        staff: StaffLookup,
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.catalog = catalog
        self.directory = directory
        self.staff = staff
        self.clock = clock

    # -- who works it ----------------------------------------------------------------------

    def take(
        self, actor: Principal, reference: str, expected_version: int | None = None
    ) -> Changed:
        """The acting clerk takes the case onto their own desk."""
        case = self._case(actor, reference, expected_version)
        return self._do(case, lambda: case.assign(actor.id, actor.name, actor.id, self.clock()))

    def assign(
        self,
        actor: Principal,
        reference: str,
        assignee_id: str,
        expected_version: int | None = None,
    ) -> Changed:
        case = self._case(actor, reference, expected_version)
        known = self.staff(assignee_id)
        if known is None or case.department_id not in known[1]:
            raise ServiceError(
                f"{assignee_id} does not work for {case.department_id}", "unknown_assignee"
            )
        name = known[0]
        return self._do(case, lambda: case.assign(assignee_id, name, actor.id, self.clock()))

    def reroute(
        self,
        actor: Principal,
        reference: str,
        department_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Changed:
        """Move the case to another department; its first item moves too, so the router
        learns from the correction."""
        case = self._case(actor, reference, expected_version)
        check_department(self.catalog, department_id)
        if case.closed:
            raise ServiceError(f"case {case.reference} is closed", "case_closed")
        if case.department_id == department_id:
            raise ServiceError(f"case {case.reference} is already there", "unchanged")
        note = _text(note, "note", required=False)
        item = self.app.find_item(case.first_item_id) if case.first_item_id else None
        changed: list[Any]
        if item is not None and item.department_id != department_id:
            changed = place_item(
                self.app, self.catalog, item, department_id, actor.id, note, self.clock()
            )
            case = next((c for c in changed if isinstance(c, Case)), case)
        else:
            changed = []
        if case.department_id != department_id:
            case.reassign(department_id, reassigned_by=actor.id, note=note)
        save_or_stale(self.app, *changed, case)
        return Changed(case.id, case.version)

    def reroute_item(
        self, actor: Principal, reference: str, department_id: str, note: str = ""
    ) -> Changed:
        """Move one item (by its own reference) to another department, with its case."""
        try:
            canonical = str(Reference.parse(reference, self.catalog.city.reference_prefix))
        except InvalidReferenceError as exc:
            raise ServiceError(str(exc), "invalid_reference") from None
        item = self.app.find_item_by_reference(canonical)
        visible = item is not None and (
            may_triage(actor)
            if item.department_id is None
            else may_see_cases_of(actor, item.department_id)
        )
        if item is None or not visible:
            raise NotFoundError(f"no item with reference {canonical}")
        text = _text(note, "note", required=False)
        changed = place_item(
            self.app, self.catalog, item, department_id, actor.id, text, self.clock()
        )
        save_or_stale(self.app, *changed)
        return Changed(item.id, item.version)

    def add_note(
        self, actor: Principal, reference: str, text: str, expected_version: int | None = None
    ) -> Changed:
        case = self._case(actor, reference, expected_version)
        note = _text(text, "note")
        return self._do(case, lambda: case.add_note(note, actor.id, actor.name, self.clock()))

    # -- the citizen -----------------------------------------------------------------------

    def request_information(
        self,
        actor: Principal,
        reference: str,
        message: str,
        due_on: date,
        expected_version: int | None = None,
    ) -> Changed:
        """Ask the citizen for documents: the processing deadline pauses until they answer."""
        case = self._case(actor, reference, expected_version)
        text = _text(message, "message")
        request_id = str(uuid.uuid4())
        return self._do(
            case,
            lambda: case.request_information(request_id, text, due_on, actor.id, self.clock()),
        )

    def receive_information(
        self,
        actor: Principal,
        reference: str,
        item_id: UUID | None = None,
        expected_version: int | None = None,
    ) -> Changed:
        """The answer is here (a follow-up item, or the clerk says so): the deadline resumes."""
        case = self._case(actor, reference, expected_version)
        return self._do(case, lambda: case.receive_information(item_id, actor.id, self.clock()))

    def link_to_account(
        self,
        actor: Principal,
        reference: str,
        citizen_account_id: str,
        expected_version: int | None = None,
    ) -> Changed:
        """Link the case's letter to the citizen's Bürgerkonto: it shows among their requests,
        and documents drafted from now on may go to their Postfach (if they agreed)."""
        case = self._case(actor, reference, expected_version)
        account = _text(citizen_account_id, "account", required=True)[:200]
        if self.app.find_account(account) is None:
            raise ServiceError(f"no Bürgerkonto {account} is known", "unknown_account")
        item = self.app.find_item(case.first_item_id) if case.first_item_id else None
        if item is None:
            raise ServiceError(f"case {case.reference} has no letter to link", "no_item")
        item.link_to_account(account, actor.id, self.clock())
        save_or_stale(self.app, item)
        return Changed(item.id, item.version)

    # -- deadline and end ----------------------------------------------------------------

    def extend_deadline(
        self,
        actor: Principal,
        reference: str,
        days: int,
        reason: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Changed:
        case = self._case(actor, reference, expected_version)
        text = _text(note, "note", required=False)
        return self._do(
            case, lambda: case.extend_deadline(days, reason, text, actor.id, self.clock())
        )

    def close(
        self, actor: Principal, reference: str, outcome: str, expected_version: int | None = None
    ) -> Changed:
        case = self._case(actor, reference, expected_version)
        return self._do(case, lambda: case.close(self.clock(), outcome, closed_by=actor.id))

    def reopen(
        self, actor: Principal, reference: str, reason: str, expected_version: int | None = None
    ) -> Changed:
        case = self._case(actor, reference, expected_version)
        text = _text(reason, "reason")
        return self._do(case, lambda: case.reopen(text, actor.id, self.clock()))

    # -- helpers -----------------------------------------------------------------------------

    def find_visible(self, actor: Principal, reference: str) -> Case:
        """The case, if the principal may see it; otherwise NotFoundError (like unknown)."""
        case_id = self.directory.case_uuid(reference)
        case = self.app.find_case(UUID(case_id)) if case_id else None
        if case is None or not may_see_cases_of(actor, case.department_id):
            raise NotFoundError(f"no case {reference}")
        return case

    def _case(self, actor: Principal, reference: str, expected_version: int | None) -> Case:
        case = self.find_visible(actor, reference)
        if expected_version is not None and case.version != expected_version:
            raise StaleError(
                f"case {case.reference} changed (version {case.version}, form had "
                f"{expected_version})"
            )
        return case

    def _do(self, case: Case, command: Callable[[], None]) -> Changed:
        try:
            command()
        except CaseError as exc:
            code = "case_closed" if case.status is CaseStatus.CLOSED else "invalid_state"
            raise ServiceError(str(exc), code) from None
        save_or_stale(self.app, case)
        return Changed(case.id, case.version)


def save_or_stale(app: MailroomApp, *aggregates: Any) -> None:
    """Save; a concurrent writer that came first makes this a stale form, not an error."""
    try:
        app.save(*aggregates)
    except IntegrityError:
        raise StaleError("someone else changed it at the same moment") from None


def _text(value: str, field: str, *, required: bool = True) -> str:
    try:
        text = clean_field(value, field, max_length=MAX_NOTE, multiline=True).strip()
    except InvalidTextError as exc:
        raise ServiceError(str(exc), "invalid_text") from None
    if required and not text:
        raise ServiceError(f"{field} is empty", "empty_text")
    return text
