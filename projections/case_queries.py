"""Queries of the case view: the department queue, a clerk's desk, the case page, and the
counts per department. Flags are derived at query time from ``today``.

Every query is index-backed for a million cases: the queue reads one index range per
(department, status) — each branch ``ORDER BY … LIMIT n+1`` on ``ix_case_view_queue_*`` —
and merges them (keyset paging, no OFFSET, no COUNT). The SQL filters for the flags use the
status (not paused = open or in progress) and precomputed due-date thresholds.

At risk: ``working_days_left <= at_risk_days(processing_days)``, i.e.
``max(2, processing_days // 5)`` capped at ``AT_RISK_MAX_DAYS`` (budgets beyond 204 working
days count as at risk from 40 working days before the due date). The SQL filter is exact for
this rule: a CASE over the budget picks the threshold date precomputed with the calendar.
Paused cases are sorted and paged by their stored due date; the date shown moves on with the
open pause (``current_due_on``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)

from aggregates.deadlines import DeadlineFlag, WorkingCalendar, shift_for_open_pause
from projections.case_view import case_timeline, case_view
from projections.view_support import (
    Bind,
    InvalidCursorError,
    connection,
    decode_cursor,
    distinct_values,
    encode_cursor,
    load,
    maybe_utc,
    utc,
)

ACTIVE = ("open", "in_progress", "waiting")
RUNNING = frozenset({"open", "in_progress"})  # the deadline runs (not paused, not closed)
STATUSES = (*ACTIVE, "closed")
NO_ASSIGNEE = "none"
SORTS = ("due", "opened", "reference")
FLAGS = (DeadlineFlag.OVERDUE, DeadlineFlag.AT_RISK, DeadlineFlag.PAUSED)
AT_RISK_MAX_DAYS = 40
MAX_BRANCHES = 400  # SQLite allows 500 terms in a compound SELECT


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


# -- rows and flags ----------------------------------------------------------------------------


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


def _at_risk_limit(today: date, calendar: WorkingCalendar) -> tuple[ColumnElement[Any], date]:
    """SQL for the last due date still at risk for a row's budget, and the largest of them."""

    def last_day(days: int) -> date:  # working days in (today, d] <= days
        return calendar.add_working_days(today, days + 1) - timedelta(days=1)

    whens = [
        (case_view.c.processing_days < 5 * (days + 1), literal(last_day(days)))
        for days in range(2, AT_RISK_MAX_DAYS)
    ]
    top = last_day(AT_RISK_MAX_DAYS)
    return case(*whens, else_=literal(top)), top


def _flag_conditions(
    flag: str | None, statuses: set[str], today: date, calendar: WorkingCalendar
) -> tuple[set[str], list[ColumnElement[bool]]]:
    if flag is None:
        return statuses, []
    if flag == DeadlineFlag.PAUSED:
        return statuses & {"waiting"}, []
    if flag == DeadlineFlag.OVERDUE:
        return statuses & RUNNING, [case_view.c.due_on < today]
    if flag == DeadlineFlag.AT_RISK:
        limit, top = _at_risk_limit(today, calendar)
        conditions = [case_view.c.due_on >= today, case_view.c.due_on <= top]
        return statuses & RUNNING, [*conditions, case_view.c.due_on <= limit]
    raise ValueError(f"unknown flag {flag!r} (known: {', '.join(FLAGS)})")


# -- the queue ---------------------------------------------------------------------------------


def _sort_columns(sort: str) -> tuple[Any, Any]:
    if sort == "due":
        return case_view.c.due_on, case_view.c.case_id
    if sort == "opened":
        return case_view.c.opened_at, case_view.c.case_id
    if sort == "reference":
        return case_view.c.reference, case_view.c.case_id
    raise ValueError(f"unknown sort {sort!r} (known: {', '.join(SORTS)})")


def _cursor_for(row: CaseRow, sort: str) -> str:
    key = {"due": row.due_on.isoformat(), "opened": row.opened_at.isoformat()}
    return encode_cursor(sort, key.get(sort, row.reference), row.case_id)


def _cursor_condition(sort: str, cursor: str) -> ColumnElement[bool]:
    key, case_id = decode_cursor(cursor, sort, 2)
    value: Any = key
    try:
        if sort == "due":
            value = date.fromisoformat(key)
        elif sort == "opened":
            value = utc(datetime.fromisoformat(key))
    except ValueError as exc:
        raise InvalidCursorError("malformed cursor") from exc
    first, second = _sort_columns(sort)
    return tuple_(first, second) > tuple_(literal(value, first.type), literal(case_id))


