"""Figures for the statistics page, read from the case and item views (no view of its own).

- intake: items received per day, department and channel over the last ``days`` days
  (the office's dates; items not routed yet have department None and appear only when all
  departments are asked for);
- backlog: cases not closed by age in **calendar** days since they were opened, in the
  buckets ``AGE_BUCKETS`` (0–5, 6–10, 11–20, over 20 days) — calendar days because "how long
  has it been lying here" is what a lead asks; deadlines in working days are the flags';
- deadlines: open / overdue / at risk / paused per department (``department_counts``);
- routing: of the items routed in the period, how many the router routed without a person
  (auto rate), and how many of those a clerk then sent elsewhere (correction rate).

Departments filter by the department an item or case is with now. Every query reads index
ranges (``ix_item_view_intake`` / ``ix_item_view_received_on``, ``ix_case_view_queue_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from aggregates.deadlines import WorkingCalendar
from projections.case_queries import department_counts
from projections.case_rows import ACTIVE, DepartmentCounts
from projections.case_tables import case_view
from projections.item_view import item_view
from projections.view_support import Bind, connection, distinct_values, local_midnight

AGE_BUCKETS = ("0-5", "6-10", "11-20", "21+")
_BUCKET_STARTS = (0, 6, 11, 21)  # calendar days since opening where each bucket begins

Departments = set[str] | frozenset[str] | None


@dataclass(frozen=True)
class IntakeCount:
    day: date
    department_id: str | None
    channel: str
    count: int


@dataclass(frozen=True)
class BacklogCount:
    department_id: str
    bucket: str  # one of AGE_BUCKETS
    count: int


@dataclass(frozen=True)
class RoutingRates:
    routed: int  # items with a department (by the router or by a person)
    auto_routed: int  # routed by the router without a person
    corrected: int  # auto-routed, then sent elsewhere by a clerk
    auto_rate: float | None  # auto_routed / routed; None when nothing was routed
    correction_rate: float | None  # corrected / auto_routed


def _items_since(departments: Departments, since: date) -> list[ColumnElement[bool]]:
    conditions = [item_view.c.received_on >= since]
    if departments is not None:
        conditions.append(item_view.c.department_id.in_(sorted(departments)))
    return conditions


def intake_per_day(
    bind: Bind, departments: Departments, *, today: date, days: int = 30
) -> list[IntakeCount]:
    """Items received from ``today - days + 1`` to ``today``, per day, department, channel."""
    if departments is not None and not departments:
        return []
    since = today - timedelta(days=days - 1)
    statement = (
        select(
            item_view.c.received_on, item_view.c.department_id, item_view.c.channel, func.count()
        )
        .where(*_items_since(departments, since), item_view.c.received_on <= today)
        .group_by(item_view.c.received_on, item_view.c.department_id, item_view.c.channel)
    )
    with connection(bind) as conn:
        rows = [
            IntakeCount(day, d, channel, int(n)) for day, d, channel, n in conn.execute(statement)
        ]
    return sorted(rows, key=lambda r: (r.day, r.department_id or "", r.channel))


def backlog_by_age(bind: Bind, departments: Departments, *, today: date) -> list[BacklogCount]:
    """Cases not closed per department and age bucket (calendar days since opening); every
    bucket of every department is listed, empty ones with 0."""
    # opened on or before today - start  <=>  opened_at before the next day's midnight
    limits = [local_midnight(today - timedelta(days=start - 1)) for start in _BUCKET_STARTS[1:]]
    bucket: ColumnElement[Any] = case(
        *(
            (case_view.c.opened_at < limit, literal(name))
            for limit, name in reversed(list(zip(limits, AGE_BUCKETS[1:], strict=True)))
        ),
        else_=literal(AGE_BUCKETS[0]),
    )
    with connection(bind) as conn:
        if departments is None:
            departments = set(distinct_values(conn, case_view.c.department_id))
        if not departments:
            return []
        statement = (
            select(case_view.c.department_id, bucket.label("bucket"), func.count())
            .where(
                case_view.c.department_id.in_(sorted(departments)),
                case_view.c.status.in_(ACTIVE),
            )
            .group_by(case_view.c.department_id, "bucket")
        )
        found = {(d, b): int(n) for d, b, n in conn.execute(statement)}
    return [
        BacklogCount(d, name, found.get((d, name), 0))
        for d in sorted(departments)
        for name in AGE_BUCKETS
    ]


def deadlines(
    bind: Bind, departments: Departments, *, today: date, calendar: WorkingCalendar
) -> list[DepartmentCounts]:
    """Open, overdue, at-risk and paused cases per department."""
    return department_counts(bind, departments, today=today, calendar=calendar)


def routing_rates(
    bind: Bind, departments: Departments, *, today: date, days: int = 30
) -> RoutingRates:
    """Router figures for the items received in the last ``days`` days."""
    if departments is not None and not departments:
        return RoutingRates(0, 0, 0, None, None)
    since = today - timedelta(days=days - 1)
    auto = item_view.c.routing_method.is_not(None)
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((auto, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(auto, item_view.c.rerouted), 1), else_=0)), 0),
    ).where(
        *_items_since(departments, since),
        item_view.c.received_on <= today,
        item_view.c.department_id.is_not(None),
    )
    with connection(bind) as conn:
        routed, auto_routed, corrected = (int(v) for v in conn.execute(statement).one())
    return RoutingRates(
        routed=routed,
        auto_routed=auto_routed,
        corrected=corrected,
        auto_rate=auto_routed / routed if routed else None,
        correction_rate=corrected / auto_routed if auto_routed else None,
    )
