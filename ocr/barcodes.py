"""QR codes on page images: the case reference our own letters carry on every page, so that
a reply that encloses one (or a copy) can be attached to its case.

Only regular QR codes are looked for (what our letters print and phones read; Micro QR and
rMQR are rare on letters and, being small with little error correction, the likeliest to be
"found" in noise): restricting zxing-cpp to one format keeps it fast. A first pass reads the
page as it is; when it finds nothing, a second pass reads a copy with dark specks and thin
noise closed over (dust, toner, grey recycled paper), which costs a few milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from ocr.environment import is_environment_error

logger = logging.getLogger(__name__)

# zxing-cpp 3 names the regular (Model 2) QR code QRCodeModel2, its QRCode being the family
# with Micro QR and rMQR; in zxing-cpp 2 QRCode is the regular one. The module keeps the
# enum member, each call makes its BarcodeFormats set: a set held by the module outlives
# nanobind's checks at interpreter exit, which then prints "leaked instance" lines.
QR_FORMAT = getattr(zxingcpp.BarcodeFormat, "QRCodeModel2", zxingcpp.BarcodeFormat.QRCode)

_POINTS_PER_INCH = 72.0
_MAX_RENDER_PIXELS = 40_000_000  # a text-layer page larger than A2 at 150 dpi is rendered coarser
_SMALL_LONG_SIDE_PX = 2400  # below ~200 dpi for A4 the second pass enlarges the page
_MAX_PAYLOAD_CHARS = 2000  # what a page result carries of one code, at most


def read_qr_codes(image: Image.Image) -> tuple[str, ...]:
    """The texts of the QR codes on ``image`` (any mode), in reading order (top to bottom,
    then left to right), each once. Never raises for a bad image: no codes then."""
    try:
        found = _decode(image)
        if not found:
            found = _decode(_retry_variant(image))
    except Exception as exc:
        if is_environment_error(exc):
            raise
        logger.info("QR detection failed: %s: %s", type(exc).__name__, exc)
        return ()
    return found


def _decode(image: Image.Image) -> tuple[str, ...]:
    grey = image if image.mode == "L" else image.convert("L")
    barcodes = zxingcpp.read_barcodes(
        grey, formats=zxingcpp.BarcodeFormats(QR_FORMAT), try_rotate=True
    )
    placed = sorted(
        (
            (barcode.position.top_left.y, barcode.position.top_left.x, barcode.text)
            for barcode in barcodes
            if barcode.valid and barcode.text
        ),
    )
    texts: list[str] = []
    for _, _, text in placed:
        if text not in texts:
            texts.append(text[:_MAX_PAYLOAD_CHARS])
    return tuple(texts)


def _retry_variant(image: Image.Image) -> Image.Image:
    """The page with dark specks and thin noise removed (a 3×3 grey closing, ~5 ms for a
    300-dpi A4 page); a small image is enlarged first, so that its modules survive."""
    grey = image if image.mode == "L" else image.convert("L")
    if max(grey.size) < _SMALL_LONG_SIDE_PX:
        grey = grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.uint8)
    closed = _rank3(_rank3(pixels, np.maximum), np.minimum)
    return Image.fromarray(closed)


def _rank3(pixels: npt.NDArray[np.uint8], op: np.ufunc) -> npt.NDArray[np.uint8]:
    """Each pixel replaced by ``op`` (max or min) of its 3×3 neighbourhood (separable)."""
    across = pixels.copy()
    op(across[:, 1:], pixels[:, :-1], out=across[:, 1:])
    op(across[:, :-1], pixels[:, 1:], out=across[:, :-1])
    result = across.copy()
    op(result[1:, :], across[:-1, :], out=result[1:, :])
    op(result[:-1, :], across[1:, :], out=result[:-1, :])
    return result


def read_pdf_page_codes(
    path: Path, indexes: Iterable[int], *, dpi: int
) -> dict[int, tuple[str, ...]]:
    """QR codes of the given pages (0-based) of the PDF at ``path``, each page rendered in
    grey at ``dpi`` for this only (about 5 ms to render and 5 ms to search an A4 text page at
    150 dpi). Pages that cannot be rendered have no codes; only the machine's failures raise.
    """
    found: dict[int, tuple[str, ...]] = {}
    wanted = list(indexes)
    if not wanted:
        return found
    document = pdfium.PdfDocument(str(path))
    try:
        for index in wanted:
            try:
                codes = read_qr_codes(_render(document[index], dpi))
            except Exception as exc:
                if is_environment_error(exc):
                    raise
                logger.info("page %d: not rendered for QR codes: %s", index + 1, exc)
                continue
            if codes:
                found[index] = codes
    finally:
        document.close()
    return found


def _render(page: pdfium.PdfPage, dpi: int) -> Image.Image:
    width, height = page.get_size()
    scale = dpi / _POINTS_PER_INCH
    pixels = width * height * scale * scale
    if pixels > _MAX_RENDER_PIXELS:
        scale *= (_MAX_RENDER_PIXELS / pixels) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True, fill_color=(255, 255, 255, 255))
    image: Image.Image = bitmap.to_pil().convert("L")
    return image
