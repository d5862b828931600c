"""Page previews for people: one page of a file as a PNG of a given width (the document
viewer of the case page). Decodes only that page, with the same size limits as reading.

Previews are rendered in the web server's threads, and PDFium is not thread-safe: one
preview at a time per process (reading for OCR happens in worker processes of its own)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from PIL import Image

from ocr.raster import load_page
from ocr.sniff import FileKind

PREVIEW_DPI = 110  # enough for a readable A4 page at 900 px; pages are scaled to the width
MAX_PREVIEW_WIDTH = 2400
PDFIUM_LOCK = threading.RLock()  # PDFium's state is process-wide and unguarded


def page_count(path: Path, kind: FileKind) -> int:
    if kind is FileKind.PDF:
        import pypdfium2 as pdfium

        with PDFIUM_LOCK:
            document = pdfium.PdfDocument(str(path))
            try:
                return len(document)
            finally:
                document.close()
    with Image.open(path) as image:
        return getattr(image, "n_frames", 1)


def render_preview(path: Path, kind: FileKind, index: int, *, width: int, max_pixels: int) -> bytes:
    """Page ``index`` (0-based) as a PNG ``width`` pixels wide (greyscale, like the scan)."""
    width = max(200, min(width, MAX_PREVIEW_WIDTH))
    dpi = max(PREVIEW_DPI, round(PREVIEW_DPI * width / 900))
    with PDFIUM_LOCK:
        raster = load_page(path, kind, index, dpi=dpi, max_pixels=max_pixels)
    image = raster.image
    if image.width != width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
