"""The OCR engine end to end on synthetic scans, with real Tesseract.

One engine (two worker processes) serves the whole module; pages are 150 dpi to stay fast.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from ocr import OCR, TEXT_LAYER, OcrEngine, OcrError, OcrOptions, OcrResult
from tests.fixtures import scans

EXPECTED_WORDS = ("Lindenau", "Personalausweis", "Bürgerbüro", "freundlichen", "Grüßen")


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrEngine]:
    with OcrEngine(OcrOptions(jobs=2, page_timeout_s=60)) as shared:
        yield shared


def assert_reads_the_letter(text: str) -> None:
    missing = [word for word in EXPECTED_WORDS if word not in text]
    assert not missing, f"missing {missing} in {text!r}"


def test_a_dirty_skewed_png_is_read_upright_and_deskewed(engine: OcrEngine) -> None:
    """GIVEN a grey, dusty page scanned 1.2° askew WHEN read THEN its words and skew come out."""
    page = scans.dirtied(scans.skewed(scans.letter_page(), 1.2))

    result = engine.read(scans.png_bytes(page))

    assert result.method == OCR
    (only,) = result.pages
    assert_reads_the_letter(only.text)
    assert only.rotation == 0
    assert only.skew == pytest.approx(-1.2, abs=0.2)
    assert only.confidence > 80
    assert result.flags == ()


def test_an_upside_down_scan_pdf_is_turned_and_made_searchable(engine: OcrEngine) -> None:
    """GIVEN an image-only PDF fed upside down WHEN read THEN text, rotation 180 and a
    searchable PDF that displays upright with the same words in its text layer."""
    original = scans.scan_pdf_bytes([scans.turned(scans.dirtied(scans.letter_page()), 180)])

    result = engine.read(original)

    (only,) = result.pages
    assert only.rotation == 180
    assert_reads_the_letter(only.text)
    assert result.searchable_pdf is not None
    searchable = PdfReader(io.BytesIO(result.searchable_pdf))
    assert searchable.pages[0].rotation == 180
    assert "Personalausweis" in searchable.pages[0].extract_text()
    assert PdfReader(io.BytesIO(original)).pages[0].extract_text().strip() == ""


def test_a_multipage_tiff_with_a_sideways_page(engine: OcrEngine) -> None:
    """GIVEN a two-page G4 TIFF whose first page was fed sideways WHEN read THEN both pages
    are read, the first turned by 90 degrees."""
    first = scans.turned(scans.letter_page(), 90)
    second = scans.skewed(scans.letter_page(scans.LETTER_LINES[12:]), -0.8)

    result = engine.read(scans.tiff_bytes([first, second]))

    assert [page.rotation for page in result.pages] == [90, 0]
    assert_reads_the_letter(result.pages[0].text)
    assert "Grüßen" in result.pages[1].text
    assert "\f" in result.text


def test_a_born_digital_pdf_uses_its_text_layer_without_ocr(engine: OcrEngine) -> None:
    result = engine.read(scans.born_digital_pdf_bytes([scans.LETTER_LINES]))

    assert result.method == TEXT_LAYER
    assert result.pages[0].method == TEXT_LAYER
    assert_reads_the_letter(result.text)
    assert result.searchable_pdf is None


def test_a_blank_page_is_flagged_and_no_text_is_invented(engine: OcrEngine) -> None:
    """GIVEN a scanned empty sheet with dust WHEN read THEN no text and a blank-page flag."""
    result = engine.read(scans.jpeg_bytes(scans.dirtied(scans.blank_page(), specks=900)))

    assert result.text == ""
    assert {flag.code for flag in result.flags} == {"blank_page", "no_text"}
    assert all(flag.message for flag in result.flags)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"PK\x03\x04" + b"\x00" * 100, "zip_archive"),
        (b"<!DOCTYPE html><html><script>x()</script></html>", "html_file"),
        (b"Sehr geehrte Damen und Herren", "unsupported_type"),
        (scans.encrypted_pdf_bytes(), "password_protected"),
        (scans.scan_pdf_bytes([scans.blank_page()])[:900], "damaged_pdf"),
        (scans.png_bytes(scans.letter_page())[:5000], "image_damaged"),
        (scans.png_bytes(scans.blank_page().resize((1, 1))), "image_too_small"),
    ],
)
def test_unreadable_files_raise_a_clear_error(engine: OcrEngine, data: bytes, code: str) -> None:
    with pytest.raises(OcrError) as caught:
        engine.read(data)

    assert caught.value.code == code
    assert str(caught.value)
    assert caught.value.german_message
    assert caught.value.flag.code == code


def test_a_page_over_the_pixel_limit_is_rejected_before_decoding() -> None:
    limits = OcrOptions(jobs=1, max_page_pixels=1_000_000)
    with OcrEngine(limits) as small_engine, pytest.raises(OcrError) as caught:
        small_engine.read(scans.png_bytes(scans.letter_page()))
    assert caught.value.code == "image_too_large"
    assert "1240×1754" in str(caught.value)


def test_read_many_keeps_the_order_and_reports_errors_inline(engine: OcrEngine) -> None:
    documents = [b"", scans.born_digital_pdf_bytes([scans.LETTER_LINES]), b"PK\x03\x04"]

    outcomes = list(engine.read_many(documents))

    assert isinstance(outcomes[0], OcrError) and outcomes[0].code == "empty_file"
    assert isinstance(outcomes[1], OcrResult) and outcomes[1].method == TEXT_LAYER
    assert isinstance(outcomes[2], OcrError) and outcomes[2].code == "zip_archive"
