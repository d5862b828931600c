"""The pixel budget per document: pages are sized from headers before anything is decoded,
pages beyond the budget are not read, and the item goes to triage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ocr import OCR, TEXT_LAYER, OcrEngine, OcrError, OcrOptions
from ocr.budget import over_budget, page_pixels
from ocr.sniff import FileKind
from tests.fixtures import ocr_documents, scans
from tests.fixtures.ocr_documents import PdfPage

SCAN_PAGE_PIXELS = 1240 * 1754  # an A4 page at 150 dpi, about 2.2 MP
BUDGET = 5_000_000  # two such pages fit, three do not


@pytest.fixture(scope="module")
def budget_engine() -> Iterator[OcrEngine]:
    options = OcrOptions(jobs=2, page_timeout_s=60, max_document_pixels=BUDGET)
    with OcrEngine(options) as engine:
        yield engine


def stored(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "source"
    path.write_bytes(data)
    return path


def test_a_scan_page_is_sized_by_its_embedded_image_and_a_text_page_by_the_dpi(
    tmp_path: Path,
) -> None:
    letter = scans.letter_page()
    path = stored(tmp_path, ocr_documents.pdf_bytes([PdfPage(image=letter), PdfPage(["Text"])]))

    assert page_pixels(path, FileKind.PDF, [0, 1], dpi=300) == [
        SCAN_PAGE_PIXELS,
        round(595 / 72 * 300) * round(842 / 72 * 300),
    ]


def test_image_frames_are_sized_from_their_headers(tmp_path: Path) -> None:
    path = stored(tmp_path, scans.tiff_bytes([scans.letter_page(), scans.blank_page()]))

    assert page_pixels(path, FileKind.TIFF, [0, 1], dpi=300) == [SCAN_PAGE_PIXELS] * 2


@pytest.mark.parametrize(
    ("budget", "unread"), [(15, []), (12, [2]), (10, [2]), (9, [1, 2]), (4, [0, 1, 2])]
)
def test_pages_from_the_first_that_no_longer_fits_are_left_unread(
    budget: int, unread: list[int]
) -> None:
    assert over_budget([0, 1, 2], [5, 5, 5], budget) == unread


def test_pages_beyond_the_budget_are_not_read_and_the_document_goes_to_triage(
    budget_engine: OcrEngine,
) -> None:
    """GIVEN a three-page scan and a budget for two pages WHEN read THEN pages 1 and 2 are
    read, page 3 is left empty, and a document-level flag asks for manual indexing."""
    result = budget_engine.read(scans.scan_pdf_bytes([scans.letter_page()] * 3))

    assert [bool(page.text) for page in result.pages] == [True, True, False]
    (flag,) = [flag for flag in result.flags if flag.code == "pixel_budget_exceeded"]
    assert flag.page is None
    assert flag.message == (
        "Das Dokument ist zu groß, um automatisch gelesen zu werden (ab Seite 3 nicht gelesen)"
        " – bitte von Hand erfassen"
    )
    assert result.needs_triage
    assert result.method == OCR


def test_a_document_whose_first_page_alone_exceeds_the_budget_is_unreadable(
    budget_engine: OcrEngine,
) -> None:
    oversized = scans.blank_page().resize((2500, 2500))  # 6.25 MP, under the per-page limit

    with pytest.raises(OcrError) as caught:
        budget_engine.read(scans.png_bytes(oversized))

    assert caught.value.code == "pixel_budget_exceeded"
    assert "6 MP" in str(caught.value)
    assert "zu groß" in caught.value.german_message


def test_pages_read_from_their_text_layer_cost_no_pixels(budget_engine: OcrEngine) -> None:
    letter = scans.letter_page()
    pages = [PdfPage(scans.LETTER_LINES), PdfPage(image=letter), PdfPage(image=letter)]

    result = budget_engine.read(ocr_documents.pdf_bytes(pages))

    assert [page.method for page in result.pages] == [TEXT_LAYER, OCR, OCR]
    assert "pixel_budget_exceeded" not in {flag.code for flag in result.flags}
