"""The OCR library's pieces that need no Tesseract: sniffing, text layers, deskew,
orientation and the quality gate."""

from __future__ import annotations

import pytest

from ocr import OCR, TEXT_LAYER, PageResult, read_text_layer
from ocr.binarise import binarise
from ocr.deskew import deskew, estimate_skew
from ocr.orientation import detect_orientation
from ocr.quality import judge
from ocr.sniff import FileKind, detect_kind
from ocr.text_layer import is_real_text
from tests.fixtures import scans


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n", FileKind.PDF),
        (b"\x00SCANNER-BATCH" * 30 + b"%PDF-1.4\n", FileKind.PDF),
        (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
        (b"\xff\xd8\xff\xe0", FileKind.JPEG),
        (b"II*\x00", FileKind.TIFF),
    ],
)
def test_files_are_recognised_by_content(data: bytes, kind: FileKind) -> None:
    assert detect_kind(data) is kind


def test_a_born_digital_pdf_has_a_real_text_layer() -> None:
    pages = read_text_layer(scans.born_digital_pdf_bytes([scans.LETTER_LINES, ["Seite 2"]]))

    assert pages is not None and len(pages) == 2
    assert "Bürgerbüro" in pages[0]


def test_a_scan_pdf_has_no_text_layer() -> None:
    assert read_text_layer(scans.scan_pdf_bytes([scans.letter_page()])) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   \n\n ",
        "(cid:12)(cid:15)(cid:3) " * 20,
        "\ue001\ue002\ue003 \ue004\ue005 " * 20,
        "#$%&/ ()=?! 1 2 3 4 5 6 7 8 9 0 " * 5,
        "x\x01\x02\x03y\x04\x05z " * 30,
    ],
)
def test_empty_and_garbage_text_layers_are_not_real_text(garbage: str) -> None:
    assert not is_real_text(garbage)


def test_german_letter_text_is_real_text() -> None:
    assert is_real_text("\n".join(scans.LETTER_LINES))


@pytest.mark.parametrize("angle", [-1.4, -0.6, 0.9, 2.5])
def test_skew_is_measured_and_removed(angle: float) -> None:
    page = binarise(scans.dirtied(scans.skewed(scans.letter_page(), angle)))

    estimate = estimate_skew(page)

    assert estimate.angle == pytest.approx(-angle, abs=0.15)
    assert not estimate.lines_vertical
    assert estimate_skew(deskew(page, estimate.angle)).angle == pytest.approx(0, abs=0.15)


@pytest.mark.parametrize("turned_ccw", [0, 90, 180, 270])
def test_orientation_is_found_without_tesseract(turned_ccw: int) -> None:
    page = binarise(scans.turned(scans.dirtied(scans.letter_page()), turned_ccw))
    skew = estimate_skew(page)

    orientation = detect_orientation(page, lines_vertical=skew.lines_vertical)

    assert skew.lines_vertical == (turned_ccw in (90, 270))
    assert orientation.rotation == turned_ccw
    assert orientation.certain


def _page(number: int, text: str, confidence: float, method: str = OCR) -> PageResult:
    return PageResult(number, text, confidence, 0, method)


def test_the_quality_gate_flags_hard_to_read_and_blank_pages_in_german() -> None:
    pages = [
        _page(1, "Sehr geehrte Damen und Herren", 92.0),
        _page(2, "S3hr g3ehrt3", 41.2),
        _page(3, "", 0.0),
        _page(4, "Anlage", 100.0, TEXT_LAYER),
    ]

    flags = judge(pages, min_confidence=60.0, blank=frozenset({3}), failed={})

    assert [(flag.code, flag.page) for flag in flags] == [
        ("low_confidence", 2),
        ("blank_page", 3),
    ]
    assert flags[0].message == (
        "Seite 2 schwer lesbar (Erkennungsgüte 41 %) – bitte neu scannen oder von Hand erfassen"
    )


def test_a_document_without_any_text_is_flagged() -> None:
    flags = judge([_page(1, "", 0.0)], min_confidence=60.0, blank=frozenset({1}), failed={})

    assert [flag.code for flag in flags] == ["blank_page", "no_text"]
