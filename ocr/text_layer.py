"""Text-layer extraction for born-digital PDFs (pypdf), with empty and garbage layer detection."""

from __future__ import annotations

import io
import logging
import re
import unicodedata

from pypdf import PageObject, PdfReader

from ocr.environment import is_environment_error

_MIN_LETTERS = 20  # fewer letters than this on a page is no usable text layer
_MIN_LETTER_SHARE = 0.5  # share of letters among the visible characters
_MAX_ODD_SHARE = 0.05  # control, private-use, replacement and unassigned characters
_MIN_WORDLIKE_SHARE = 0.5  # share of tokens that look like words or numbers
_CID_PATTERN = re.compile(r"\(cid:\d+\)")
_WORDLIKE = re.compile(r"^[\W_]*[^\W\d_]{2,}(?:[-'’.][^\W\d_]+)*[\W_]*$|^[\W_]*\d[\d.,:/-]*[\W_]*$")
_ODD_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})

logger = logging.getLogger(__name__)


def read_text_layer(data: bytes) -> list[str] | None:
    """Return the text of each page when the PDF carries a real text layer, else None.

    A layer counts as real when its text, taken over the whole document, passes
    :func:`is_real_text`; an empty layer, an invisible layer of (cid:NN) codes or a font
    without a Unicode map (which yields private-use or random characters) does not.
    """
    try:
        pages = extract_page_texts(data)
    except Exception as exc:  # pypdf raises far more than PyPdfError on damaged files
        if is_environment_error(exc):
            raise
        logger.info("no text layer: %s: %s", type(exc).__name__, exc)
        return None
    if not is_real_text("\n".join(pages)):
        return None
    return pages


def extract_page_texts(data: bytes) -> list[str]:
    """The raw text layer of each page ("" for a page without text). Raises PyPdfError."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    return [page.extract_text() or "" for page in reader.pages]


def page_texts(data: bytes) -> list[str | None]:
    """Like :func:`extract_page_texts`, but a page whose text cannot be extracted is None
    instead of failing the whole document. Raises only when the PDF cannot be opened."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    return [_page_text(page, number) for number, page in enumerate(reader.pages, start=1)]


def _page_text(page: PageObject, number: int) -> str | None:
    try:
        return page.extract_text() or ""
    except Exception as exc:
        if is_environment_error(exc):
            raise
        logger.info("page %d: text layer unreadable: %s: %s", number, type(exc).__name__, exc)
        return None


def is_real_text(text: str) -> bool:
    """True when ``text`` reads like language rather than an empty or garbage layer."""
    if _CID_PATTERN.search(text):
        return False
    visible = [char for char in text if not char.isspace()]
    if not visible:
        return False
    letters = sum(char.isalpha() for char in visible)
    odd = sum(unicodedata.category(char) in _ODD_CATEGORIES or char == "\ufffd" for char in visible)
    if letters < _MIN_LETTERS or letters / len(visible) < _MIN_LETTER_SHARE:
        return False
    if odd / len(visible) > _MAX_ODD_SHARE:
        return False
    tokens = text.split()
    wordlike = sum(bool(_WORDLIKE.match(token)) for token in tokens)
    return wordlike / len(tokens) >= _MIN_WORDLIKE_SHARE
