"""Reading rendered letters back: text with positions (pypdfium2), QR codes (zxing-cpp)."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import zxingcpp

MM_PER_POINT = 25.4 / 72


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres from the paper's top-left corner."""

    left: float
    top: float
    right: float
    bottom: float

    def within(self, left: float, top: float, right: float, bottom: float) -> bool:
        return (
            self.left >= left and self.top >= top and self.right <= right and self.bottom <= bottom
        )


def text_boxes(pdf: bytes, text: str, page_index: int = 0) -> list[Box]:
    """Everywhere ``text`` appears on the page, in the order of the page's text."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[page_index]
        height = page.get_height()
        textpage = page.get_textpage()
        searcher = textpage.search(text, match_case=True)
        found = []
        while (hit := searcher.get_next()) is not None:
            start, count = hit
            boxes = [textpage.get_charbox(index) for index in range(start, start + count)]
            found.append(
                Box(
                    min(b[0] for b in boxes) * MM_PER_POINT,
                    (height - max(b[3] for b in boxes)) * MM_PER_POINT,
                    max(b[2] for b in boxes) * MM_PER_POINT,
                    (height - min(b[1] for b in boxes)) * MM_PER_POINT,
                )
            )
        return found
    finally:
        document.close()


def text_box(pdf: bytes, text: str, page_index: int = 0) -> Box | None:
    """Where ``text`` first appears on the page, or None."""
    boxes = text_boxes(pdf, text, page_index)
    return boxes[0] if boxes else None


def page_texts(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_bounded() for i in range(len(document))]
    finally:
        document.close()


@dataclass(frozen=True)
class FoundCode:
    text: str
    format: str
    ec_level: str
    box: Box  # millimetres from the top-left corner


def page_codes(pdf: bytes, page_index: int, *, dpi: int = 150) -> list[FoundCode]:
    """Every barcode zxing-cpp finds (any format) on the page rendered at ``dpi``."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page_index].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()
    mm_per_px = 25.4 / dpi
    found = []
    for code in zxingcpp.read_barcodes(image):
        corners = [
            code.position.top_left,
            code.position.top_right,
            code.position.bottom_right,
            code.position.bottom_left,
        ]
        box = Box(
            min(p.x for p in corners) * mm_per_px,
            min(p.y for p in corners) * mm_per_px,
            max(p.x for p in corners) * mm_per_px,
            max(p.y for p in corners) * mm_per_px,
        )
        found.append(FoundCode(code.text, str(code.format), str(code.ec_level), box))
    return found


def page_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()
