"""Recognise what a file is from its first bytes; the name or extension is never trusted."""

from __future__ import annotations

from enum import StrEnum

from ocr import errors

_PDF_HEADER_WINDOW = 1024  # the PDF spec tolerates junk before %PDF- within the first 1 KiB


class FileKind(StrEnum):
    PDF = "pdf"
    TIFF = "tiff"
    PNG = "png"
    JPEG = "jpeg"


_IMAGE_SIGNATURES: tuple[tuple[bytes, FileKind], ...] = (
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"II*\x00", FileKind.TIFF),
    (b"MM\x00*", FileKind.TIFF),
)

_REJECTED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF8", "GIF image"),
    (b"BM", "BMP image"),
    (b"%!PS", "PostScript"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
    (b"{\\rtf", "RTF document"),
)


def detect_kind(data: bytes) -> FileKind:
    """Return the kind of a supported file or raise OcrError naming what it is instead."""
    if not data:
        raise errors.empty_file()
    head = data[:_PDF_HEADER_WINDOW]
    for signature, kind in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if b"%PDF-" in head:
        return FileKind.PDF
    if head.startswith(b"PK\x03\x04"):
        raise errors.zip_archive()
    if _looks_like_html(head):
        raise errors.html_file()
    if head.lstrip().startswith(b"%") and b"obj" in data[:4096]:
        raise errors.not_a_pdf()
    for signature, name in _REJECTED_SIGNATURES:
        if head.startswith(signature):
            raise errors.unsupported_type(name)
    if head[:8] == b"RIFF" or head[4:12] in (b"ftypheic", b"ftypmif1"):
        raise errors.unsupported_type("WebP/HEIC image")
    if _looks_like_text(head):
        raise errors.unsupported_type("plain text")
    raise errors.unsupported_type("unknown binary data")


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    decoded = head.decode("utf-8", errors="replace")
    return decoded.count("\ufffd") <= 2  # a multi-byte character may be cut at the end
