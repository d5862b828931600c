"""Reading order for letters laid out side by side at the top (DIN 5008).

Tesseract reads the address window and the information block beside it as one line
("Stadt Lindenau  Bearbeiter: Herr Schoofs"). A person reads the window first, then the
block. In the upper part of a page, lines that have a wide gap across the middle are
split there; around them, the left column is read before the right one. Everything else
keeps Tesseract's order, so tables further down stay row by row.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from ocr.tesseract import Word

COLUMN_GAP = 0.06  # of the page width: wider than any gap between words of one line
HEADER_ZONE = 0.45  # of the page height: where address window and info block sit
MIDDLE = 0.5  # of the page width: the right column starts beyond it
LINE_SPACING = 1.8  # times the median line height: lines further apart are not one block
MIN_COLUMN_LINES = 3  # an address and an info block have several lines; a form row has one


@dataclass(frozen=True)
class _Segment:
    words: tuple[Word, ...]

    @property
    def left(self) -> int:
        return self.words[0].left

    @property
    def right(self) -> int:
        return max(w.left + w.width for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class _Line:
    segments: tuple[_Segment, ...]
    top: int
    bottom: int

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)


def reading_order_text(words: Sequence[Word], page_width: int, page_height: int) -> str:
    lines = _lines(words, page_width)
    if not lines:
        return ""
    height = median(line.bottom - line.top for line in lines)
    out: list[str] = []
    index = 0
    while index < len(lines):
        end = _two_column_run(lines, index, page_width, page_height, height)
        if end == index:
            out.append(lines[index].text)
            index += 1
            continue
        run = lines[index:end]
        middle = page_width * MIDDLE
        for right in (False, True):
            for line in run:
                parts = [s.text for s in line.segments if (s.left >= middle) == right]
                if parts:
                    out.append(" ".join(parts))
        index = end
    return "\n".join(out)


def _lines(words: Sequence[Word], page_width: int) -> list[_Line]:
    grouped: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        grouped.setdefault(word.line, []).append(word)
    lines = []
    for line_words in grouped.values():
        ordered = sorted(line_words, key=lambda w: w.left)
        segments: list[list[Word]] = [[ordered[0]]]
        for previous, word in itertools.pairwise(ordered):
            if word.left - (previous.left + previous.width) > COLUMN_GAP * page_width:
                segments.append([])
            segments[-1].append(word)
        lines.append(
            _Line(
                segments=tuple(_Segment(tuple(s)) for s in segments),
                top=min(w.top for w in ordered),
                bottom=max(w.top + w.height for w in ordered),
            )
        )
    return lines


def _two_column_run(
    lines: list[_Line], start: int, width: int, height: int, line_height: float
) -> int:
    """End (exclusive) of the side-by-side block that starts at ``start``, or ``start``."""
    middle = width * MIDDLE
    end = start
    has_split = False
    per_side = {False: 0, True: 0}
    while end < len(lines):
        line = lines[end]
        if line.top > height * HEADER_ZONE or _crosses(line, middle):
            break
        if end > start and line.top - lines[end - 1].bottom > LINE_SPACING * line_height:
            break
        sides = {s.left >= middle for s in line.segments}
        has_split = has_split or len(sides) == 2
        for side in sides:
            per_side[side] += 1
        end += 1
    side_by_side = has_split and min(per_side.values()) >= MIN_COLUMN_LINES
    return end if side_by_side else start


def _crosses(line: _Line, middle: float) -> bool:
    """A segment that runs across the middle belongs to neither column."""
    return any(s.left < middle < s.right for s in line.segments)
