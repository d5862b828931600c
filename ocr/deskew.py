"""Cheap skew estimation by projection profiles on a downscaled page, and the matching rotation.

Text lines make the ink's projection onto the axis across the lines spiky; the angle that makes
it spikiest is the skew. Pages fed sideways (text running top to bottom) are handled by also
projecting onto the other axis, so deskew works before orientation is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

MAX_SKEW_DEG = 5.0
_COARSE_STEP_DEG = 0.5
_FINE_STEP_DEG = 0.1
_MIN_CORRECTION_DEG = 0.1  # below this a rotation costs more than it helps
_WORK_LONG_SIDE_PX = 900  # estimate on a page about 75 dpi high
_MARGIN_SHARE = 0.06  # scanner edges and punch holes live in the margins
_MAX_INK_POINTS = 60_000
_MIN_INK_POINTS = 200
_MIN_AXIS_RATIO = 1.5  # below this the line direction is left to Tesseract's OSD

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SkewEstimate:
    angle: float  # degrees to rotate counter-clockwise (``Image.rotate``) to level the lines
    lines_vertical: bool  # the text lines run down the image (page turned by 90 or 270)
    axis_ratio: float  # spikiness across the chosen axis over the other one (>= 1)

    @property
    def axis_certain(self) -> bool:
        return self.axis_ratio >= _MIN_AXIS_RATIO


def estimate_skew(image: Image.Image) -> SkewEstimate:
    """Find the skew of the text lines, and whether they run across or down the page."""
    ys, xs = _ink_coordinates(image)
    if ys.size < _MIN_INK_POINTS:
        return SkewEstimate(0.0, lines_vertical=False, axis_ratio=1.0)
    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 1e-9, _COARSE_STEP_DEG)
    rows_angle, rows_score = _best_angle(ys, xs, coarse)
    columns_angle, columns_score = _best_angle(xs, -ys, coarse)
    vertical = columns_score > rows_score
    across, along, start = (xs, -ys, columns_angle) if vertical else (ys, xs, rows_angle)
    fine = np.arange(start - _COARSE_STEP_DEG, start + _COARSE_STEP_DEG + 1e-9, _FINE_STEP_DEG)
    angle, _ = _best_angle(across, along, fine)
    ratio = max(rows_score, columns_score) / max(1.0, min(rows_score, columns_score))
    return SkewEstimate(round(angle, 2), lines_vertical=vertical, axis_ratio=round(ratio, 2))


def deskew(image: Image.Image, angle: float) -> Image.Image:
    """Rotate by ``angle`` degrees counter-clockwise about the centre, keeping the page size."""
    if abs(angle) < _MIN_CORRECTION_DEG:
        return image
    if image.mode == "1":  # nearest neighbour keeps it 1-bit; the steps are below a stroke width
        return image.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=1)
    fill = 255 if image.mode == "L" else (255, 255, 255)
    return image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)


def _ink_coordinates(image: Image.Image) -> tuple[FloatArray, FloatArray]:
    factor = max(1, round(max(image.size) / _WORK_LONG_SIDE_PX))
    small = image.convert("L").reduce(factor) if factor > 1 else image.convert("L")
    pixels = np.asarray(small, dtype=np.uint8)
    height, width = pixels.shape
    top, left = int(height * _MARGIN_SHARE), int(width * _MARGIN_SHARE)
    inner = pixels[top : height - top, left : width - left]
    if inner.size == 0:
        return np.empty(0), np.empty(0)
    background = float(np.median(inner))
    ys, xs = np.nonzero(inner < background * 0.7)
    if ys.size > _MAX_INK_POINTS:
        keep = np.linspace(0, ys.size - 1, _MAX_INK_POINTS).astype(np.int64)
        ys, xs = ys[keep], xs[keep]
    return ys.astype(np.float64), xs.astype(np.float64)


def _best_angle(across: FloatArray, along: FloatArray, angles: FloatArray) -> tuple[float, float]:
    """The angle whose projection of the points onto ``across`` is spikiest, and its score."""
    best_angle, best_score = 0.0, -1.0
    for angle in angles:
        theta = np.deg2rad(angle)
        projected = across * np.cos(theta) - along * np.sin(theta)
        counts = np.bincount((projected - projected.min()).astype(np.int64))
        score = float(np.sum(np.diff(counts.astype(np.float64)) ** 2))
        if score > best_score:
            best_angle, best_score = float(angle), score
    return best_angle, best_score
