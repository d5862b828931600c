"""Outgoing documents and citizen accounts; the status view learns which account a request
belongs to.

The status view is emptied (rows, versions, positions): its consumer rebuilds it from the
event store on the next start, so requests submitted before this version get their account
too. The other views are untouched.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("status_items", sa.Column("citizen_account_id", sa.String(200)))
    op.create_index("ix_status_items_citizen_account_id", "status_items", ["citizen_account_id"])
    op.execute("DELETE FROM status_timeline")
    op.execute("DELETE FROM status_items")
    op.execute("DELETE FROM view_versions WHERE projection = 'status'")
    op.execute("DELETE FROM projection_tracking WHERE name LIKE 'status@%'")
    op.create_table(
        "outgoing_documents",
        sa.Column("document_id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("case_reference", sa.String(40), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("recipient_address", sa.String(1000), nullable=False),
        sa.Column("citizen_account_id", sa.String(200)),
        sa.Column("requires_second_approval", sa.Boolean, nullable=False),
        sa.Column("drafted_by", sa.String(200), nullable=False),
        sa.Column("drafted_by_name", sa.String(200), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("approved_by_name", sa.String(200)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("blob_key", sa.String(200)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(10)),
        sa.Column("delivered_to", sa.String(200)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("print_reason", sa.String(40)),
        sa.Column("queued_at", sa.DateTime(timezone=True)),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("printed_at", sa.DateTime(timezone=True)),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("returned_reason", sa.String(40)),
        sa.Column("returned_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("case_reference", "state", "citizen_account_id", "delivered_to"):
        op.create_index(f"ix_outgoing_documents_{column}", "outgoing_documents", [column])
    op.create_table(
        "citizen_accounts",
        sa.Column("account_uuid", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(200), nullable=False, unique=True),
        sa.Column("digital_delivery", sa.Boolean, nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("citizen_accounts")
    for column in ("case_reference", "state", "citizen_account_id", "delivered_to"):
        op.drop_index(f"ix_outgoing_documents_{column}", table_name="outgoing_documents")
    op.drop_table("outgoing_documents")
    op.drop_index("ix_status_items_citizen_account_id", table_name="status_items")
    op.drop_column("status_items", "citizen_account_id")
