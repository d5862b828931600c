"""Operators' commands: ``mailroom item show`` and ``mailroom blobs gc``."""

from __future__ import annotations

import json
import os
import time

from typer.testing import CliRunner

from mailroom.bootstrap import Mailroom
from mailroom.cli import app
from mailroom.services.intake import Upload
from tests.fixtures import ocr_documents
from tests.fixtures.builders import submission
from tests.fixtures.documents import text_pdf
from tests.integration.test_poison import station_of


def run(mailroom: Mailroom, monkeypatch, *args: str):
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", mailroom.settings.secret_key.get_secret_value())
    return CliRunner().invoke(app, list(args))


def test_item_show_prints_the_state_of_a_triaged_scan_with_each_documents_ocr_outcome(
    mailroom, monkeypatch
):
    station = station_of(mailroom)
    receipt = mailroom.intake.scan(
        station,
        [
            Upload("speck.png", ocr_documents.speck_png()),
            Upload("brief.pdf", text_pdf("Sehr geehrte Damen und Herren, anbei mein Antrag.")),
        ],
        None,
    )
    mailroom.runner.run_until_idle()
    shown = run(mailroom, monkeypatch, "item", "show", receipt.reference.lower(), "--json")
    assert shown.exit_code == 0, shown.output
    state = json.loads(shown.output)
    assert state["reference"] == receipt.reference and state["status"] == "triage"
    assert state["triage"]["reason"] == "rescan"
    assert state["triage"]["reason_text"] == "Bitte neu scannen oder von Hand erfassen"
    speck, letter = state["documents"]
    assert speck["ocr"]["outcome"] == "read" and "blank_page" in speck["ocr"]["quality_issues"]
    assert letter["ocr"]["method"] == "text-layer"
    text = run(mailroom, monkeypatch, "item", "show", receipt.reference)
    assert "status:     triage" in text.output and "speck.png" in text.output


def test_item_show_of_a_routed_submission_names_department_and_case(mailroom, monkeypatch):
    receipt = mailroom.intake.submit(submission(), [], None)
    mailroom.runner.run_until_idle()
    state = json.loads(
        run(mailroom, monkeypatch, "item", "show", receipt.reference, "--json").output
    )
    assert (state["status"], state["department"], state["case"]) == (
        "routed",
        "standesamt",
        receipt.reference,
    )


def test_item_show_of_an_unknown_reference_fails_with_a_message(mailroom, monkeypatch):
    missing = run(mailroom, monkeypatch, "item", "show", "LIN-2026-0000-0000")
    assert missing.exit_code != 0
    bad = run(mailroom, monkeypatch, "item", "show", "kein-zeichen")
    assert bad.exit_code == 2 and "error:" in bad.output


def test_blobs_gc_removes_only_old_blobs_that_no_event_references(mailroom, monkeypatch):
    kept = mailroom.intake.submit(submission(), [Upload("a.pdf", text_pdf("Antrag"))], None)
    orphan = mailroom.blobs.put(b"%PDF-1.4 left behind by a failed request")
    young = mailroom.blobs.put(b"%PDF-1.4 being written right now")
    old = time.time() - 3 * 86400
    root = mailroom.settings.data_dir / "blobs"
    for ref in (orphan,):
        os.utime(root / ref.key, (old, old))
    referenced = mailroom.app.get_item(kept.item_id).documents[0].blob_key
    os.utime(root / referenced, (old, old))

    dry = run(mailroom, monkeypatch, "blobs", "gc", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would remove {orphan.key}" in dry.output and young.key not in dry.output
    assert mailroom.blobs.exists(orphan.key)
    done = run(mailroom, monkeypatch, "blobs", "gc")
    assert "1 unreferenced blobs" in done.output
    assert not mailroom.blobs.exists(orphan.key)
    assert mailroom.blobs.exists(referenced) and mailroom.blobs.exists(young.key)


def test_mailroom_ocr_reads_the_speck_png_that_used_to_end_in_a_traceback(tmp_path):
    speck = tmp_path / "speck.png"
    speck.write_bytes(ocr_documents.speck_png())
    result = CliRunner().invoke(app, ["ocr", str(speck), "--json", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("{")]
    assert {flag["code"] for flag in json.loads(line)["flags"]} >= {"blank_page"}
