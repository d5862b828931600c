"""The document worker: what opens a document runs there, and its crashes, hangs and
failures reach the caller as page failures do, naming the document instead of a page."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from ocr import OCR, TEXT_LAYER, OcrEngine, OcrError
from tests.fixtures import ocr_documents, scans
from tests.fixtures.ocr_documents import engine_with_document_task


def test_the_searchable_pdf_goes_to_the_callers_file_and_no_bytes_come_back(
    shared_engine: OcrEngine, tmp_path: Path
) -> None:
    """GIVEN a two-page scan WHEN read with ``searchable_pdf_to`` THEN that file is a
    two-page PDF whose text layer carries the letter, and ``searchable_pdf`` is None."""
    target = tmp_path / "out" / "searchable.pdf"
    target.parent.mkdir()

    result = shared_engine.read(
        scans.scan_pdf_bytes([scans.letter_page(), scans.letter_page()]), searchable_pdf_to=target
    )

    assert result.searchable_pdf is None
    assert result.searchable_pdf_path == target
    written = PdfReader(target)
    assert len(written.pages) == 2
    assert "Personalausweis" in written.pages[1].extract_text()
    assert [path.name for path in target.parent.iterdir()] == ["searchable.pdf"]


def test_without_a_path_the_searchable_pdf_comes_back_as_bytes(shared_engine: OcrEngine) -> None:
    result = shared_engine.read(scans.png_bytes(scans.letter_page()))

    assert result.searchable_pdf_path is None
    assert result.searchable_pdf is not None
    assert len(PdfReader(io.BytesIO(result.searchable_pdf)).pages) == 1


def test_a_text_layer_document_writes_no_searchable_pdf(
    shared_engine: OcrEngine, tmp_path: Path
) -> None:
    target = tmp_path / "searchable.pdf"

    result = shared_engine.read(
        scans.born_digital_pdf_bytes([scans.LETTER_LINES]), searchable_pdf_to=target
    )

    assert result.method == TEXT_LAYER
    assert result.searchable_pdf_path is None
    assert not target.exists()


def test_a_crashed_inspection_makes_the_document_unreadable() -> None:
    with (
        engine_with_document_task(ocr_documents.crashing) as engine,
        pytest.raises(OcrError) as caught,
    ):
        engine.read(scans.png_bytes(scans.letter_page()))

    assert caught.value.code == "document_unreadable"
    assert "document worker died" in str(caught.value)


def test_a_hung_inspection_makes_the_document_unreadable() -> None:
    with (
        engine_with_document_task(ocr_documents.hanging, page_timeout_s=1.0) as engine,
        pytest.raises(OcrError) as caught,
    ):
        engine.read(scans.png_bytes(scans.letter_page()))

    assert caught.value.code == "document_unreadable"
    assert "no answer from the document worker" in str(caught.value)


def test_a_crash_while_writing_the_searchable_pdf_costs_only_the_pdf(tmp_path: Path) -> None:
    """GIVEN a document worker that dies half-way through the searchable PDF WHEN a scan is
    read THEN its text comes back without a PDF, no half-written file is left, and a new
    worker serves the next document."""
    target = tmp_path / "searchable.pdf"
    with engine_with_document_task(ocr_documents.crashing_on_the_pdf) as engine:
        result = engine.read(scans.png_bytes(scans.letter_page()), searchable_pdf_to=target)
        following = engine.read(scans.born_digital_pdf_bytes([scans.LETTER_LINES]))

    assert result.method == OCR
    assert "Personalausweis" in result.text
    assert result.searchable_pdf_path is None
    assert not target.exists()
    assert following.method == TEXT_LAYER


def test_pypdfs_warnings_in_a_worker_come_out_through_the_callers_logging(
    shared_engine: OcrEngine, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a PDF that pypdf repairs (its catalog names /Pages twice) read in the worker
    THEN pypdf's warnings reach the caller's loggers, as the worker's own records do (in
    the mailroom: JSON lines at its log level), and none is printed raw on stderr by the
    worker process."""
    pdf = scans.born_digital_pdf_bytes([scans.LETTER_LINES])
    catalog = re.search(rb"<<\s*/Type\s*/Catalog\s*/Pages\s+(\d+) 0 R\s*>>", pdf)
    assert catalog is not None
    twice = f"<< /Pages {catalog[1].decode()} 0 R /Pages {catalog[1].decode()} 0 R".encode()
    broken = pdf.replace(catalog[0], twice.ljust(len(catalog[0]) - 2) + b">>")
    assert len(broken) == len(pdf)
    capfd.readouterr()
    caplog.set_level(logging.WARNING, logger="pypdf")
    shared_engine.read(broken)
    from_pypdf = [r for r in caplog.records if r.name.startswith("pypdf")]
    assert any("Multiple definitions" in r.getMessage() for r in from_pypdf)
    assert all(r.processName != "MainProcess" for r in from_pypdf)
    assert "Multiple definitions" not in capfd.readouterr().err
