"""The QR code every page of a letter carries: a regular QR code (not Micro QR, which most
phone readers do not decode) with error correction level M, as inline SVG."""

from __future__ import annotations

import functools

import segno
from markupsafe import Markup

from letters.models import LetterError

ERROR_CORRECTION = "m"
QUIET_ZONE_MODULES = 4  # the quiet zone ISO/IEC 18004 asks for
MAX_PAYLOAD_CHARS = 200  # a case reference is ~20; anything longer is a mistake


@functools.lru_cache(maxsize=1024)
def qr_svg(payload: str) -> Markup:
    """Inline SVG (sized by CSS: it has a viewBox, no width or height) encoding ``payload``."""
    if not payload or payload != payload.strip():
        raise LetterError("the QR payload must be a non-empty string without outer spaces")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise LetterError(f"the QR payload is longer than {MAX_PAYLOAD_CHARS} characters")
    code = segno.make_qr(payload, error=ERROR_CORRECTION, boost_error=False)
    svg = code.svg_inline(border=QUIET_ZONE_MODULES, omitsize=True, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704  # segno's own markup; the payload is escaped by segno
