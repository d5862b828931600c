"""Which way up a page is, cheaply, from the shape of its text lines.

Across the lines (after deskew), a page's ink is spikier along the axis perpendicular to the
lines; along a Latin-script line, ascenders and capitals put more ink above the x-height band
than descenders put below it. Together that tells 0/90/180/270 for pages with a few lines of
text. When the evidence is weak the caller asks Tesseract's OSD instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

_WORK_DPI_LONG_SIDE_PX = 1750  # about 150 dpi for A4: x-height of body text ≈ 10 px
_CORE_SHARE = 0.5  # rows with at least this share of a line's peak ink form its x-height band
_MIN_LINE_ROWS, _MAX_LINE_ROWS = 4, 120
_MIN_LINES = 3
_MIN_MARGIN = 0.2  # (above − below) / (above + below) needed to trust the verdict
_MARGIN_SHARE = 0.06  # scanner edges, fold shadows and punch holes live in the margins

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Orientation:
    rotation: int  # clockwise degrees that make the page upright: 0, 90, 180 or 270
    margin: float  # strength of the evidence, 0..1
    lines: int

    @property
    def certain(self) -> bool:
        return self.lines >= _MIN_LINES and self.margin >= _MIN_MARGIN


def detect_orientation(binary: Image.Image, *, lines_vertical: bool) -> Orientation:
    """Orientation of a deskewed mode "1" page whose lines run across (or down) the image."""
    ink = _ink_at_work_resolution(binary)
    if lines_vertical:
        ink = np.rot90(ink, k=-1)  # turned clockwise: lines read bottom-up become upright or 180
    above, below, lines = _ascender_evidence(ink)
    total = above + below
    margin = abs(above - below) / total if total else 0.0
    upright = above >= below
    rotation = (90 if upright else 270) if lines_vertical else (0 if upright else 180)
    return Orientation(rotation=rotation, margin=round(margin, 3), lines=lines)


def _ink_at_work_resolution(binary: Image.Image) -> BoolArray:
    grey = binary.convert("L")
    factor = max(1, round(max(grey.size) / _WORK_DPI_LONG_SIDE_PX))
    if factor > 1:
        grey = grey.reduce(factor)
    ink = np.asarray(grey, dtype=np.uint8) < 128
    top, left = int(ink.shape[0] * _MARGIN_SHARE), int(ink.shape[1] * _MARGIN_SHARE)
    return ink[top : ink.shape[0] - top, left : ink.shape[1] - left]


def _ascender_evidence(ink: BoolArray) -> tuple[float, float, int]:
    """Ink above and below the x-height band, summed over the text lines, and the line count."""
    profile = ink.sum(axis=1).astype(np.float64)
    if not profile.size:
        return 0.0, 0.0, 0
    has_ink = profile > max(2.0, float(np.percentile(profile, 95)) * 0.05)
    above = below = 0.0
    lines = 0
    row, height = 0, len(profile)
    while row < height:
        if not has_ink[row]:
            row += 1
            continue
        start = row
        while row < height and has_ink[row]:
            row += 1
        band = profile[start:row]
        if not _MIN_LINE_ROWS <= band.size <= _MAX_LINE_ROWS:
            continue
        core = np.nonzero(band >= band.max() * _CORE_SHARE)[0]
        above += float(band[: core[0]].sum())
        below += float(band[core[-1] + 1 :].sum())
        lines += 1
    return above, below, lines
