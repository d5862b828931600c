"""Failures of the machine, not of the letter, reach the caller unchanged (so that it can
retry later) instead of becoming a flag or an OcrError that blames the document."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from pytesseract import pytesseract

from ocr import OcrEngine, OcrOptions
from ocr.page_pipeline import PageJob, read_page
from ocr.sniff import FileKind
from tests.fixtures import ocr_documents, scans
from tests.fixtures.ocr_documents import engine_with_document_task


def disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def letter_job(tmp_path: Path) -> PageJob:
    source = tmp_path / "source"
    source.write_bytes(scans.png_bytes(scans.letter_page()))
    return PageJob(source, FileKind.PNG, 0, OcrOptions(page_timeout_s=60), work_dir=tmp_path)


def test_a_full_disk_while_reading_a_page_propagates(
    letter_job: PageJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ocr.page_pipeline.recognise", disk_full)

    with pytest.raises(OSError) as caught:
        read_page(letter_job)

    assert caught.value.errno == errno.ENOSPC


def test_running_out_of_memory_on_a_page_propagates(
    letter_job: PageJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_memory(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr("ocr.page_pipeline.binarise", no_memory)

    with pytest.raises(MemoryError):
        read_page(letter_job)


def test_any_other_failure_on_a_page_makes_that_page_unreadable(
    letter_job: PageJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a step failing with an exception nobody expected (here a numpy-style
    ValueError) WHEN the page is read THEN its outcome names the cause; nothing is raised."""

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr("ocr.page_pipeline.recognise", broken)

    outcome = read_page(letter_job)

    assert outcome.failure is not None
    assert outcome.failure.code == "page_unreadable"
    assert "ValueError: operands could not be broadcast" in outcome.failure.reason


def test_a_full_disk_while_building_the_searchable_pdf_propagates(tmp_path: Path) -> None:
    """It used to be swallowed with the other OSErrors, leaving the item without its PDF."""
    target = tmp_path / "searchable.pdf"
    with (
        engine_with_document_task(ocr_documents.disk_full_writing_the_pdf) as engine,
        pytest.raises(OSError) as caught,
    ):
        engine.read(scans.png_bytes(scans.letter_page()), searchable_pdf_to=target)

    assert caught.value.errno == errno.ENOSPC
    assert not target.exists()


def test_a_full_disk_in_the_document_worker_propagates() -> None:
    with (
        engine_with_document_task(ocr_documents.disk_full_counting_pages) as engine,
        pytest.raises(OSError) as caught,
    ):
        engine.read(scans.png_bytes(scans.letter_page()))

    assert caught.value.errno == errno.ENOSPC


def test_a_missing_tesseract_binary_propagates_instead_of_failing_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN workers started without tesseract on the PATH WHEN a scan is read THEN
    TesseractNotFoundError reaches the caller (it used to arrive as a dead worker, so the
    letter was flagged unreadable)."""
    monkeypatch.setenv("PATH", str(tmp_path))

    with (
        OcrEngine(OcrOptions(jobs=1, page_timeout_s=60)) as engine,
        pytest.raises(pytesseract.TesseractNotFoundError),
    ):
        engine.read(scans.png_bytes(scans.letter_page()))