def queue(
    bind: Bind,
    departments: set[str] | frozenset[str] | None,
    filters: QueueFilter | None = None,
    sort: str = "due",
    after: str | None = None,
    limit: int = 50,
    *,
    today: date,
    calendar: WorkingCalendar,
) -> QueuePage:
    """One page of cases; ``departments`` None: all. ``after``: the previous page's
    ``next_cursor`` (InvalidCursorError if it is not one)."""
    filters = filters or QueueFilter()
    first, second = _sort_columns(sort)
    statuses = set(ACTIVE if filters.statuses is None else filters.statuses) & set(STATUSES)
    statuses, conditions = _flag_conditions(filters.flag, statuses, today, calendar)
    if filters.service_key is not None:
        conditions.append(case_view.c.service_key == filters.service_key)
    if filters.older_than_days is not None:
        conditions.append(case_view.c.opened_on <= today - timedelta(filters.older_than_days))
    if after:
        conditions.append(_cursor_condition(sort, after))
    if filters.assignee_id == NO_ASSIGNEE:
        conditions.append(case_view.c.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        conditions.append(case_view.c.assignee_id == filters.assignee_id)
    with connection(bind) as conn:
        if departments is None:
            departments = set(distinct_values(conn, case_view.c.department_id))
        branches = [(d, s) for d in sorted(departments) for s in sorted(statuses)]
        if not branches:
            return QueuePage((), None)
        if filters.assignee_id not in (None, NO_ASSIGNEE) or len(branches) > MAX_BRANCHES:
            # one person's cases are few; or too many branches: a single filtered query
            where = [
                case_view.c.department_id.in_(sorted(departments)),
                case_view.c.status.in_(sorted(statuses)),
            ]
            statement: Select[Any] = select(case_view).where(*where, *conditions)
            statement = statement.order_by(first, second).limit(limit + 1)
        else:
            statement = _merged_branches(branches, conditions, sort, limit + 1)
        rows = [case_row(r, today, calendar) for r in conn.execute(statement).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(tuple(rows), _cursor_for(rows[-1], sort) if more and rows else None)


def _merged_branches(
    branches: Sequence[tuple[str, str]],
    conditions: Iterable[ColumnElement[bool]],
    sort: str,
    limit: int,
) -> Select[Any]:
    conditions = list(conditions)
    first, second = _sort_columns(sort)
    parts = []
    for department_id, status in branches:
        branch = (
            select(case_view)
            .where(case_view.c.department_id == department_id, case_view.c.status == status)
            .where(*conditions)
            .order_by(first, second)
            .limit(limit)
            .subquery()
        )
        parts.append(select(branch))
    merged = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    key = merged.c[first.name]
    return select(merged).order_by(key, merged.c.case_id).limit(limit)


# -- one person, one case, counts --------------------------------------------------------------


def my_cases(
    bind: Bind, assignee_id: str, *, today: date, calendar: WorkingCalendar, limit: int = 500
) -> tuple[CaseRow, ...]:
    """The cases on one clerk's desk (not closed), most urgent first."""
    statement = (
        select(case_view)
        .where(case_view.c.assignee_id == assignee_id, case_view.c.status.in_(ACTIVE))
        .order_by(case_view.c.due_on, case_view.c.case_id)
        .limit(limit)
    )
    with connection(bind) as conn:
        return tuple(case_row(r, today, calendar) for r in conn.execute(statement).mappings())


def case_detail(
    bind: Bind,
    reference_or_id: str,
    *,
    today: date | None = None,
    calendar: WorkingCalendar | None = None,
) -> CaseDetail | None:
    """A case by reference or id, with its timeline (oldest first) and item ids."""
    with connection(bind) as conn:
        row = (
            conn.execute(
                select(case_view).where(
                    or_(
                        case_view.c.reference == reference_or_id,
                        case_view.c.case_id == reference_or_id,
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        entries = conn.execute(
            select(case_timeline)
            .where(case_timeline.c.case_id == row["case_id"])
            .order_by(case_timeline.c.version)
        ).mappings()
        timeline = tuple(
            TimelineEntry(
                version=e["version"],
                at=utc(e["at"]),
                kind=e["kind"],
                actor_id=e["actor_id"],
                actor_name=e["actor_name"],
                data=load(e["data"], {}),
            )
            for e in entries
        )
    items = [e.data.get("first_item_id") for e in timeline if e.kind == "opened"]
    items += [e.data.get("item_id") for e in timeline if e.kind == "item_attached"]
    item_ids = tuple(dict.fromkeys(i for i in items if i))
    return CaseDetail(case_row(row, today, calendar), timeline, item_ids)


def department_counts(
    bind: Bind,
    departments: set[str] | frozenset[str] | None,
    *,
    today: date,
    calendar: WorkingCalendar,
) -> list[DepartmentCounts]:
    """Open (not closed), overdue, at-risk and paused cases per department: three grouped
    counts over index ranges (the at-risk one reads only the cases due within weeks)."""
    limit, top = _at_risk_limit(today, calendar)
    with connection(bind) as conn:
        if departments is None:
            departments = set(distinct_values(conn, case_view.c.department_id))
        if not departments:
            return []
        in_departments = case_view.c.department_id.in_(sorted(departments))
        running = case_view.c.status.in_(sorted(RUNNING))
        counts: dict[str, dict[str, int]] = {d: {} for d in departments}
        per_status = select(case_view.c.department_id, case_view.c.status, func.count())
        per_status = per_status.where(in_departments, case_view.c.status.in_(ACTIVE))
        for department_id, status, n in conn.execute(
            per_status.group_by(case_view.c.department_id, case_view.c.status)
        ):
            counts[department_id][status] = int(n)
        for name, conditions in (
            ("overdue", [case_view.c.due_on < today]),
            ("at_risk", [case_view.c.due_on.between(today, top), case_view.c.due_on <= limit]),
        ):
            statement = (
                select(case_view.c.department_id, func.count())
                .where(in_departments, running, *conditions)
                .group_by(case_view.c.department_id)
            )
            for department_id, n in conn.execute(statement):
                counts[department_id][name] = int(n)
    return [
        DepartmentCounts(
            department_id=d,
            open=sum(counts[d].get(s, 0) for s in ACTIVE),
            overdue=counts[d].get("overdue", 0),
            at_risk=counts[d].get("at_risk", 0),
            paused=counts[d].get("waiting", 0),
        )
        for d in sorted(departments)
    ]
