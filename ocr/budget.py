"""The pixel budget of a document: how many pixels OCR may decode for it, estimated up front.

One huge item must not hold the OCR lane for many minutes. Each page that needs OCR is sized
without decoding anything (image headers; for PDFs the embedded full-page image's pixel size
or the page size at the configured dpi, as :mod:`ocr.raster` will decode it); pages beyond
the cumulative budget are not read at all, and the document goes to triage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from ocr.environment import is_environment_error
from ocr.raster import pdf_page_pixels
from ocr.sniff import FileKind

logger = logging.getLogger(__name__)


def page_pixels(path: Path, kind: FileKind, indices: Sequence[int], *, dpi: int) -> list[int]:
    """The decoded pixel count of each page in ``indices`` (0 where it cannot be told)."""
    if not indices:
        return []
    if kind is FileKind.PDF:
        return _pdf_pixels(path, indices, dpi)
    return _image_pixels(path, indices)


def over_budget(indices: Sequence[int], pixels: Sequence[int], budget: int) -> list[int]:
    """The pages of ``indices`` (in order) from the first one that no longer fits onwards."""
    total = 0
    for position, count in enumerate(pixels):
        total += count
        if total > budget:
            return list(indices[position:])
    return []


def _pdf_pixels(path: Path, indices: Sequence[int], dpi: int) -> list[int]:
    document = pdfium.PdfDocument(str(path))
    try:
        return [_one_pdf_page(document, index, dpi) for index in indices]
    finally:
        document.close()


def _one_pdf_page(document: pdfium.PdfDocument, index: int, dpi: int) -> int:
    try:
        page = document[index]
        try:
            return pdf_page_pixels(page, dpi=dpi)
        finally:
            page.close()
    except Exception as exc:
        if is_environment_error(exc):
            raise
        # A page pdfium cannot even size will fail in its worker, costing no pixels.
        logger.info("page %d cannot be sized for the pixel budget: %s", index + 1, exc)
        return 0


def _image_pixels(path: Path, indices: Sequence[int]) -> list[int]:
    # The frames were opened and size-checked before (count_pages); this only reads headers.
    with Image.open(path) as image:
        sizes = []
        for index in indices:
            image.seek(index)
            sizes.append(image.width * image.height)
        return sizes
