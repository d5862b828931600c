"""The tables of the case view: one row per case (``case_view``, with the indexes the queue
pages by) and its timeline (``case_timeline``). Created by migration 0003."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, String, Table, Text

from projections.database import metadata

case_view = Table(
    "case_view",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("reference", String(60), nullable=False),
    Column("department_id", String(100), nullable=False),
    Column("service_key", String(200)),
    Column("subject", String(500), nullable=False),
    Column("party", String(300), nullable=False),
    Column("address", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("assignee_id", String(100)),
    Column("assignee_name", String(300)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("processing_days", Integer, nullable=False),
    Column("extension_days", Integer, nullable=False),
    Column("paused_since", Date),
    Column("paused_days", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("info_due_on", Date),
    Column("outcome", String(200)),  # a code; v1 events stored free text
    Column("closed_at", DateTime(timezone=True)),
    Column("item_count", Integer, nullable=False),
    Column("last_activity_at", DateTime(timezone=True), nullable=False),
    Column("case_version", Integer, nullable=False),
    Index("ix_case_view_reference", "reference", unique=True),
    Index("ix_case_view_queue_due", "department_id", "status", "due_on", "case_id"),
    Index("ix_case_view_queue_opened", "department_id", "status", "opened_at", "case_id"),
    Index("ix_case_view_queue_reference", "department_id", "status", "reference", "case_id"),
    Index("ix_case_view_assignee", "assignee_id", "status", "due_on", "case_id"),
)

case_timeline = Table(
    "case_timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor_id", String(100)),
    Column("actor_name", String(300)),
    Column("data", Text, nullable=False),
    Index("ix_case_timeline_case_version", "case_id", "version", unique=True),
)
