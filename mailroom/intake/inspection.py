"""Intake file inspection: recognise an upload by its content and reject bad input early.

``inspect_file`` runs before anything is stored. It never trusts the file name or the
declared content type: the type comes from the leading bytes, the name is only used to
flag a mismatch and to make error messages point at the right file. Every rejection is
a ``RejectedFileError`` subclass with a stable ``code`` and a message naming the problem.
Work is bounded for every input: PDFs are parsed structurally without rendering a page,
image dimensions are checked from the header before any pixel is decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mailroom.intake.content import Content
from mailroom.intake.image_headers import PNG_SIGNATURE
from mailroom.intake.image_inspection import inspect_jpeg, inspect_png, inspect_tiff
from mailroom.intake.inspection_errors import (
    DamagedFileError,
    EmptyFileError,
    EncryptedPdfError,
    FileTooLargeError,
    ImageTooLargeError,
    ImageTooSmallError,
    NoPagesError,
    PdfTooComplexError,
    RejectedFileError,
    TooManyPagesError,
    UnsupportedFileTypeError,
)
from mailroom.intake.pdf_inspection import inspect_pdf
from mailroom.intake.trailing_data import TrailingDataError, check_trailing_data

__all__ = [
    "DamagedFileError",
    "EmptyFileError",
    "EncryptedPdfError",
    "FileTooLargeError",
    "ImageTooLargeError",
    "ImageTooSmallError",
    "InspectedFile",
    "NoPagesError",
    "PdfTooComplexError",
    "RejectedFileError",
    "TooManyPagesError",
    "TrailingDataError",
    "UnsupportedFileTypeError",
    "UploadLimits",
    "inspect_file",
]

PDF, TIFF, PNG, JPEG = "application/pdf", "image/tiff", "image/png", "image/jpeg"

FLAG_LEADING_GARBAGE = "leading garbage before %PDF- header"
FLAG_EXTENSION_MISMATCH = "extension does not match content"

_PDF_SIGNATURE = b"%PDF-"
_PDF_HEADER_WINDOW = 1024  # the PDF specification tolerates a header within the first 1 KB
_SNIFF_WINDOW = 4096
_ACCEPTED_SIGNATURES = (
    (PNG_SIGNATURE, PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OTHER_SIGNATURES = (
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage (legacy Office/Outlook)"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"{\\rtf", "application/rtf"),
    (b"%!PS", "application/postscript"),
)
_ISO_MEDIA_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif"}
_ISO_MEDIA_BRANDS |= {b"avif": "image/avif"}
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta")
_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_EXTENSION_TYPES = {
    "pdf": PDF,
    "tif": TIFF,
    "tiff": TIFF,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "jpe": JPEG,
    "jfif": JPEG,
}
_TYPE_NAMES = {PDF: "a PDF", TIFF: "a TIFF image", PNG: "a PNG image", JPEG: "a JPEG image"}


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 60
    max_pixels: int = 100_000_000  # per page, decoded
    max_item_pixels: int = 600_000_000  # all pages of a multi-page image together
    min_side_px: int = 200  # smaller images cannot hold a letter
    many_pages_warning: int = 20  # more pages than this: flag "many pages — batch not separated?"


@dataclass(frozen=True)
class InspectedFile:
    media_type: str  # "application/pdf" | "image/tiff" | "image/png" | "image/jpeg"
    pages: int
    flags: tuple[str, ...]  # human-readable English warnings for the mail item


def _extension_type(filename: str | None) -> str | None:
    """The media type the file name claims, if its extension is one we know."""
    base_name = re.split(r"[\\/]", filename or "")[-1]
    if "." not in base_name:
        return None
    return _EXTENSION_TYPES.get(base_name.rsplit(".", 1)[1].lower())


def _format_size(size: int) -> str:
    mebibyte = 1024 * 1024
    if size >= mebibyte:
        return f"{size / mebibyte:g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} bytes"


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(_HTML_STARTS) or (text.startswith(b"<") and b"<html" in text)


def _binary_signature_type(data: bytes) -> str | None:
    """Binary formats we can name but do not accept, recognised by their signature."""
    for signature, media_type in _OTHER_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in _ISO_MEDIA_BRANDS:
        return _ISO_MEDIA_BRANDS[data[8:12]]
    return None


def _other_media_type(data: bytes) -> str | None:
    """Media types we can name but do not accept."""
    binary_type = _binary_signature_type(data)
    if binary_type is not None:
        return binary_type
    head = data[:_SNIFF_WINDOW].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<?xml"):
        return "image/svg+xml" if b"<svg" in head else "application/xml"
    if not _BINARY_BYTES.search(head):
        return "text/plain"
    return None


def _unsupported_type_error(
    head: bytes, content: Content, filename: str | None
) -> UnsupportedFileTypeError:
    """The most specific explanation of why the content is not an accepted type."""
    claimed = _extension_type(filename)
    expected = _TYPE_NAMES.get(claimed or PDF, "a PDF")
    data = head
    if data.startswith(_ZIP_SIGNATURES):
        problem, code = f"file is a ZIP archive, not {expected}", "zip_archive"
    elif _looks_like_html(head[:_PDF_HEADER_WINDOW]):
        problem, code = f"file is HTML, not {expected}", "html_document"
    elif _PDF_OBJECT.search(head) or b"%%EOF" in content.tail(_PDF_HEADER_WINDOW):
        problem, code = "not a PDF (missing %PDF- signature)", "missing_pdf_signature"
    elif (other := _other_media_type(data)) is not None:
        problem, code = f"unsupported type {other}", "unsupported_type"
    elif claimed == PDF:
        problem, code = "not a PDF (missing %PDF- signature)", "missing_pdf_signature"
    else:
        problem = "file type not recognised — PDF, TIFF, PNG or JPEG expected"
        code = "unrecognised_file_type"
    return UnsupportedFileTypeError(problem, filename=filename, code=code)


def _sniff(head: bytes, content: Content, filename: str | None) -> tuple[str, int]:
    """Media type from content, plus the offset of the %PDF- header for PDFs."""
    for signature, media_type in _ACCEPTED_SIGNATURES:
        if head.startswith(signature):
            return media_type, 0
    if head.startswith(_ZIP_SIGNATURES) or _binary_signature_type(head) is not None:
        raise _unsupported_type_error(head, content, filename)  # e.g. a ZIP holding a PDF
    pdf_offset = head.find(_PDF_SIGNATURE, 0, _PDF_HEADER_WINDOW + len(_PDF_SIGNATURE))
    if pdf_offset >= 0:
        return PDF, pdf_offset
    raise _unsupported_type_error(head, content, filename)


def inspect_file(
    source: bytes | Path, *, filename: str | None = None, limits: UploadLimits = UploadLimits()
) -> InspectedFile:
    """Recognise ``source`` (bytes, or a spooled file) by content and check it.

    Raises a ``RejectedFileError`` subclass naming the problem if the file must not be
    stored; otherwise returns the media type, page count and warnings to show on the item.
    A file is read piece by piece, never whole into memory.
    """
    content = Content.of(source)
    if content.size == 0:
        raise EmptyFileError("empty file", filename=filename)
    if content.size > limits.max_bytes:
        raise FileTooLargeError(
            f"file is larger than the limit of {_format_size(limits.max_bytes)}",
            filename=filename,
        )
    head = content.head(_SNIFF_WINDOW)
    media_type, pdf_offset = _sniff(head, content, filename)
    flags: list[str] = []
    if media_type == PDF:
        if pdf_offset > 0:
            flags.append(FLAG_LEADING_GARBAGE)
        pages, content_flags = inspect_pdf(content, pdf_offset, limits, filename)
    elif media_type == PNG:
        pages, content_flags = inspect_png(content, limits, filename)
    elif media_type == JPEG:
        pages, content_flags = inspect_jpeg(content, limits, filename)
    else:
        pages, content_flags = inspect_tiff(content, limits, filename)
    check_trailing_data(content, media_type, filename, pdf_offset)  # polyglots
    flags += content_flags
    claimed = _extension_type(filename)
    if claimed is not None and claimed != media_type:
        flags.append(FLAG_EXTENSION_MISMATCH)
    if pages > limits.many_pages_warning:
        flags.append(f"many pages ({pages}) — batch not separated?")
    return InspectedFile(media_type=media_type, pages=pages, flags=tuple(flags))
