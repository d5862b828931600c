"""Saved filters of the department queues: a person's named query strings per department.

User preferences, not a read model: no projection clears them, a rebuild keeps them
(``mailroom.web.saved_filters``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("principal_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("department_id", sa.String(100), nullable=False),
        sa.Column("query", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_saved_filters_owner",
        "saved_filters",
        ["principal_id", "department_id", "name"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_saved_filters_owner", table_name="saved_filters")
    op.drop_table("saved_filters")
