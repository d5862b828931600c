"""Failed status checks, for the guessing limit shared by every API process and kept
across restarts (``mailroom.services.status_limit``): one row per failure, kept for the
window. Not a read model: no projection clears it, a rebuild keeps it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(40)),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_status_failures_address", "status_failures", ["address", "failed_at"])
    op.create_index("ix_status_failures_reference", "status_failures", ["reference", "failed_at"])
    op.create_index("ix_status_failures_failed_at", "status_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_status_failures_failed_at", table_name="status_failures")
    op.drop_index("ix_status_failures_reference", table_name="status_failures")
    op.drop_index("ix_status_failures_address", table_name="status_failures")
    op.drop_table("status_failures")
