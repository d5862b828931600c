"""The cases of the clerk workspace: ``CaseViewProjection`` (tables ``case_view`` and
``case_timeline``, in ``projections.case_view``) and its queries (``projections.case_queries``).
"""

from projections.case_queries import (
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
    case_detail,
    department_counts,
    my_cases,
    queue,
)
from projections.case_view import (
    CaseViewProjection,
    ProcessingDays,
    StaffName,
    case_timeline,
    case_view,
)
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
    "case_timeline",
    "case_view",
    "department_counts",
    "my_cases",
    "queue",
]
