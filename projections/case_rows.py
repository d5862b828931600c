"""Rows of the case view as queries return them, and the deadline flags: derived at query
time from ``today`` (in Python for a row, in SQL for a filter — both by the same rule).

At risk: ``working_days_left <= at_risk_days(processing_days)``, i.e.
``max(2, processing_days // 5)`` capped at ``AT_RISK_MAX_DAYS`` (budgets beyond 204 working
days count as at risk from 40 working days before the due date). The SQL filter is exact for
this rule: a CASE over the budget picks the threshold date precomputed with the calendar.
Not paused is, in SQL, the status: open or in progress (waiting = paused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, literal

from aggregates.deadlines import DeadlineFlag, WorkingCalendar, shift_for_open_pause
from projections.case_tables import case_view
from projections.view_support import maybe_utc, utc

ACTIVE = ("open", "in_progress", "waiting")
RUNNING = frozenset({"open", "in_progress"})  # the deadline runs (not paused, not closed)
STATUSES = (*ACTIVE, "closed")
NO_ASSIGNEE = "none"
SORTS = ("due", "opened", "reference")
FLAGS = (DeadlineFlag.OVERDUE, DeadlineFlag.AT_RISK, DeadlineFlag.PAUSED)
AT_RISK_MAX_DAYS = 40


def at_risk_days(processing_days: int) -> int:
    return min(max(2, processing_days // 5), AT_RISK_MAX_DAYS)


@dataclass(frozen=True)
class QueueFilter:
    """``statuses`` None: every status but closed; ``assignee_id`` a staff id or
    ``NO_ASSIGNEE``; ``flag`` one of ``FLAGS``; ``older_than_days`` calendar days open."""

    statuses: frozenset[str] | None = None
    assignee_id: str | None = None
    service_key: str | None = None
    flag: str | None = None
    older_than_days: int | None = None


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    reference: str
    department_id: str
    service_key: str | None
    subject: str
    party: str
    address: str
    status: str
    assignee_id: str | None
    assignee_name: str | None
    opened_at: datetime
    opened_on: date
    processing_days: int
    extension_days: int
    paused_since: date | None
    paused_days: int
    due_on: date
    """As of the last event (an open pause not counted); see ``current_due_on``."""
    info_due_on: date | None
    outcome: str | None
    closed_at: datetime | None
    item_count: int
    last_activity_at: datetime
    case_version: int
    current_due_on: date
    """The due date today: moved on by the working days of an open pause."""
    working_days_left: int | None
    """From today to ``current_due_on`` (negative: overdue); None when closed / no today."""
    flag: str | None
    """A DeadlineFlag code; None when closed (or asked without a today)."""


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[CaseRow, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class TimelineEntry:
    version: int
    at: datetime
    kind: str
    actor_id: str | None
    actor_name: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseDetail:
    case: CaseRow
    timeline: tuple[TimelineEntry, ...]
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentCounts:
    department_id: str
    open: int  # every case not closed
    overdue: int
    at_risk: int
    paused: int


def case_row(row: Any, today: date | None, calendar: WorkingCalendar | None) -> CaseRow:
    values = dict(row)
    for column in ("opened_at", "last_activity_at"):
        values[column] = utc(values[column])
    values["closed_at"] = maybe_utc(values["closed_at"])
    due = values["due_on"]
    left: int | None = None
    flag: str | None = None
    if today is not None and calendar is not None:
        due = shift_for_open_pause(calendar, due, values["paused_since"], today)
        if values["status"] != "closed":
            left = calendar.working_days_between(today, due)
            if values["paused_since"] is not None:
                flag = DeadlineFlag.PAUSED
            elif today > due:
                flag = DeadlineFlag.OVERDUE
            elif left <= at_risk_days(values["processing_days"]):
                flag = DeadlineFlag.AT_RISK
            else:
                flag = DeadlineFlag.ON_TRACK
    return CaseRow(**values, current_due_on=due, working_days_left=left, flag=flag)


def at_risk_limit(today: date, calendar: WorkingCalendar) -> tuple[ColumnElement[Any], date]:
    """SQL for the last due date still at risk for a row's budget, and the largest of them."""

    def last_day(days: int) -> date:  # working days in (today, d] <= days
        return calendar.add_working_days(today, days + 1) - timedelta(days=1)

    whens = [
        (case_view.c.processing_days < 5 * (days + 1), literal(last_day(days)))
        for days in range(2, AT_RISK_MAX_DAYS)
    ]
    top = last_day(AT_RISK_MAX_DAYS)
    return case(*whens, else_=literal(top)), top


def flag_conditions(
    flag: str | None, statuses: set[str], today: date, calendar: WorkingCalendar
) -> tuple[set[str], list[ColumnElement[bool]]]:
    if flag is None:
        return statuses, []
    if flag == DeadlineFlag.PAUSED:
        return statuses & {"waiting"}, []
    if flag == DeadlineFlag.OVERDUE:
        return statuses & RUNNING, [case_view.c.due_on < today]
    if flag == DeadlineFlag.AT_RISK:
        limit, top = at_risk_limit(today, calendar)
        conditions = [case_view.c.due_on >= today, case_view.c.due_on <= top]
        return statuses & RUNNING, [*conditions, case_view.c.due_on <= limit]
    raise ValueError(f"unknown flag {flag!r} (known: {', '.join(FLAGS)})")
