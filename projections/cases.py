"""The cases of the clerk workspace, in one place: ``CaseViewProjection``
(``projections.case_view``), its tables ``case_view`` and ``case_timeline``
(``projections.case_tables``), the rows and deadline flags (``projections.case_rows``) and the
queries (``projections.case_queries``)."""

from projections.case_queries import case_detail, department_counts, my_cases, queue
from projections.case_rows import (
    ACTIVE,
    AT_RISK_MAX_DAYS,
    FLAGS,
    NO_ASSIGNEE,
    SORTS,
    CaseDetail,
    CaseRow,
    DepartmentCounts,
    QueueFilter,
    QueuePage,
    TimelineEntry,
    at_risk_days,
    case_row,
)
from projections.case_tables import case_timeline, case_view
from projections.case_view import CaseViewProjection, ProcessingDays, StaffName
from projections.view_support import InvalidCursorError

__all__ = [
    "ACTIVE",
    "AT_RISK_MAX_DAYS",
    "FLAGS",
    "NO_ASSIGNEE",
    "SORTS",
    "CaseDetail",
    "CaseRow",
    "CaseViewProjection",
    "DepartmentCounts",
    "InvalidCursorError",
    "ProcessingDays",
    "QueueFilter",
    "QueuePage",
    "StaffName",
    "TimelineEntry",
    "at_risk_days",
    "case_detail",
    "case_row",
    "case_timeline",
    "case_view",
    "department_counts",
    "my_cases",
    "queue",
]
