"""Polyglot files: data hidden after a file's end marker (a ZIP or an HTML page appended to
a PDF, HTML after a PNG's IEND, anything after a JPEG's EOI) is refused as ``trailing_data``.

Such a file is two files at once: the viewer shows the letter, another program (an unzip,
a browser that sniffs) finds the other one. What real files carry is allowed:

- **PDF**: incremental updates (objects, xref, trailer and another ``%%EOF`` after an
  ``%%EOF``) and whitespace or NUL padding after the final ``%%EOF``; after every earlier
  ``%%EOF`` the next thing must be PDF structure (an object, ``xref``, ``trailer``,
  ``startxref``, a comment, or ``endstream``/``endobj`` of an embedded PDF). An unfinished
  update after the final ``%%EOF`` is left to the PDF check (repaired or damaged), unless
  it holds a ZIP or HTML signature.
- **PNG**: whitespace or NUL padding after the IEND chunk (found by walking the chunks, so a
  fake ``IEND`` inside the appended data does not hide it).
- **JPEG**: padding after the EOI marker, and further JPEG images there (the multi-picture
  format of cameras), as long as no ZIP or HTML signature is among them.
- **Any type**: a ZIP end-of-central-directory record in the last 64 KB whose comment
  reaches the end of the file (how a ZIP reader finds an archive at the end of anything).
"""

from __future__ import annotations

import re
import struct

from mailroom.intake.content import Content
from mailroom.intake.inspection_errors import RejectedFileError

_PADDING = b" \t\r\n\f\x00"
_PDF_EOF = b"%%EOF"
# What may follow an earlier %%EOF: the next update, or the end of a stream that holds an
# (uncompressed) embedded PDF.
_PDF_STRUCTURE = re.compile(
    rb"\d+\s+\d+\s+obj\b|xref\b|trailer\b|startxref\b|endstream\b|endobj\b|%"
)
_PDF_UPDATE = re.compile(rb"\d+\s+\d+\s+obj\b|xref\b")  # an unfinished incremental update
_PDF_HEADER = b"%PDF-"
_MAX_PDF_MARKERS = 1000
_CHUNK = 2**20
_ZIP_LOCAL_HEADER = re.compile(rb"PK\x03\x04[\x0a\x14\x2d\x33\x3f]\x00")  # + version needed
_HTML = re.compile(rb"<!doctype\s+html|<html|<script|<body|<iframe", re.IGNORECASE)
_ZIP_EOCD = b"PK\x05\x06"
_ZIP_EOCD_SIZE = 22
_ZIP_SEARCH = 65_535 + _ZIP_EOCD_SIZE  # the longest comment plus the record
_PNG_SIGNATURE_SIZE = 8
_MAX_PNG_CHUNKS = 1_000_000
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # a marker inside entropy-coded data
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length
_MAX_TRAILING_SCAN = 8 * 2**20  # how much of the trailing data is searched for signatures


class TrailingDataError(RejectedFileError):
    """Data after the file's end: a polyglot (e.g. a PDF that is also a ZIP)."""

    default_code = "trailing_data"


def check_trailing_data(
    content: Content, media_type: str, filename: str | None, start: int = 0
) -> None:
    """Raise TrailingDataError for data after the end of the file (see the module doc)."""
    if media_type == "application/pdf":
        _check_pdf(content, start, filename)
    elif media_type == "image/png":
        _check_after(content, _png_end(content), "the PNG image's end (IEND)", filename)
    elif media_type == "image/jpeg":
        _check_jpeg(content, filename)
    if _ends_with_zip(content):
        raise _error("a ZIP archive", "the end of the file", filename)


def _error(what: str, where: str, filename: str | None) -> TrailingDataError:
    return TrailingDataError(f"file has {what} hidden after {where}", filename=filename)


def _signature(data: bytes, *, pdf: bool = True) -> str | None:
    """What known other format's signature ``data`` holds (``pdf``: look for %PDF- too)."""
    if _ZIP_LOCAL_HEADER.search(data) or _ZIP_EOCD in data:
        return "a ZIP archive"
    if _HTML.search(data):
        return "an HTML page"
    if pdf and _PDF_HEADER in data:
        return "a PDF document"
    return None


def _trailing(content: Content, end: int) -> bytes:
    return content.read_at(end, min(content.size - end, _MAX_TRAILING_SCAN))


