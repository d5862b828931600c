"""``mailroom ocr``: JSON per file, an error line for bad files, non-zero exit at the end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mailroom.cli import app
from tests.fixtures import scans


def test_ocr_json_reads_good_files_and_reports_bad_ones(tmp_path: Path) -> None:
    """GIVEN a born-digital PDF, a file that is a ZIP and a missing file WHEN ``mailroom ocr
    --json`` runs THEN the good file's text is printed, each bad one gets an error, exit 1."""
    letter = tmp_path / "brief.pdf"
    letter.write_bytes(scans.born_digital_pdf_bytes([scans.LETTER_LINES]))
    zipped = tmp_path / "scan.pdf"
    zipped.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    missing = tmp_path / "missing.pdf"

    run = CliRunner().invoke(
        app, ["ocr", "--json", "--jobs", "1", str(letter), str(zipped), str(missing)]
    )

    assert run.exit_code == 1
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    by_file = {Path(line["file"]).name: line for line in lines}
    assert by_file["brief.pdf"]["method"] == "text-layer"
    assert "Bürgerbüro" in by_file["brief.pdf"]["pages"][0]["text"]
    assert set(by_file["brief.pdf"]["pages"][0]) >= {"text", "confidence", "rotation"}
    assert "ZIP archive" in by_file["scan.pdf"]["error"]
    assert by_file["missing.pdf"]["error"] == "no such file"


def test_ocr_text_output_for_a_scan(tmp_path: Path) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(scans.png_bytes(scans.turned(scans.letter_page(), 180)))

    run = CliRunner().invoke(app, ["ocr", "--jobs", "1", str(scan)])

    assert run.exit_code == 0, run.output
    assert "rotation 180" in run.stdout
    assert "Personalausweis" in run.stdout
