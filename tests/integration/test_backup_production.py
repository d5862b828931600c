"""The production backup procedure (docs/operations-backup.md) against the test PostgreSQL and
S3 server: `mailroom backup` while relay and workers run (pg_dump of the event store's schema,
the bucket copied with the minio client), `mailroom restore` into a fresh database and a fresh
bucket, and the restored install reconciles."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

from typer.testing import CliRunner

from mailroom.bootstrap import Mailroom, build
from mailroom.cli import app
from mailroom.config import Settings
from mailroom.reconcile import reconcile
from mailroom.services.intake import Receipt, Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.pdf_documents import text_pdf
from tests.harness.postgres import session_database
from tests.integration.stack import (
    ProcessGroup,
    all_visible,
    production_settings,
    settings_env,
    wait_until,
    worker_names,
)


def cli_env(settings: Settings) -> dict[str, str]:
    return {k: v for k, v in settings_env(settings).items() if k.startswith("MAILROOM_")}


def submit(mailroom: Mailroom, n: int) -> Receipt:
    pdf = text_pdf(f"Antrag auf eine Geburtsurkunde\nNummer {n}")
    return mailroom.intake.submit(submission(), [Upload("antrag.pdf", pdf)], uuid.uuid4().hex)


def test_a_production_backup_restores_into_a_fresh_database_and_bucket_that_reconcile(
    tmp_path: Path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
):
    """GIVEN a production stack (PostgreSQL, Kafka, S3; relay and workers running) with items
    WHEN it is backed up while running and restored into a new database and a new bucket
    THEN every item is found by reference and access code, its documents are intact, and the
    restored install reconciles with its event store."""
    old = production_settings(tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint)
    mailroom = build(old, clock=FakeClock())
    processes = ProcessGroup(old, tmp_path)
    processes.start_shared(worker_names(mailroom))
    try:
        receipts = [submit(mailroom, n) for n in range(3)]
        wait_until(lambda: all_visible(mailroom, receipts, "in_progress"), 120, "items routed")
        result = CliRunner().invoke(app, ["backup", str(tmp_path / "backup")], env=cli_env(old))
        assert result.exit_code == 0, result.output
    finally:
        processes.stop_all()
        mailroom.stop()
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["mode"] == "production" and manifest["schema"] == postgres_schema
    assert "events.dump" in manifest["files"] and manifest["counts"]["blobs"] == 3

    with session_database(postgres_url) as fresh_database:
        new = production_settings(
            tmp_path, fresh_database, postgres_schema, kafka_bootstrap, s3_endpoint
        )
        assert new.blob_store != old.blob_store
        result = CliRunner().invoke(app, ["restore", str(tmp_path / "backup")], env=cli_env(new))
        assert result.exit_code == 0, result.output

        restored = build(new, clock=FakeClock())
        try:
            for receipt in receipts:
                record = restored.status.lookup(receipt.reference, receipt.access_code, "test")
                assert record.status == "in_progress"
                for document in restored.app.get_item(receipt.item_id).documents:
                    content = restored.blobs.get(document.blob_key)
                    assert hashlib.sha256(content).hexdigest() == document.sha256
            assert reconcile(restored) == []
        finally:
            restored.stop()

        again = CliRunner().invoke(app, ["restore", str(tmp_path / "backup")], env=cli_env(new))
        assert again.exit_code == 1
        assert "is not empty" in again.output
