"""Inspection of scanned page images: PNG, JPEG and (multi-page) TIFF.

Page dimensions are checked from the header before anything is decoded; only then is the
image verified (PNG), decoded at 1/8 scale (JPEG) or decoded one page at a time (TIFF) to
detect truncation. EXIF is never interpreted here (no ``getexif``/``exif_transpose``): it
is only sanity-checked with a bounded reader so broken metadata can be flagged.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from PIL import Image

from mailroom.intake.content import Content
from mailroom.intake.image_headers import (
    exif_is_valid,
    jpeg_dimensions,
    png_dimensions,
    tiff_first_page_dimensions,
)
from mailroom.intake.inspection_errors import (
    DamagedFileError,
    ImageTooLargeError,
    ImageTooSmallError,
    RejectedFileError,
    TooManyPagesError,
)

if TYPE_CHECKING:
    from mailroom.intake.inspection import UploadLimits

FLAG_INVALID_EXIF = "invalid EXIF ignored"
IMAGE_DAMAGED = "image is damaged or truncated"

# What Pillow raises for corrupt or truncated image data (UnidentifiedImageError is an OSError).
_IMAGE_DECODING_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    zlib.error,
)
_MAX_COUNTED_TIFF_PAGES = 10_000

Dimensions = tuple[int, int]
Findings = tuple[int, list[str]]  # page count and flags


def _pillow_pixel_limit() -> int | None:
    """Pillow refuses images above twice MAX_IMAGE_PIXELS; this module never changes that."""
    return 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else None


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g} MP"


def check_page_dimensions(
    size: Dimensions, limits: UploadLimits, filename: str | None, page: int | None = None
) -> None:
    """Reject a page that would decode to too many pixels or cannot hold a letter."""
    width, height = size
    where = f"page {page}: " if page is not None else ""
    pixel_limit = limits.max_pixels
    pillow_limit = _pillow_pixel_limit()
    if pillow_limit is not None:
        pixel_limit = min(pixel_limit, pillow_limit)
    if width * height > pixel_limit:
        raise ImageTooLargeError(
            f"image too large ({where}{width}×{height} px, limit {_megapixels(pixel_limit)})",
            filename=filename,
        )
    if min(width, height) < limits.min_side_px:
        raise ImageTooSmallError(
            f"image too small to contain a letter ({where}{width}×{height} px)",
            filename=filename,
        )


def _damaged(filename: str | None) -> DamagedFileError:
    return DamagedFileError(IMAGE_DAMAGED, filename=filename, code="image_damaged")


def _bomb_error(filename: str | None) -> ImageTooLargeError:
    limit = _pillow_pixel_limit() or 0
    return ImageTooLargeError(
        f"image too large (more than {_megapixels(limit)}, the decoder's hard limit)",
        filename=filename,
    )


def _open_image(content: Content, image_format: str, filename: str | None) -> Image.Image:
    """Open lazily (headers only) with Pillow, mapping its errors to rejections."""
    try:
        return Image.open(content.open(), formats=[image_format])
    except Image.DecompressionBombError as error:
        raise _bomb_error(filename) from error
    except _IMAGE_DECODING_ERRORS as error:
        raise _damaged(filename) from error


def _checked_header_size(
    content: Content,
    read_dimensions: Callable[[bytes], Dimensions | None],
    limits: UploadLimits,
    filename: str | None,
) -> Dimensions:
    with content.buffer() as data:
        size = read_dimensions(data)  # type: ignore[arg-type]  # a memory map reads alike
    if size is None:
        raise _damaged(filename)
    check_page_dimensions(size, limits, filename)
    return size


def inspect_png(data: Content, limits: UploadLimits, filename: str | None) -> Findings:
    """Dimensions from IHDR, then ``verify()`` walks every chunk and checks its CRC."""
    _checked_header_size(data, png_dimensions, limits, filename)
    with _open_image(data, "PNG", filename) as image:
        try:
            image.verify()
        except _IMAGE_DECODING_ERRORS as error:
            raise _damaged(filename) from error
    return 1, []


def inspect_jpeg(data: Content, limits: UploadLimits, filename: str | None) -> Findings:
    """Dimensions from the SOF marker, then a cheap 1/8-scale decode to find truncation."""
    size = _checked_header_size(data, jpeg_dimensions, limits, filename)
    with _open_image(data, "JPEG", filename) as image:
        try:
            image.draft("L", (max(1, size[0] // 8), max(1, size[1] // 8)))
            image.load()
        except _IMAGE_DECODING_ERRORS as error:
            raise _damaged(filename) from error
        exif = image.info.get("exif")
    flags = [FLAG_INVALID_EXIF] if isinstance(exif, bytes) and not exif_is_valid(exif) else []
    return 1, flags


def _tiff_page_sizes(image: Image.Image, limits: UploadLimits, filename: str | None) -> int:
    """Count pages by walking the IFD chain (no decoding) and check every page's size and
    the pixels of all pages together (what reading the file would cost)."""
    pages = total_pixels = 0
    while pages < _MAX_COUNTED_TIFF_PAGES:
        try:
            image.seek(pages)
        except EOFError:
            break
        pages += 1
        check_page_dimensions(image.size, limits, filename, page=pages)
        total_pixels += image.size[0] * image.size[1]
        if total_pixels > limits.max_item_pixels:
            raise ImageTooLargeError(
                f"image too large in total (more than {_megapixels(limits.max_item_pixels)} "
                f"in the first {pages} pages)",
                filename=filename,
            )
    if pages > limits.max_pages:
        counted = f"at least {pages}" if pages == _MAX_COUNTED_TIFF_PAGES else str(pages)
        raise TooManyPagesError(
            f"too many pages ({counted} > limit {limits.max_pages})", filename=filename
        )
    return pages


def inspect_tiff(data: Content, limits: UploadLimits, filename: str | None) -> Findings:
    """Count and size-check all pages first, then decode them one at a time."""
    with data.buffer() as buffer:
        first_page_size = tiff_first_page_dimensions(buffer)  # type: ignore[arg-type]
    if first_page_size is not None:
        check_page_dimensions(first_page_size, limits, filename, page=1)
    try:
        with _open_image(data, "TIFF", filename) as image:
            pages = _tiff_page_sizes(image, limits, filename)
            for page in range(pages):
                image.seek(page)
                image.load()
    except RejectedFileError:
        raise  # a page count or size rejection, not a decoding problem
    except Image.DecompressionBombError as error:
        raise _bomb_error(filename) from error
    except _IMAGE_DECODING_ERRORS as error:
        raise _damaged(filename) from error
    return pages, []
