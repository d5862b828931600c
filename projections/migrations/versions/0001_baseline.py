"""Baseline: the views that existed before migrations (status, case directory, health).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_tracking",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "status_items",
        sa.Column("item_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("access_code_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(500)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("item_version", sa.Integer, nullable=False),
        sa.Column("department_id", sa.String(100)),
        sa.Column("case_reference", sa.String(40)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "status_timeline",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
    )
    op.create_index("ix_status_timeline_item_id", "status_timeline", ["item_id"])
    op.create_table(
        "case_directory",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(60), nullable=False),
        sa.Column("reference_key", sa.String(60), nullable=False),
        sa.Column("department_id", sa.String(100), nullable=False),
        sa.Column("party", sa.String(300), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("case_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_case_directory_reference_key", "case_directory", ["reference_key"])
    op.create_table(
        "consumer_health",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("error", sa.String(100), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "consumer_health",
        "case_directory",
        "status_timeline",
        "status_items",
        "projection_tracking",
    ):
        op.drop_table(table)
