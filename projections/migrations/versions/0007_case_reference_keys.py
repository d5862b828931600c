"""Format-free lookup keys of case references, so that a follow-up citing its case sloppily
("Kundennr. 4711-0815" for ``KD-4711/0815``, "0234/2026" for ``63-BA-2026-0234``) finds it
(``routing.reference_lookup``). Filled for the cases already in the case directory.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from routing.reference_lookup import KEY_LENGTH, case_lookup_keys

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keys = op.create_table(
        "case_reference_keys",
        sa.Column("lookup_key", sa.String(KEY_LENGTH), primary_key=True),
        sa.Column("case_id", sa.String(36), primary_key=True),
    )
    cases = sa.table("case_directory", sa.column("case_id"), sa.column("reference"))
    rows = [
        {"lookup_key": key, "case_id": case_id}
        for case_id, reference in op.get_bind().execute(
            sa.select(cases.c.case_id, cases.c.reference)
        )
        for key in case_lookup_keys(reference)
    ]
    if rows:
        op.bulk_insert(keys, rows)


def downgrade() -> None:
    op.drop_table("case_reference_keys")
