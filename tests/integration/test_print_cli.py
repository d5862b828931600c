"""``mailroom print``: the print street on the command line — a batch PDF with its manifest
beside it, marking it printed, returned letters; bad input named, exit codes non-zero."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from aggregates.outgoing_document import DocumentState
from aggregates.values import Applicant
from mailroom.auth.principal import Principal, Role
from mailroom.bootstrap import build
from mailroom.cli import app
from mailroom.config import Settings
from tests.fixtures.builders import submission

ERIKA = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
JONAS = Principal(
    "staff:jonas", "jonas", "Jonas Lind", frozenset({Role.CLERK}), frozenset({"standesamt"})
)


@pytest.fixture
def queued(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list:
    """Two Bescheide waiting for print, in the data dir the CLI will use."""
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", settings.secret_key.get_secret_value())
    mailroom = build(settings)
    ids = []
    try:
        for _ in range(2):
            applicant = Applicant(name="Eva Musterfrau", address="Lindenallee 1, 59999 Lindenau")
            receipt = mailroom.intake.submit(submission(applicant=applicant), [], uuid4().hex)
            mailroom.runner.run_until_idle()
            case = mailroom.app.find_case(mailroom.app.get_item(receipt.item_id).case_id)
            drafted = mailroom.services.letters.draft(
                ERIKA, case.reference, "bescheid", {"decision": "Ja.", "reasoning": "Weil."}
            )
            mailroom.services.letters.approve(JONAS, drafted.id)
            mailroom.runner.run_until_idle()
            ids.append(drafted.id)
    finally:
        mailroom.stop()
    return ids


def test_print_batch_writes_the_pdf_and_its_manifest_and_done_marks_each_letter(
    queued, settings, tmp_path
):
    out = tmp_path / "stapel.pdf"
    result = CliRunner().invoke(app, ["print", "batch", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 letters" in result.output and "sheets" in result.output
    manifest = json.loads(out.with_suffix(".json").read_text())["letters"]
    assert {m["letter_id"] for m in manifest} == {str(i) for i in queued}
    assert all(m["pages"] and m["sheets"] and m["recipient"] for m in manifest)
    assert len(PdfReader(out).pages) == 2 * sum(m["sheets"] for m in manifest)
    batch_id = result.output.split("mailroom print done ")[1].split()[0]
    done = CliRunner().invoke(app, ["print", "done", batch_id])
    assert done.exit_code == 0, done.output
    returned = CliRunner().invoke(
        app, ["print", "returned", str(queued[0]), "--reason", "moved", "--note", "verzogen"]
    )
    assert returned.exit_code == 0, returned.output
    mailroom = build(settings)
    try:
        states = [mailroom.app.find_document(i).state for i in queued]
    finally:
        mailroom.stop()
    assert states == [DocumentState.RETURNED, DocumentState.PRINTED]


def test_bad_input_is_named_and_changes_nothing(queued, tmp_path):
    runner = CliRunner()
    wrong_suffix = runner.invoke(app, ["print", "batch", "--out", str(tmp_path / "x.txt")])
    assert wrong_suffix.exit_code == 2 and "must name a .pdf file" in wrong_suffix.output
    no_folder = runner.invoke(app, ["print", "batch", "--out", str(tmp_path / "no" / "x.pdf")])
    assert no_folder.exit_code == 2 and "does not exist" in no_folder.output
    assert runner.invoke(app, ["print", "batch", "--out", str(tmp_path / "a.pdf")]).exit_code == 0
    empty = runner.invoke(app, ["print", "batch", "--out", str(tmp_path / "b.pdf")])
    assert empty.exit_code == 1 and "no letters are waiting for print" in empty.output
    assert not (tmp_path / "b.pdf").exists()
    bad_id = runner.invoke(app, ["print", "done", "not-a-uuid"])
    assert bad_id.exit_code == 2 and "is not a batch id" in bad_id.output
    bad_reason = runner.invoke(app, ["print", "returned", str(queued[0]), "--reason", "lost"])
    assert bad_reason.exit_code == 1 and "error:" in bad_reason.output
