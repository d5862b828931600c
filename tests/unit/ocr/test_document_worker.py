"""The document worker: what opens a document runs there, and its crashes, hangs and
failures reach the caller as page failures do, naming the document instead of a page."""

from __future__ import annotations

import io
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
