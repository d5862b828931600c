"""Which aggregate version each view has seen (for read-your-writes waits).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "view_versions",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("aggregate_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("view_versions")
