"""Turn one page of a file into a greyscale image, decoding only that page.

A scan PDF page that is one full-page image gives that image as it is (no rasterising); any
other PDF page is rendered at the configured dpi. TIFF frames are decoded one at a time.
The sizes are checked before anything is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, UnidentifiedImageError

from ocr import errors
from ocr.sniff import FileKind

_FULL_PAGE_SHARE = 0.95  # an image covering this much of the page in both directions
_SIMPLE_COLORSPACES = frozenset(
    {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_DEVICERGB}
)
_MIN_PLAUSIBLE_DPI, _MAX_PLAUSIBLE_DPI = 70.0, 1200.0
_POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class Placement:
    """Where the raster lies on its PDF page, in unrotated user space (points)."""

    left: float
    bottom: float
    width: float
    height: float


@dataclass(frozen=True)
class PageRaster:
    image: Image.Image  # mode "L"
    dpi: float | None  # None when the file does not say and it cannot be derived
    placement: Placement  # for image files: the page a PDF of it would have
    source: str  # "embedded-image", "rendered" or "image-file"


def load_page(path: Path, kind: FileKind, index: int, *, dpi: int, max_pixels: int) -> PageRaster:
    """Decode page ``index`` (0-based) of the file at ``path``."""
    if kind is FileKind.PDF:
        return _load_pdf_page(path, index, dpi=dpi, max_pixels=max_pixels)
    return _load_image_frame(path, index, max_pixels=max_pixels)


def _load_pdf_page(path: Path, index: int, *, dpi: int, max_pixels: int) -> PageRaster:
    document = pdfium.PdfDocument(str(path))
    try:
        page = document[index]
        page.set_rotation(0)  # work in unrotated user space; the result carries the rotation
        embedded = full_page_image(page)
        if embedded is not None:
            return _decode_embedded(embedded, max_pixels=max_pixels)
        return _render(page, dpi=dpi, max_pixels=max_pixels)
    finally:
        document.close()


def pdf_page_pixels(page: pdfium.PdfPage, *, dpi: int) -> int:
    """How many pixels :func:`load_page` will decode for ``page``, without decoding any."""
    embedded = full_page_image(page)
    if embedded is not None:
        width, height = embedded.get_px_size()
        return int(width) * int(height)
    width, height = _rendered_size(page, dpi)
    return width * height


def full_page_image(page: pdfium.PdfPage) -> pdfium.PdfImage | None:
    """The page's only content when that is an upright image covering it, else None."""
    objects = list(page.get_objects(max_depth=0))
    if len(objects) != 1 or not isinstance(objects[0], pdfium.PdfImage):
        return None
    image = objects[0]
    a, b, c, d, _, _ = image.get_matrix().get()
    left, bottom, right, top = page.get_cropbox()
    covers = a >= (right - left) * _FULL_PAGE_SHARE and d >= (top - bottom) * _FULL_PAGE_SHARE
    if b != 0 or c != 0 or not covers:
        return None
    if image.get_metadata().colorspace not in _SIMPLE_COLORSPACES:
        return None
    return image


def _decode_embedded(image: pdfium.PdfImage, *, max_pixels: int) -> PageRaster:
    width, height = image.get_px_size()
    _check_size(width, height, max_pixels)
    a, _, _, d, e, f = image.get_matrix().get()
    pixels = image.get_bitmap(render=False).to_pil().convert("L")
    if float(np.median(np.asarray(pixels.reduce(8)))) < 100:  # stored inverted (/Decode [1 0])
        pixels = Image.eval(pixels, lambda value: 255 - value)
    return PageRaster(
        image=pixels,
        dpi=width / (a / _POINTS_PER_INCH),
        placement=Placement(left=e, bottom=f, width=a, height=d),
        source="embedded-image",
    )


def _rendered_size(page: pdfium.PdfPage, dpi: int) -> tuple[int, int]:
    left, bottom, right, top = page.get_cropbox()
    scale = dpi / _POINTS_PER_INCH
    return round((right - left) * scale), round((top - bottom) * scale)


def _render(page: pdfium.PdfPage, *, dpi: int, max_pixels: int) -> PageRaster:
    left, bottom, right, top = page.get_cropbox()
    width, height = _rendered_size(page, dpi)
    _check_size(width, height, max_pixels)
    scale = dpi / _POINTS_PER_INCH
    pixels = page.render(scale=scale, grayscale=True, fill_color=(255, 255, 255, 255)).to_pil()
    return PageRaster(
        image=pixels.convert("L"),
        dpi=float(dpi),
        placement=Placement(left=left, bottom=bottom, width=right - left, height=top - bottom),
        source="rendered",
    )


def _load_image_frame(path: Path, index: int, *, max_pixels: int) -> PageRaster:
    try:
        with Image.open(path) as image:
            image.seek(index)
            _check_size(image.width, image.height, max_pixels)
            dpi = _plausible_dpi(image.info.get("dpi"))
            pixels = _to_grey(image)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, EOFError) as exc:
        raise errors.image_damaged(str(exc) or type(exc).__name__) from exc
    points_per_px = _POINTS_PER_INCH / (dpi or 300.0)
    placement = Placement(0.0, 0.0, pixels.width * points_per_px, pixels.height * points_per_px)
    return PageRaster(image=pixels, dpi=dpi, placement=placement, source="image-file")


def _to_grey(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        scaled = np.asarray(image, dtype=np.uint32) >> 8
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image.convert("RGBA"))
        return background.convert("L")
    return image.convert("L")


def _plausible_dpi(value: object) -> float | None:
    if isinstance(value, tuple) and value and isinstance(value[0], int | float):
        dpi = float(value[0])
        if _MIN_PLAUSIBLE_DPI <= dpi <= _MAX_PLAUSIBLE_DPI:
            return dpi
    return None


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise errors.image_too_large(width, height, max_pixels)
