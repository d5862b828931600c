"""CaseViewProjection: every case as the clerk workspace shows it (queue, desk, case page),
with its timeline. Codes only: the German words come from ``mailroom.texts_de`` when shown.

The due date is stored as of the last event (``Deadline.base_due_on``: an open pause counted
as ending the day it began) together with ``paused_since``; queries move it by the open
pause with ``shift_for_open_pause`` and derive the flags from "today", so they change as time
passes without any event. Dates of moments are the office's dates (Europe/Berlin).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Engine, select

from aggregates.case import Case
from aggregates.deadlines import WorkingCalendar
from projections.base import Projection
from projections.case_tables import case_timeline, case_view
from projections.rows import Rows
from projections.view_support import dump, local_date, utc, view_text
from routing.catalog import DEFAULT_PROCESSING_DAYS

ProcessingDays = Callable[[str, str | None], int]
"""(department_id, service_key) -> working days, e.g. ``Catalog.processing_days``."""
StaffName = Callable[[str], str | None]
"""A staff member's display name by principal id (None: unknown)."""

NOTE_LIMIT = 4000


class CaseViewProjection(Projection):
    name = "cases"
    tables = (case_timeline, case_view)
    key = case_view.c.case_id
    topics = tuple(
        get_topic(cls)
        for cls in (
            Case.Opened,
            Case.Reassigned,
            Case.ItemAttached,
            Case.Assigned,
            Case.NoteAdded,
            Case.InformationRequested,
            Case.InformationReceived,
            Case.DeadlineExtended,
            Case.Closed,
            Case.Reopened,
        )
    )

    def __init__(
        self,
        engine: Engine,
        calendar: WorkingCalendar,
        processing_days: ProcessingDays,
        staff_name: StaffName | None = None,
    ) -> None:
        """``processing_days`` gives the budget of a case whose Opened event names none (the
        catalog's value, fixed at opening); ``staff_name`` names actors whose events carry
        only an id (else the case's assignee name or an earlier timeline entry is used)."""
        super().__init__(engine)
        self.calendar = calendar
        # Pure, and asked for every event with the same few (opened on, budget) pairs.
        self._add_working_days = lru_cache(maxsize=65_536)(calendar.add_working_days)
        self.processing_days = processing_days
        self.staff_name = staff_name

    def apply(self, rows: Rows, event: Any) -> None:
        case_id = str(event.originator_id)
        version = event.originator_version
        if isinstance(event, Case.Opened):
            self._opened(rows, case_id, event)
            return
        current = rows.get(case_view.c.case_id, case_id)
        if current is None or current["case_version"] >= version:
            return  # not opened yet in this view, or already applied (a redelivery)
        state = dict(current)
        at = utc(getattr(event, "at", None) or getattr(event, "closed_at", None) or event.timestamp)
        kind, actor, data = self._change(state, event, at)
        state["due_on"] = self._due_on(state)
        state.update(case_version=version, last_activity_at=at)
        rows.update(case_view.c.case_id, case_id, state)
        name = self._actor_name(rows, state, current, event, actor)
        self._note(rows, case_id, version, at, kind, actor, name, data)

    # -- per event ---------------------------------------------------------------------------

    def _opened(self, rows: Rows, case_id: str, event: Any) -> None:
        if rows.get(case_view.c.case_id, case_id) is not None:
            return
        days = event.processing_days
        if days is None:
            days = self._catalog_days(event.department_id, event.service_key)
        at = utc(event.opened_at)
        closed = event.status == "closed"
        state: dict[str, Any] = {
            "case_id": case_id,
            "reference": event.reference,
            "department_id": event.department_id,
            "service_key": event.service_key,
            "subject": view_text(event.subject, 500),
            "party": view_text(event.party, 300),
            "address": view_text(event.address, 500),
            "status": "closed" if closed else "open",
            "assignee_id": None,
            "assignee_name": None,
            "opened_at": at,
            "opened_on": local_date(at),
            "processing_days": days,
            "extension_days": 0,
            "paused_since": None,
            "paused_days": 0,
            "info_due_on": None,
            "outcome": None,
            "closed_at": at if closed else None,
            "item_count": 0 if event.first_item_id is None else 1,
            "last_activity_at": at,
            "case_version": event.originator_version,
        }
        state["due_on"] = self._due_on(state)
        rows.insert(case_view.c.case_id, state)
        data = {
            "department_id": event.department_id,
            "service_key": event.service_key,
            "processing_days": days,
            "first_item_id": None if event.first_item_id is None else str(event.first_item_id),
            "due_on": state["due_on"].isoformat(),
        }
        name = self._staff_name(rows, event.opened_by)
        self._note(
            rows, case_id, event.originator_version, at, "opened", event.opened_by, name, data
        )

    def _change(
        self, state: dict[str, Any], event: Any, at: datetime
    ) -> tuple[str, str | None, dict[str, Any]]:
        """Update ``state`` for ``event``; the timeline entry's kind, actor id and data."""
        data: dict[str, Any]
        if isinstance(event, Case.ItemAttached):
            state["item_count"] += 1
            return "item_attached", None, {"item_id": str(event.item_id)}
        if isinstance(event, Case.Assigned):
            name = view_text(event.assignee_name, 300)
            state.update(assignee_id=event.assignee_id, assignee_name=name)
            if state["status"] == "open":
                state["status"] = "in_progress"
            kind = "taken" if event.by == event.assignee_id else "assigned"
            data = {"assignee_id": event.assignee_id, "assignee_name": event.assignee_name}
            return kind, event.by, data
        if isinstance(event, Case.Reassigned):
            state.update(department_id=event.department_id, assignee_id=None, assignee_name=None)
            if state["status"] == "in_progress":
                state["status"] = "open"
            data = {
                "from_department_id": event.from_department_id,
                "department_id": event.department_id,
                "note": view_text(event.note, NOTE_LIMIT),
            }
            return "reassigned", event.reassigned_by, data
        if isinstance(event, Case.NoteAdded):
            return "note", event.by, {"text": view_text(event.text, NOTE_LIMIT)}
        if isinstance(event, Case.InformationRequested):
            state.update(status="waiting", paused_since=local_date(at), info_due_on=event.due_on)
            data = {
                "request_id": event.request_id,
                "due_on": event.due_on.isoformat(),
                "message": view_text(event.message, NOTE_LIMIT),
            }
            return "information_requested", event.by, data
        if isinstance(event, Case.InformationReceived):
            self._end_pause(state, at)
            state["status"] = "in_progress" if state["assignee_id"] else "open"
            item_id = None if event.item_id is None else str(event.item_id)
            return (
                "information_received",
                event.by,
                {"request_id": event.request_id, "item_id": item_id},
            )
        if isinstance(event, Case.DeadlineExtended):
            state["extension_days"] += event.days
            due = self._due_on(state)
            data = {
                "days": event.days,
                "reason": event.reason,
                "note": view_text(event.note, NOTE_LIMIT),
                "due_on": due.isoformat(),
            }
            return "deadline_extended", event.by, data
        if isinstance(event, Case.Closed):
            closed_at = utc(event.closed_at)
            self._end_pause(state, closed_at)
            outcome = view_text(event.outcome, 200)
            state.update(status="closed", outcome=outcome, closed_at=closed_at)
            return "closed", event.closed_by, {"outcome": outcome}
        if isinstance(event, Case.Reopened):
            state.update(
                status="in_progress" if state["assignee_id"] else "open",
                outcome=None,
                closed_at=None,
            )
            return "reopened", event.by, {"reason": view_text(event.reason, NOTE_LIMIT)}
        raise TypeError(f"unexpected event {type(event).__qualname__}")

    # -- helpers -------------------------------------------------------------------------------

    def _end_pause(self, state: dict[str, Any], at: datetime) -> None:
        since: date | None = state["paused_since"]
        if since is not None:
            days = self.calendar.working_days_between(since, local_date(at))
            state["paused_days"] += max(0, days)
        state.update(paused_since=None, info_due_on=None)

    def _due_on(self, state: dict[str, Any]) -> date:
        budget = state["processing_days"] + state["extension_days"] + state["paused_days"]
        return self._add_working_days(state["opened_on"], budget)

    def _catalog_days(self, department_id: str, service_key: str | None) -> int:
        try:
            return self.processing_days(department_id, service_key)
        except KeyError:  # a department no longer in the catalog: the default budget
            return DEFAULT_PROCESSING_DAYS

    def _staff_name(self, rows: Rows, actor: str) -> str | None:
        if self.staff_name is None:
            return None
        lookup = self.staff_name
        return rows.memo(("staff_name", actor), lambda: lookup(actor))

    def _actor_name(
        self,
        rows: Rows,
        state: dict[str, Any],
        before: Any,
        event: Any,
        actor: str | None,
    ) -> str | None:
        if actor is None:
            return None
        if isinstance(event, Case.NoteAdded):
            return str(event.by_name)
        if isinstance(event, Case.Assigned) and actor == event.assignee_id:
            return str(event.assignee_name)
        known = self._staff_name(rows, actor)
        if known:
            return known
        if actor == before["assignee_id"]:
            return str(before["assignee_name"])
        # The latest earlier entry of this actor with a name: one still pending (newer), else
        # one stored.
        for entry in reversed(rows.appended(case_timeline.c.case_id, state["case_id"])):
            if entry["actor_id"] == actor and entry["actor_name"] is not None:
                return str(entry["actor_name"])
        if rows.created(case_view.c.case_id, state["case_id"]):
            return None  # opened in this transaction: every entry of it is still pending
        earlier = (
            rows.stored()
            .execute(
                select(case_timeline.c.actor_name)
                .where(
                    case_timeline.c.case_id == state["case_id"],
                    case_timeline.c.actor_id == actor,
                    case_timeline.c.actor_name.is_not(None),
                )
                .order_by(case_timeline.c.version.desc())
                .limit(1)
            )
            .first()
        )
        return None if earlier is None else str(earlier[0])

    def _note(
        self,
        rows: Rows,
        case_id: str,
        version: int,
        at: datetime,
        kind: str,
        actor: str | None,
        actor_name: str | None,
        data: dict[str, Any],
    ) -> None:
        rows.append(
            case_timeline,
            {
                "case_id": case_id,
                "version": version,
                "at": at,
                "kind": kind,
                "actor_id": actor,
                "actor_name": view_text(actor_name, 300),
                "data": dump(data),
            },
        )
