"""The mail items of the clerk workspace: ``ItemViewProjection`` (table ``item_view``, in
``projections.item_view``) and its queries (``projections.item_queries``)."""

from projections.item_queries import (
    CandidateInfo,
    DocumentInfo,
    FailureInfo,
    ItemDetail,
    ItemPage,
    ItemSummary,
    QualityIssueInfo,
    item_detail,
    items_of_case,
    triage_queue,
)
from projections.item_view import TEXT_LIMIT, ItemViewProjection, item_view
from projections.view_support import InvalidCursorError

__all__ = [
    "TEXT_LIMIT",
    "CandidateInfo",
    "DocumentInfo",
    "FailureInfo",
    "InvalidCursorError",
    "ItemDetail",
    "ItemPage",
    "ItemSummary",
    "ItemViewProjection",
    "QualityIssueInfo",
    "item_detail",
    "item_view",
    "items_of_case",
    "triage_queue",
]
