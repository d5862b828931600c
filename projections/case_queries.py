"""Queries of the case view: the department queue, a clerk's desk, the case page, and the
counts per department. Flags are derived at query time from ``today``.

Every query is index-backed for a million cases: the queue reads one index range per
(department, status) — each branch ``ORDER BY … LIMIT n+1`` on ``ix_case_view_queue_*`` —
and merges them (keyset paging, no OFFSET, no COUNT). The SQL filters for the flags use the
status (not paused = open or in progress) and precomputed due-date thresholds.

The flag rules are in ``projections.case_rows``.
Paused cases are sorted and paged by their stored due date; the date shown moves on with the
open pause (``current_due_on``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, tuple_, union_all

from aggregates.deadlines import WorkingCalendar
from projections.case_rows import (
    ACTIVE,
    NO_ASSIGNEE,
    RUNNING,
    SORTS,
    STATUSES,
    CaseDetail,
    CaseRow,
    DepartmentCounts,
    QueueFilter,
    QueuePage,
    TimelineEntry,
    at_risk_limit,
    case_row,
    flag_conditions,
)
from projections.case_tables import case_timeline, case_view
from projections.view_support import (
    Bind,
    InvalidCursorError,
    connection,
    decode_cursor,
    distinct_values,
    encode_cursor,
    load,
    utc,
)

MAX_BRANCHES = 400  # SQLite allows 500 terms in a compound SELECT
MAX_LIMIT = 1000


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
    limit = max(1, min(limit, MAX_LIMIT))
    first, second = _sort_columns(sort)
    statuses = set(ACTIVE if filters.statuses is None else filters.statuses) & set(STATUSES)
    statuses, conditions = flag_conditions(filters.flag, statuses, today, calendar)
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
    """Each branch reads only the sort key and id (an index-only range on PostgreSQL); the
    merged first ``limit`` ids are joined back to their rows."""
    conditions = list(conditions)
    first, second = _sort_columns(sort)
    parts = []
    for department_id, status in branches:
        branch = (
            select(first, second)
            .where(case_view.c.department_id == department_id, case_view.c.status == status)
            .where(*conditions)
            .order_by(first, second)
            .limit(limit)
            .subquery()
        )
        parts.append(select(branch.c[first.name], branch.c[second.name]))
    merged = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    keys = (merged.c[first.name], merged.c[second.name])
    page = select(*keys).order_by(*keys).limit(limit).subquery()
    return (
        select(case_view)
        .join(page, page.c[second.name] == case_view.c.case_id)
        .order_by(page.c[first.name], page.c[second.name])
    )


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
    limit, top = at_risk_limit(today, calendar)
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
