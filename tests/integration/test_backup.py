"""Backup and restore in the embedded mode: `mailroom backup` while the mailroom runs, then
`mailroom restore` into a new data directory gives an install that finds every item by
reference and access code, serves its documents and reconciles; bad input changes nothing."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailroom.backup import create_backup
from mailroom.bootstrap import Mailroom, build
from mailroom.cli import app
from mailroom.config import Settings
from mailroom.reconcile import reconcile
from mailroom.services.intake import Receipt, Upload
from projections.status import status_items
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.pdf_documents import text_pdf
from tests.integration.stack import all_visible, wait_until


def embedded(data_dir: Path) -> Settings:
    """No MAILROOM_SECRET_KEY: the secret is the data directory's secret.key, so access
    codes only keep working after a restore if the backup carried it along."""
    return Settings(data_dir=data_dir, consumer_retry_base_s=0.05, consumer_retry_max_s=1.0)


def env(data_dir: Path) -> dict[str, str]:
    return {"MAILROOM_DATA_DIR": str(data_dir), "MAILROOM_SECRET_KEY": ""}


def submit(mailroom: Mailroom, text: str) -> Receipt:
    pdf = text_pdf(f"Antrag auf eine Geburtsurkunde\n{text}")
    return mailroom.intake.submit(submission(), [Upload("antrag.pdf", pdf)], uuid.uuid4().hex)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Mailroom]:
    mailroom = build(embedded(tmp_path / "var"), clock=FakeClock())
    mailroom.start()
    yield mailroom
    mailroom.stop()


@pytest.fixture
def backup(running: Mailroom, tmp_path: Path) -> tuple[Path, list[Receipt]]:
    receipts = [submit(running, f"Nummer {n}") for n in range(3)]
    wait_until(lambda: all_visible(running, receipts, "in_progress"), 60, "items routed")
    result = CliRunner().invoke(
        app, ["backup", str(tmp_path / "backup")], env=env(running.settings.data_dir)
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "backup", receipts


def test_a_backup_taken_while_items_arrive_restores_into_an_install_that_reconciles(
    running: Mailroom, tmp_path: Path
):
    """GIVEN a running mailroom with routed items and submissions still arriving
    WHEN it is backed up and the backup restored into a new data directory
    THEN the new install finds every backed-up item by reference and access code, serves its
    documents, and reconciles with its event store."""
    receipts = [submit(running, f"Nummer {n}") for n in range(3)]
    wait_until(lambda: all_visible(running, receipts, "in_progress"), 60, "items routed")
    arriving: list[Receipt] = []
    stop = threading.Event()

    def keep_submitting() -> None:
        while not stop.is_set():
            arriving.append(submit(running, f"Nachzügler {len(arriving)}"))

    submitter = threading.Thread(target=keep_submitting)
    submitter.start()
    try:
        wait_until(lambda: len(arriving) >= 2, 60, "submissions arriving")
        manifest = create_backup(running.settings, tmp_path / "backup")
    finally:
        stop.set()
        submitter.join(timeout=60)
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["counts"]["blobs"] >= 3

    target = tmp_path / "restored"
    result = CliRunner().invoke(app, ["restore", str(tmp_path / "backup")], env=env(target))
    assert result.exit_code == 0, result.output
    restored = build(embedded(target), clock=FakeClock())
    try:
        in_backup = [r for r in receipts + arriving if restored.app.find_item(r.item_id)]
        assert len(in_backup) >= len(receipts) + 1, "items of the running mailroom are missing"
        for receipt in in_backup:
            record = restored.status.lookup(receipt.reference, receipt.access_code, "test")
            assert record.reference == receipt.reference
            for document in restored.app.get_item(receipt.item_id).documents:
                content = restored.blobs.get(document.blob_key)
                assert hashlib.sha256(content).hexdigest() == document.sha256
        assert reconcile(restored) == []
        assert not list(tmp_path.glob(".restored.*")), "a staging directory was left behind"
    finally:
        restored.stop()


def test_reconcile_command_reports_a_missing_blob(backup, tmp_path: Path):
    source, _ = backup
    target = tmp_path / "restored"
    assert CliRunner().invoke(app, ["restore", str(source)], env=env(target)).exit_code == 0
    assert CliRunner().invoke(app, ["reconcile"], env=env(target)).exit_code == 0
    next((target / "blobs").glob("sha256/*/*")).unlink()
    result = CliRunner().invoke(app, ["reconcile"], env=env(target))
    assert result.exit_code == 1
    assert "missing" in result.output


def test_a_corrupt_backup_is_refused_and_nothing_is_restored(backup, tmp_path: Path):
    source, _ = backup
    events = source / "events.sqlite"
    data = bytearray(events.read_bytes())
    data[len(data) // 2] ^= 0xFF
    events.write_bytes(bytes(data))
    target = tmp_path / "restored"
    result = CliRunner().invoke(app, ["restore", str(source)], env=env(target))
    assert result.exit_code == 1
    assert "events.sqlite does not match its checksum" in result.output
    assert not target.exists()
    assert not list(tmp_path.glob(".restored.*"))


def test_a_backup_with_a_file_missing_or_no_manifest_is_refused(backup, tmp_path: Path):
    source, _ = backup
    next((source / "blobs").glob("sha256/*/*")).unlink()
    result = CliRunner().invoke(app, ["restore", str(source)], env=env(tmp_path / "a"))
    assert result.exit_code == 1
    assert "backup is incomplete" in result.output
    result = CliRunner().invoke(
        app, ["restore", str(tmp_path / "nowhere")], env=env(tmp_path / "b")
    )
    assert result.exit_code == 1
    assert "not a backup directory" in result.output
    manifest = json.loads((source / "manifest.json").read_text())
    (source / "manifest.json").write_text(json.dumps({**manifest, "format": "other"}))
    result = CliRunner().invoke(app, ["restore", str(source)], env=env(tmp_path / "c"))
    assert result.exit_code == 1
    assert "not a version 1 mailroom backup" in result.output
    escape = {**manifest, "files": {"../outside": {"sha256": "0", "size": 0}}}
    (source / "manifest.json").write_text(json.dumps(escape))
    result = CliRunner().invoke(app, ["restore", str(source)], env=env(tmp_path / "d"))
    assert result.exit_code == 1
    assert "unexpected file '../outside'" in result.output


def test_restore_refuses_a_non_empty_data_directory_unless_forced(backup, tmp_path: Path):
    source, receipts = backup
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "events.sqlite").write_text("someone else's install")
    result = CliRunner().invoke(app, ["restore", str(source)], env=env(target))
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert (target / "events.sqlite").read_text() == "someone else's install"

    result = CliRunner().invoke(app, ["restore", str(source), "--force"], env=env(target))
    assert result.exit_code == 0, result.output
    restored = build(embedded(target))
    try:
        assert restored.status.lookup(receipts[0].reference, receipts[0].access_code, "t")
    finally:
        restored.stop()


def test_backup_refuses_a_non_empty_target(running: Mailroom, tmp_path: Path):
    target = tmp_path / "used"
    target.mkdir()
    (target / "x").write_text("x")
    result = CliRunner().invoke(app, ["backup", str(target)], env=env(running.settings.data_dir))
    assert result.exit_code == 1
    assert "is not an empty directory" in result.output


def test_reconcile_finds_a_status_view_that_disagrees_with_the_event_store(backup, tmp_path):
    source, receipts = backup
    target = tmp_path / "restored"
    assert CliRunner().invoke(app, ["restore", str(source)], env=env(target)).exit_code == 0
    restored = build(embedded(target))
    try:
        with restored.views.begin() as conn:
            conn.execute(
                status_items.update()
                .where(status_items.c.reference == receipts[0].reference)
                .values(status="decided")
            )
        (finding,) = reconcile(restored)
        assert finding.startswith("status view, table status_items: 1 rows missing")
    finally:
        restored.stop()


def test_a_production_backup_without_pg_dump_fails_in_one_line(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("mailroom.backup_postgres.shutil.which", lambda _tool: None)
    production = {
        "MAILROOM_DATA_DIR": str(tmp_path / "var"),
        "MAILROOM_EVENT_STORE": "postgresql://mailroom@127.0.0.1:1/mailroom?schema=city",
        "MAILROOM_BLOB_STORE": "s3://mailroom-blobs",
    }
    result = CliRunner().invoke(app, ["backup", str(tmp_path / "backup")], env=production)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: pg_dump not found: install the PostgreSQL client tools"
    )
    assert list(tmp_path.iterdir()) == [], "a partial backup was left behind"
