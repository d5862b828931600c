"""One bad letter must never stop the mailroom: for any bytes, ``OcrEngine.read`` returns a
result or raises OcrError, and a bad page spoils only itself."""

from __future__ import annotations

import logging
import time

import pytest

from ocr import OCR, TEXT_LAYER, OcrEngine, OcrError
from tests.fixtures import ocr_documents, scans
from tests.fixtures.ocr_documents import engine_with_document_task

LETTER_WORDS = ("Lindenau", "Personalausweis", "freundlichen")


def codes(result: object) -> set[str]:
    return {flag.code for flag in getattr(result, "flags", ())}


@pytest.mark.parametrize(
    "data", [ocr_documents.speck_png(), ocr_documents.noise_png()], ids=["speck", "noise"]
)
def test_an_image_whose_raster_starts_with_a_whitespace_byte_is_read_as_blank(
    shared_engine: OcrEngine, data: bytes
) -> None:
    """GIVEN a blank page with one black pixel at (2, 0), or noise that binarises to a raster
    starting with a PNM whitespace byte WHEN read THEN no Tesseract error: a blank page."""
    result = shared_engine.read(data)

    assert result.text == ""
    assert codes(result) == {"blank_page", "no_text"}


def test_a_short_text_layer_over_a_full_page_scan_is_distrusted_and_the_scan_read(
    shared_engine: OcrEngine,
) -> None:
    """GIVEN a page with a one-line text layer beside an image covering it (a scan with a
    stamp) WHEN read THEN the page is read by OCR, the letter's words included."""
    result = shared_engine.read(ocr_documents.scan_beside_text_pdf(image_box=(0, 0, 595, 842)))

    (page,) = result.pages
    assert page.method == OCR
    assert all(word in page.text for word in LETTER_WORDS)


def test_a_short_text_layer_beside_a_small_image_is_trusted(shared_engine: OcrEngine) -> None:
    result = shared_engine.read(ocr_documents.scan_beside_text_pdf(image_box=(400, 700, 150, 120)))

    assert result.method == TEXT_LAYER
    assert result.pages[0].text == ocr_documents.CAPTION


def test_a_text_page_with_a_logo_and_a_scanned_page_are_each_read_their_own_way(
    shared_engine: OcrEngine,
) -> None:
    result = shared_engine.read(ocr_documents.mixed_pdf())

    assert [page.method for page in result.pages] == [TEXT_LAYER, OCR]
    assert result.pages[0].text.startswith(ocr_documents.CAPTION)
    assert all(word in result.pages[1].text for word in LETTER_WORDS)
    assert result.flags == ()
    assert result.searchable_pdf is not None


def test_a_page_with_a_broken_image_is_flagged_and_the_other_pages_are_read(
    shared_engine: OcrEngine,
) -> None:
    """GIVEN three scanned pages, the middle image XObject declaring 1×1 pixels WHEN read
    THEN pages 1 and 3 are read and only page 2 is flagged."""
    result = shared_engine.read(ocr_documents.broken_page_pdf())

    assert all(word in result.pages[0].text for word in LETTER_WORDS)
    assert all(word in result.pages[2].text for word in LETTER_WORDS)
    assert result.pages[1].text == ""
    assert {(flag.code, flag.page) for flag in result.flags} <= {
        ("page_unreadable", 2),
        ("blank_page", 2),
    }
    assert result.flags


def test_a_page_whose_text_layer_cannot_be_extracted_is_read_by_ocr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GIVEN a two-page born-digital PDF WHEN pypdf fails on page 2 with a KeyError (in the
    document worker) THEN page 1 keeps its text layer, page 2 is read by OCR, and the
    worker's log record reaches the caller's loggers."""
    caplog.set_level(logging.INFO, logger="ocr")
    with engine_with_document_task(ocr_documents.text_layer_failing_on_page_two) as engine:
        result = engine.read(scans.born_digital_pdf_bytes([scans.LETTER_LINES] * 2))

    assert [page.method for page in result.pages] == [TEXT_LAYER, OCR]
    assert "Personalausweis" in result.pages[1].text
    (record,) = [r for r in caplog.records if "text layer unreadable" in r.getMessage()]
    assert record.getMessage() == "page 2: text layer unreadable: KeyError: '/Widths'"
    assert record.processName != "MainProcess"


def test_an_unexpected_failure_of_the_document_becomes_document_unreadable() -> None:
    with (
        engine_with_document_task(ocr_documents.garbled_counting_pages) as engine,
        pytest.raises(OcrError) as caught,
    ):
        engine.read(scans.png_bytes(scans.letter_page()))

    assert caught.value.code == "document_unreadable"
    assert "unpack requires" in str(caught.value)
    assert caught.value.german_message


def test_a_60_page_born_digital_pdf_is_read_from_its_text_layer_in_seconds(
    shared_engine: OcrEngine,
) -> None:
    """It was reported at 4.5 minutes; it takes about 0.1 s (no page is rasterised). The
    bound is loose on purpose: on a loaded two-core CI machine it once took 22 s."""
    data = scans.born_digital_pdf_bytes([scans.LETTER_LINES] * 60)

    started = time.monotonic()
    result = shared_engine.read(data)

    assert time.monotonic() - started < 60
    assert result.method == TEXT_LAYER
    assert len(result.pages) == 60
    assert result.flags == ()
