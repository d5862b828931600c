"""A searchable PDF: the original page images with Tesseract's invisible text laid over them.

PDF input keeps its pages as they are (scan images are not re-encoded) and gains an invisible
text layer on each OCR page; image input becomes one PDF page per image or TIFF frame.
The text layer comes from Tesseract's text-only PDF of the deskewed page, mapped back onto
the original image by the inverse deskew rotation. A page read upside down or sideways gets
``/Rotate`` so that it displays upright. Active content (document JavaScript, open actions,
page actions, embedded files) is not carried over: only pages are copied.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import NameObject

from ocr.raster import Placement
from ocr.sniff import FileKind

_DERIVED_JPEG_QUALITY = 85


@dataclass(frozen=True)
class TextOverlay:
    """Tesseract's text-only PDF page for one OCR page, and how to map it onto the original."""

    text_only_pdf: bytes
    placement: Placement
    raster_size: tuple[int, int]
    skew: float
    rotation: int


def build_searchable_pdf(
    source: Path, kind: FileKind, overlays: Sequence[TextOverlay | None], target: Path
) -> None:
    """Write to ``target`` one PDF with a page per entry of ``overlays`` (None = keep the
    page's own text layer). Memory grows with the document: run it in a worker process."""
    writer = PdfWriter()
    if kind is FileKind.PDF:
        reader = PdfReader(source, strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        for index, overlay in enumerate(overlays):
            page = writer.add_page(reader.pages[index])
            _remove_actions(page)
            if overlay is not None:
                _overlay_text(page, overlay)
    else:
        for index, overlay in enumerate(overlays):
            page = writer.add_page(_image_page(source, index, overlay))
            if overlay is not None:
                _overlay_text(page, overlay)
    with target.open("wb") as out:  # buffered: pypdf writes object by object
        writer.write(out)


def _overlay_text(page: PageObject, overlay: TextOverlay) -> None:
    text_page = PdfReader(io.BytesIO(overlay.text_only_pdf)).pages[0]
    page.merge_transformed_page(text_page, _text_to_page(text_page, overlay), over=True)
    page.rotation = overlay.rotation


def _text_to_page(text_page: PageObject, overlay: TextOverlay) -> Transformation:
    """Tesseract's page (points on the upright, deskewed raster) → the original's user space.

    Works in pixels with y up: undo the turn to upright, undo the deskew rotation about the
    centre, then scale and move the raster onto the rectangle the original image occupies.
    """
    width_px, height_px = overlay.raster_size
    turned = overlay.rotation in (90, 270)
    upright_width, upright_height = (height_px, width_px) if turned else (width_px, height_px)
    text_width, text_height = float(text_page.mediabox.width), float(text_page.mediabox.height)
    placement = overlay.placement
    untilt = {0: (0, 0), 90: (width_px, 0), 180: (width_px, height_px), 270: (0, height_px)}
    shift_x, shift_y = untilt[overlay.rotation]
    return (
        Transformation()
        .scale(upright_width / text_width, upright_height / text_height)
        .rotate(overlay.rotation)
        .translate(shift_x, shift_y)
        .translate(-width_px / 2, -height_px / 2)
        .rotate(-overlay.skew)
        .translate(width_px / 2, height_px / 2)
        .scale(placement.width / width_px, placement.height / height_px)
        .translate(placement.left, placement.bottom)
    )


def _image_page(source: Path, index: int, overlay: TextOverlay | None) -> PageObject:
    with Image.open(source) as image:
        image.seek(index)
        frame = image.convert(image.mode if image.mode in ("1", "L") else "RGB")
    dpi = frame.width / (overlay.placement.width / 72.0) if overlay is not None else 300.0
    buffer = io.BytesIO()
    frame.save(buffer, format="PDF", resolution=dpi, quality=_DERIVED_JPEG_QUALITY)
    return PdfReader(io.BytesIO(buffer.getvalue())).pages[0]


def _remove_actions(page: PageObject) -> None:
    if NameObject("/AA") in page:
        del page[NameObject("/AA")]
