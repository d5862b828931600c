"""Opening a document: what it is, how many pages, which pages carry a real text layer.

Everything here runs in the document worker (:mod:`ocr.document_worker`), never in the
caller, and decodes no page image: PDFs are opened by pdfium (lazy, robust), images only
have their headers read.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image
from pypdf import PdfReader

from ocr import errors
from ocr.environment import is_environment_error
from ocr.models import OcrError, OcrOptions
from ocr.sniff import FileKind
from ocr.text_layer import is_real_text, page_texts

logger = logging.getLogger(__name__)

_LARGE_IMAGE_SHARE = 0.5  # an image over half the page suggests a scan
_MIN_LETTERS_BESIDE_SCAN = 200  # a text layer over a scan must carry this much to be trusted


def count_pages(path: Path, kind: FileKind, options: OcrOptions) -> int:
    """Validate the file and return its page count, or raise OcrError naming the problem."""
    count = _count_pdf_pages(path) if kind is FileKind.PDF else _count_image_frames(path, options)
    if count == 0:
        raise errors.no_pages()
    if count > options.max_pages:
        raise errors.too_many_pages(count, options.max_pages)
    return count


def text_layer_pages(path: Path) -> list[str | None]:
    """Per page: its text layer when real, None when the page must be read by OCR.

    A text layer that cannot be extracted (for the document or for one page) only means OCR:
    pypdf raises many kinds of exceptions on damaged files, none of them worth more.
    """
    try:
        texts = page_texts(path.read_bytes())
    except Exception as exc:
        if is_environment_error(exc):
            raise
        logger.info("text layer unreadable, OCR instead: %s: %s", type(exc).__name__, exc)
        return []
    document = pdfium.PdfDocument(str(path))
    try:
        return [
            text if text is not None and _trust_text_layer(text, document, index) else None
            for index, text in enumerate(texts[: len(document)])
        ]
    finally:
        document.close()


def _trust_text_layer(text: str, document: pdfium.PdfDocument, index: int) -> bool:
    if not is_real_text(text):
        return False
    letters = sum(char.isalpha() for char in text)
    if letters >= _MIN_LETTERS_BESIDE_SCAN:
        return True
    try:
        return not _has_large_image(document[index])
    except Exception as exc:  # the text is real; a page pdfium cannot parse would not OCR
        if is_environment_error(exc):
            raise
        logger.info("page %d: images not inspectable, text layer kept: %s", index + 1, exc)
        return True


def _has_large_image(page: pdfium.PdfPage) -> bool:
    width, height = page.get_size()
    page_area = max(1.0, width * height)
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()  # pypdfium2 5 (was get_pos in 4)
        if (right - left) * (top - bottom) >= page_area * _LARGE_IMAGE_SHARE:
            return True
    return False


def _count_pdf_pages(path: Path) -> int:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise _pdf_error(path, exc) from exc
    try:
        return len(document)
    finally:
        document.close()


def _pdf_error(path: Path, exc: pdfium.PdfiumError) -> Exception:
    if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
        return errors.password_protected()
    data = path.read_bytes()
    if b"%PDF-" not in data[:1024]:
        return errors.not_a_pdf()
    try:
        if len(PdfReader(io.BytesIO(data), strict=False).pages) == 0:
            return errors.no_pages()
    except Exception as exc:  # damaged beyond what pypdf reads either
        if is_environment_error(exc):
            raise
    return errors.damaged_pdf()


def _count_image_frames(path: Path, options: OcrOptions) -> int:
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > options.max_pages:
                return int(frames)
            for index in range(frames):
                image.seek(index)
                _check_frame_size(image.width, image.height, options)
            return int(frames)
    except Image.DecompressionBombError as exc:  # Pillow refuses before we can ask the size
        width, height = _declared_png_size(path)
        raise errors.image_too_large(width, height, options.max_page_pixels) from exc
    except OcrError:
        raise
    except Exception as exc:  # Pillow's header parsers raise many kinds on damaged files
        if is_environment_error(exc):
            raise
        raise errors.image_damaged(str(exc) or type(exc).__name__) from exc


def _declared_png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as file:
        header = file.read(24)
    if header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR":
        return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    return 0, 0


def _check_frame_size(width: int, height: int, options: OcrOptions) -> None:
    if width * height > options.max_page_pixels:
        raise errors.image_too_large(width, height, options.max_page_pixels)
    if width * height < options.min_page_pixels:
        raise errors.image_too_small(width, height)
