"""Bounded readers for image headers: PNG IHDR, JPEG SOF, TIFF IFD and EXIF.

These run before Pillow sees the file, so the pixel limit can be enforced with exact
dimensions and without decoding anything. Each reader touches a fixed, small number of
bytes (or a capped number of segments) and returns ``None`` when the header is unusable.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXIF_PREFIX = b"Exif\x00\x00"

_MAX_JPEG_SEGMENTS_BEFORE_FRAME = 1000
_JPEG_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xDA)})
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}

# Bytes per value of TIFF field types 1-13: BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE,
# UNDEFINED, SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE, IFD.
_TIFF_TYPE_SIZES = dict(enumerate((1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4), start=1))
_TIFF_SHORT, _TIFF_LONG = 3, 4
_TAG_IMAGE_WIDTH, _TAG_IMAGE_LENGTH = 256, 257
_TAG_ORIENTATION = 0x0112
_TAG_POINTERS = frozenset({0x8769, 0x8825, 0xA005})  # Exif, GPS and interoperability IFDs
_MAX_IFD_ENTRIES = 1000

IfdEntry = tuple[int, int, int, bytes]  # tag, field type, count, raw 4-byte value field


def png_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the IHDR chunk, which must directly follow the signature."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first start-of-frame marker, walking segments only."""
    position = 2
    for _ in range(_MAX_JPEG_SEGMENTS_BEFORE_FRAME):
        while position < len(data) and data[position] == 0xFF:
            position += 1  # fill bytes before a marker
        if position + 3 > len(data) or data[position - 1] != 0xFF:
            return None
        marker = data[position]
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 1
            continue
        (length,) = struct.unpack(">H", data[position + 1 : position + 3])
        if marker in _JPEG_FRAME_MARKERS:
            if position + 8 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 4 : position + 8])
            return width, height
        if length < 2:
            return None
        position += 1 + length
    return None


def _byte_order(tiff: bytes) -> str | None:
    return {b"II": "<", b"MM": ">"}.get(tiff[:2])


def read_ifd(tiff: bytes, offset: int) -> tuple[list[IfdEntry], int] | None:
    """Entries of the IFD at ``offset`` and the next-IFD offset, or None if out of bounds."""
    order = _byte_order(tiff)
    if order is None or offset < 8 or offset + 2 > len(tiff):
        return None
    (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
    end = offset + 2 + 12 * count
    if count > _MAX_IFD_ENTRIES or end + 4 > len(tiff):
        return None
    entries = [
        (*struct.unpack(order + "HHI", tiff[start : start + 8]), tiff[start + 8 : start + 12])
        for start in range(offset + 2, end, 12)
    ]
    (next_offset,) = struct.unpack(order + "I", tiff[end : end + 4])
    return entries, next_offset


def _first_ifd_offset(tiff: bytes) -> int | None:
    order = _byte_order(tiff)
    if order is None or len(tiff) < 8:
        return None
    magic, offset = struct.unpack(order + "HI", tiff[2:8])
    return offset if magic == 42 else None


def _short_or_long(entry: IfdEntry, order: str) -> int | None:
    _, field_type, _, value = entry
    if field_type == _TIFF_SHORT:
        return int(struct.unpack(order + "H", value[:2])[0])
    if field_type == _TIFF_LONG:
        return int(struct.unpack(order + "I", value)[0])
    return None


def tiff_first_page_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height of the first page of a classic (non-Big) TIFF."""
    offset = _first_ifd_offset(data)
    ifd = read_ifd(data, offset) if offset is not None else None
    if ifd is None:
        return None
    order = _byte_order(data) or "<"
    values = {entry[0]: _short_or_long(entry, order) for entry in ifd[0]}
    width, height = values.get(_TAG_IMAGE_WIDTH), values.get(_TAG_IMAGE_LENGTH)
    if width is None or height is None:
        return None
    return width, height


def _entry_is_valid(entry: IfdEntry, tiff: bytes) -> bool:
    tag, field_type, count, value = entry
    order = _byte_order(tiff) or "<"
    size = _TIFF_TYPE_SIZES.get(field_type)
    if size is None:
        return False
    if size * count > 4:
        (value_offset,) = struct.unpack(order + "I", value)
        if value_offset + size * count > len(tiff):
            return False
    if tag == _TAG_ORIENTATION:
        orientation = _short_or_long(entry, order)
        return orientation is not None and 1 <= orientation <= 8
    if tag in _TAG_POINTERS:
        pointer = _short_or_long(entry, order)
        return pointer is not None and 8 <= pointer < len(tiff)
    return True


def exif_is_valid(exif: bytes) -> bool:
    """Check the first EXIF directory (IFD0) for bounds, orientation and pointer sanity.

    Only IFD0 is read, so a looping or oversized EXIF costs at most one directory.
    """
    tiff = exif.removeprefix(EXIF_PREFIX)
    offset = _first_ifd_offset(tiff)
    ifd = read_ifd(tiff, offset) if offset is not None else None
    if offset is None or ifd is None:
        return False
    entries, next_offset = ifd
    if next_offset != 0 and (next_offset == offset or next_offset + 2 > len(tiff)):
        return False
    return all(_entry_is_valid(entry, tiff) for entry in entries)