def _check_after(content: Content, end: int | None, where: str, filename: str | None) -> None:
    if end is None or end >= content.size:
        return
    trailing = _trailing(content, end)
    if trailing.strip(_PADDING) or content.size - end > len(trailing):
        raise _error(_signature(trailing) or "other data", where, filename)


def _check_pdf(content: Content, start: int, filename: str | None) -> None:
    markers = _pdf_eof_markers(content, start)
    if not markers:
        return  # no end marker at all: the PDF check decides (repair or damaged)
    final = markers[-1]
    rest = _trailing(content, final).lstrip(_PADDING)
    found = _signature(rest, pdf=False)
    if rest and (found is not None or not _PDF_UPDATE.match(rest)):
        raise _error(found or "other data", "the PDF's end (%%EOF)", filename)
    for marker in markers[:-1]:
        following = content.read_at(marker, 4096).lstrip(_PADDING)
        if following and not _PDF_STRUCTURE.match(following):
            found = _signature(following, pdf=False)
            raise _error(found or "other data", "an %%EOF inside the PDF", filename)


def _pdf_eof_markers(content: Content, start: int) -> list[int]:
    """Offsets just after every ``%%EOF`` (at most a capped number of the last ones),
    read chunk by chunk."""
    found: list[int] = []
    end = content.size
    while end > start and len(found) < _MAX_PDF_MARKERS:
        begin = max(start, end - _CHUNK)
        window = content.read_at(begin, end - begin + len(_PDF_EOF) - 1)
        hits = [begin + m.end() for m in re.finditer(re.escape(_PDF_EOF), window)]
        found.extend(h for h in reversed(hits) if h not in found)
        end = begin
    return sorted(found)


def _png_end(content: Content) -> int | None:
    """The offset after the IEND chunk, walking chunk by chunk; None if it is not found."""
    position = _PNG_SIGNATURE_SIZE
    with content.buffer() as data:
        for _ in range(_MAX_PNG_CHUNKS):
            header = data[position : position + 8]
            if len(header) < 8:
                return None
            length, kind = struct.unpack(">I4s", header)
            position += 12 + int(length)
            if kind == b"IEND":
                return position
    return None


def _jpeg_end(content: Content, start: int = 0) -> int | None:
    """The offset after the EOI marker of the JPEG image starting at ``start``."""
    with content.buffer() as data:
        position = start + 2  # after SOI
        size = len(data)
        while position + 2 <= size:
            if data[position] != 0xFF:
                return None
            marker = data[position + 1]
            if marker == 0xFF:  # fill byte
                position += 1
                continue
            if marker == 0xD9:
                return position + 2
            if marker in _JPEG_STANDALONE:
                position += 2
                continue
            if position + 4 > size:
                return None
            (length,) = struct.unpack(">H", data[position + 2 : position + 4])
            position += 2 + length
            if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
                found = _JPEG_MARKER.search(data, position)
                if found is None:
                    return None
                position = found.start()
        return None


def _check_jpeg(content: Content, filename: str | None) -> None:
    end = _jpeg_end(content, 0)
    while end is not None and end < content.size:
        trailing = _trailing(content, end)
        rest = trailing.lstrip(_PADDING)
        if not rest and content.size - end == len(trailing):
            return
        found = _signature(trailing)
        if found is not None or not rest.startswith(b"\xff\xd8\xff"):
            raise _error(found or "other data", "the JPEG image's end (EOI)", filename)
        # a further image of a multi-picture file: it must end cleanly, too
        end = _jpeg_end(content, end + len(trailing) - len(rest))
        if end is None:
            raise _error("other data", "the JPEG image's end (EOI)", filename)


def _ends_with_zip(content: Content) -> bool:
    window_start = max(0, content.size - _ZIP_SEARCH)
    window = content.read_at(window_start, content.size - window_start)
    position = window.rfind(_ZIP_EOCD)
    while position >= 0:
        record = window[position : position + _ZIP_EOCD_SIZE]
        if len(record) == _ZIP_EOCD_SIZE:
            (comment_length,) = struct.unpack("<H", record[20:22])
            end = position + _ZIP_EOCD_SIZE + comment_length
            if end <= len(window) and not window[end:].strip(_PADDING):
                return True
        position = window.rfind(_ZIP_EOCD, 0, position)
    return False
