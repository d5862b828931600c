"""What staff see: queues, my cases, a case with its items, triage, search, statistics — each
query limited to what the principal may see (``mailroom.auth.permissions``). Something not
visible answers ``NotFoundError``, exactly like something unknown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Engine

from aggregates.deadlines import WorkingCalendar
from mailroom.auth.permissions import (
    case_departments,
    may_see_cases_of,
    may_triage,
    statistics_departments,
)
from mailroom.auth.principal import Principal
from mailroom.services import Changed, NotFoundError, ServiceError
from projections import cases, items, search, statistics
from projections.base import Projection
from projections.view_support import InvalidCursorError, local_date

READ_YOUR_WRITES_S = 5.0  # how long a page waits for its read model after a command


@dataclass(frozen=True)
class CasePage:
    detail: cases.CaseDetail
    items: tuple[items.ItemDetail, ...]


@dataclass(frozen=True)
class Statistics:
    departments: tuple[str, ...] | None  # None: all of them
    intake: list[statistics.IntakeCount]
    backlog: list[statistics.BacklogCount]
    deadlines: list[cases.DepartmentCounts]
    routing: statistics.RoutingRates


class WorkspaceService:
    def __init__(
        self,
        views: Engine,
        read_models: list[Projection],
        calendar: WorkingCalendar,
        clock: Callable[[], datetime],
    ) -> None:
        self.views = views
        self.read_models = {p.name: p for p in read_models}
        self.calendar = calendar
        self.clock = clock

    def today(self) -> date:
        return local_date(self.clock())

    # -- read your own writes ------------------------------------------------------------

    def wait_for(self, changed: Changed, *names: str) -> bool:
        """Wait until the named read models have seen what a command changed."""
        return all(
            self.read_models[name].wait_for(changed.id, changed.version, READ_YOUR_WRITES_S)
            for name in names
        )

    # -- cases ---------------------------------------------------------------------------

    def queue(
        self,
        principal: Principal,
        department_id: str,
        filters: cases.QueueFilter | None = None,
        sort: str = "due",
        after: str | None = None,
        limit: int = 50,
    ) -> cases.QueuePage:
        if not may_see_cases_of(principal, department_id):
            raise NotFoundError(f"no department {department_id}")
        if sort not in cases.SORTS:
            raise ServiceError(f"unknown sort {sort!r}", "invalid_sort")
        try:
            return cases.queue(
                self.views,
                {department_id},
                filters,
                sort,
                after,
                limit,
                today=self.today(),
                calendar=self.calendar,
            )
        except InvalidCursorError:
            raise ServiceError("the page link is no longer valid", "invalid_cursor") from None

    def my_cases(self, principal: Principal) -> tuple[cases.CaseRow, ...]:
        rows = cases.my_cases(self.views, principal.id, today=self.today(), calendar=self.calendar)
        return tuple(r for r in rows if may_see_cases_of(principal, r.department_id))

    def department_counts(self, principal: Principal) -> list[cases.DepartmentCounts]:
        departments = case_departments(principal)
        if departments is not None and not departments:
            return []
        return cases.department_counts(
            self.views, departments, today=self.today(), calendar=self.calendar
        )

    def case_page(self, principal: Principal, reference: str) -> CasePage:
        detail = cases.case_detail(
            self.views, reference, today=self.today(), calendar=self.calendar
        )
        if detail is None or not may_see_cases_of(principal, detail.case.department_id):
            raise NotFoundError(f"no case {reference}")
        found = (items.item_detail(self.views, str(i)) for i in detail.item_ids)
        return CasePage(detail, tuple(i for i in found if i is not None))

    # -- triage ----------------------------------------------------------------------------

    def triage_queue(
        self, principal: Principal, after: str | None = None, limit: int = 50
    ) -> items.ItemPage:
        if not may_triage(principal):
            raise NotFoundError("no triage queue")
        try:
            return items.triage_queue(self.views, after, limit)
        except InvalidCursorError:
            raise ServiceError("the page link is no longer valid", "invalid_cursor") from None

    def triage_item(self, principal: Principal, item_id: UUID | str) -> items.ItemDetail:
        detail = items.item_detail(self.views, str(item_id)) if may_triage(principal) else None
        if detail is None:
            raise NotFoundError(f"no item {item_id}")
        return detail

    # -- search and figures ------------------------------------------------------------

    def search(self, principal: Principal, q: str, limit: int = 50) -> list[search.SearchHit]:
        departments = case_departments(principal)
        if departments is not None and not departments:
            return []
        return search.search(self.views, q, departments, limit)

    def statistics(self, principal: Principal, days: int = 30) -> Statistics:
        departments = statistics_departments(principal)
        if departments is not None and not departments:
            raise NotFoundError("no statistics")
        today = self.today()
        return Statistics(
            departments=None if departments is None else tuple(sorted(departments)),
            intake=statistics.intake_per_day(self.views, departments, today=today, days=days),
            backlog=statistics.backlog_by_age(self.views, departments, today=today),
            deadlines=statistics.deadlines(
                self.views, departments, today=today, calendar=self.calendar
            ),
            routing=statistics.routing_rates(self.views, departments, today=today, days=days),
        )
