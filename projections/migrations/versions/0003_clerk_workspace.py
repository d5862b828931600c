"""The clerk workspace: case view and timeline, item view, full-text search.

Full text differs per database: PostgreSQL gets a generated ``tsvector`` column (german
configuration) with a GIN index; SQLite an FTS5 table over ``search_documents`` kept in step
by triggers. Neither is in the SQLAlchemy metadata (``projections.search.FULL_TEXT_OBJECTS``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_FTS_COLUMNS = "reference, case_reference, subject, sender, body"
_DOCUMENT = (
    "setweight(to_tsvector('german'::regconfig,"
    " coalesce(reference, '') || ' ' || coalesce(case_reference, '')), 'A')"
    " || setweight(to_tsvector('german'::regconfig, subject || ' ' || sender), 'B')"
    " || setweight(to_tsvector('german'::regconfig, body), 'D')"
)


def upgrade() -> None:
    _case_view()
    _case_timeline()
    _item_view()
    _search_documents()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_full_text()
    else:
        _sqlite_full_text()


def _case_view() -> None:
    op.create_table(
        "case_view",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(60), nullable=False),
        sa.Column("department_id", sa.String(100), nullable=False),
        sa.Column("service_key", sa.String(200)),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("party", sa.String(300), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assignee_id", sa.String(100)),
        sa.Column("assignee_name", sa.String(300)),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("processing_days", sa.Integer, nullable=False),
        sa.Column("extension_days", sa.Integer, nullable=False),
        sa.Column("paused_since", sa.Date),
        sa.Column("paused_days", sa.Integer, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("info_due_on", sa.Date),
        sa.Column("outcome", sa.String(200)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_case_view_reference", "case_view", ["reference"], unique=True)
    for name, columns in (
        ("ix_case_view_queue_due", ["department_id", "status", "due_on", "case_id"]),
        ("ix_case_view_queue_opened", ["department_id", "status", "opened_at", "case_id"]),
        ("ix_case_view_queue_reference", ["department_id", "status", "reference", "case_id"]),
        ("ix_case_view_assignee", ["assignee_id", "status", "due_on", "case_id"]),
    ):
        op.create_index(name, "case_view", columns)


def _case_timeline() -> None:
    op.create_table(
        "case_timeline",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor_id", sa.String(100)),
        sa.Column("actor_name", sa.String(300)),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_case_timeline_case_version", "case_timeline", ["case_id", "version"], unique=True
    )


def _item_view() -> None:
    op.create_table(
        "item_view",
        sa.Column("item_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("department_id", sa.String(100)),
        sa.Column("case_id", sa.String(36)),
        sa.Column("case_reference", sa.String(60)),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("sender_name", sa.String(300), nullable=False),
        sa.Column("sender_address", sa.String(500), nullable=False),
        sa.Column("documents", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("min_confidence", sa.Float),
        sa.Column("quality_issues", sa.Text, nullable=False),
        sa.Column("extraction_failures", sa.Text, nullable=False),
        sa.Column("triage_code", sa.String(40)),
        sa.Column("triage_detail", sa.Text),
        sa.Column("candidates", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("misdirected", sa.Boolean, nullable=False),
        sa.Column("addressee", sa.String(300)),
        sa.Column("decision_note", sa.Text),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("routing_method", sa.String(40)),
        sa.Column("routing_confidence", sa.Float),
        sa.Column("routing_explanation", sa.Text),
        sa.Column("rerouted", sa.Boolean, nullable=False),
        sa.Column("item_version", sa.Integer, nullable=False),
    )
    for name, columns in (
        ("ix_item_view_triage", ["status", "received_at", "item_id"]),
        ("ix_item_view_intake", ["department_id", "received_on", "channel"]),
        ("ix_item_view_received_on", ["received_on", "channel"]),
        ("ix_item_view_case_id", ["case_id"]),
    ):
        op.create_index(name, "item_view", columns)


def _search_documents() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), nullable=False, unique=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("case_id", sa.String(36)),
        sa.Column("case_reference", sa.String(60)),
        sa.Column("department_id", sa.String(100)),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("sender", sa.String(800), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("text_parts", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_search_documents_department_id", "search_documents", ["department_id"])


def _postgres_full_text() -> None:
    op.execute(
        "ALTER TABLE search_documents ADD COLUMN document tsvector"
        f" GENERATED ALWAYS AS ({_DOCUMENT}) STORED"
    )
    op.execute("CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)")


def _sqlite_full_text() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE search_fts USING fts5({_FTS_COLUMNS},"
        " content='search_documents', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 2')"
    )
    new = "new.id, new.reference, new.case_reference, new.subject, new.sender, new.body"
    old = "old.id, old.reference, old.case_reference, old.subject, old.sender, old.body"
    insert_new = f"INSERT INTO search_fts(rowid, {_FTS_COLUMNS}) VALUES ({new});"  # noqa: S608
    delete_old = (
        f"INSERT INTO search_fts(search_fts, rowid, {_FTS_COLUMNS})"  # noqa: S608
        f" VALUES ('delete', {old});"
    )
    op.execute(
        "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents"
        f" BEGIN {insert_new} END"
    )
    op.execute(
        "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents"
        f" BEGIN {delete_old} END"
    )
    op.execute(
        f"CREATE TRIGGER search_documents_au AFTER UPDATE OF {_FTS_COLUMNS} ON search_documents"
        f" BEGIN {delete_old} {insert_new} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("search_documents_au", "search_documents_ad", "search_documents_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    for table in ("search_documents", "item_view", "case_timeline", "case_view"):
        op.drop_table(table)
