"""Text-layer extraction for born-digital PDFs (pypdf)."""

from __future__ import annotations

import io

from pypdf import PdfReader


def read_text_layer(data: bytes) -> list[str] | None:
    """Return the text of each page when the PDF carries a real text layer, else None."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    pages = [page.extract_text() or "" for page in reader.pages]
    if sum(len(p.strip()) for p in pages) < 20:
        return None
    return pages
