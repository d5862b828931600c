"""File-number formats written the way an administrator writes them, e.g. ``36.2-FE-NNNN/YY``.

Notation: a run of ``N`` is that many digits, ``YYYY``/``YY`` a year, a run of ``X`` that many
letters or digits, a run of ``A`` up to that many letters; any other letters and digits are
literal (``FE``, ``OWi``, the office code ``36.2``); ``-``, ``.``, ``/`` and spaces separate.

A compiled format finds references in text the way people really write them and renders each
as the canonical form, so ``sta 2026 412``, ``FE-0193/2026`` and ``63-BA-0234/2026`` become
``STA-2026-00412``, ``36.2-FE-0193/26`` and ``63-BA-2026-0234``. Tolerated, when the format has a
letter literal to anchor it: any case, spaces or other separators instead of the written ones,
dropped leading zeros, a dropped office-code prefix, a two-digit year for a four-digit one and
the reverse, and the number written before the year with a slash. Formats of digits only
(``22.NNNN.NNNN.N``) are matched with their exact digit counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDERS = {"N", "Y", "X", "A"}
_DIGIT = "[0-9OoIl]"  # OCR and typists confuse O/0 and I/l/1 inside numbers
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})
_SEPARATOR = r"(?:\s{0,2}[-–./_:,]?\s{0,2})"
_REQUIRED_SEPARATOR = r"(?:\s{1,2}|\s{0,2}[-–./_:,]\s{0,2})"


class ReferenceFormatError(ValueError):
    """The format string cannot be compiled."""


@dataclass(frozen=True)
class _Segment:
    index: int  # position in the format as written (names its regex group)
    kind: str  # "literal", "office", "N", "Y", "X", "A"
    text: str  # literal text, or the placeholder run ("NNNN")
    separator_before: str  # the separator written before this segment in the format


@dataclass(frozen=True)
class FormatMatch:
    text: str
    canonical: str
    start: int
    end: int


class ReferenceFormat:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._segments = _parse(pattern)
        # A letter literal ("FE", "OWi") anchors a format so firmly that sloppy writing can be
        # tolerated; letter placeholders ("AA") still allow dropped leading zeros.
        self.anchored = any(s.kind == "literal" and s.text.isalpha() for s in self._segments)
        self.lettered = self.anchored or any(s.kind == "A" for s in self._segments)
        orders = [self._segments]
        swapped = _year_number_swapped(self._segments)
        if swapped is not None and self.anchored:
            orders.append(swapped)
        self._regexes = [re.compile(self._regex(o, self.anchored), re.IGNORECASE) for o in orders]
        # Behind a citation label ("Kassenzeichen 1000.4471.9") the office code may be dropped
        # from any format that keeps at least two parts without it.
        rest = [s for s in self._segments if s.kind != "office"]
        self._relaxed = [re.compile(self._regex(o, True), re.IGNORECASE) for o in orders]
        if len(rest) < 2:
            self._relaxed = self._regexes

    def find(self, text: str, relaxed: bool = False) -> list[FormatMatch]:
        """Every reference of this format in ``text``; ``relaxed`` for text behind a label."""
        found: dict[int, FormatMatch] = {}
        for regex in self._relaxed if relaxed else self._regexes:
            for match in regex.finditer(text):
                canonical = self._canonical(match)
                if canonical is not None and match.start() not in found:
                    found[match.start()] = FormatMatch(
                        match.group(), canonical, match.start(), match.end()
                    )
        return [found[start] for start in sorted(found)]

    def canonicalise(self, text: str) -> str | None:
        """The canonical form of a reference that is exactly this format, else None."""
        for match in self.find(text):
            if match.start == 0 and match.end == len(text.strip()):
                return match.canonical
        return None

    def _regex(self, segments: list[_Segment], office_optional: bool) -> str:
        pieces: list[tuple[_Segment, str, str]] = []
        for position, segment in enumerate(segments):
            separator = ""
            if position > 0:
                between_digits = _is_numeric(segments[position - 1]) and _is_numeric(segment)
                separator = _REQUIRED_SEPARATOR if between_digits else _SEPARATOR
            group = f"(?P<g{segment.index}>{self._group(segment)})"
            pieces.append((segment, separator, group))
        office = 0
        while office < len(pieces) and pieces[office][0].kind == "office":
            office += 1
        body = "".join(separator + group for _, separator, group in pieces)
        if office_optional and 0 < office < len(pieces):
            # The office code and the separator after it may be dropped: "FE-0193/26".
            head = "".join(separator + group for _, separator, group in pieces[:office])
            rest = pieces[office:]
            body = f"(?:{head}{rest[0][1]})?{rest[0][2]}"
            body += "".join(separator + group for _, separator, group in rest[1:])
        return rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])"

    def _group(self, segment: _Segment) -> str:
        width = len(segment.text)
        if segment.kind in ("literal", "office"):
            literal = re.escape(segment.text)
            return literal.replace(r"\.", r"\s?[.,]\s?")
        if segment.kind == "N":
            low = 1 if self.lettered else width
            return f"{_DIGIT}{{{low},{width}}}"
        if segment.kind == "Y":
            return r"(?:20)?[0-9]{2}" if self.anchored or width == 2 else "20[0-9]{2}"
        if segment.kind == "X":
            return f"[0-9A-Za-z]{{{width}}}"
        return f"[A-Za-z]{{1,{width}}}"

    def _canonical(self, match: re.Match[str]) -> str | None:
        values = {int(name[1:]): value for name, value in match.groupdict().items()}
        rendered: list[str] = []
        for segment in self._segments:
            piece = _render(segment, values.get(segment.index), pad=self.anchored)
            if piece is None:
                return None
            rendered.append(segment.separator_before + piece)
        return "".join(rendered)


def _render(segment: _Segment, value: str | None, pad: bool) -> str | None:
    width = len(segment.text)
    if segment.kind in ("literal", "office"):
        return segment.text
    if value is None:
        return None
    if segment.kind == "N":
        if not any(c.isdigit() for c in value):
            return None
        digits = value.translate(_DIGIT_LOOKALIKES)
        return digits.zfill(width) if pad else digits
    if segment.kind == "Y":
        year = value[-2:]
        return year if width == 2 else "20" + year
    return value.upper()


def _is_numeric(segment: _Segment) -> bool:
    return segment.kind in ("N", "Y", "office") or (
        segment.kind == "literal" and segment.text.isdigit()
    )


def _parse(pattern: str) -> list[_Segment]:
    pieces = re.findall(r"[A-Za-z]+|[0-9]+(?:\.[0-9]+)*|[-./ ]+|.", pattern.strip())
    segments: list[_Segment] = []
    separator = ""
    for piece in pieces:
        if re.fullmatch(r"[-./ ]+", piece):
            separator = piece
            continue
        if not re.fullmatch(r"[A-Za-z]+|[0-9]+(?:\.[0-9]+)*", piece):
            raise ReferenceFormatError(f"reference format {pattern!r}: unexpected {piece!r}")
        if piece.isalpha() and set(piece) <= _PLACEHOLDERS and len(set(piece)) == 1:
            if piece[0] == "Y" and len(piece) not in (2, 4):
                raise ReferenceFormatError(f"reference format {pattern!r}: year must be YY or YYYY")
            kind = piece[0]
        elif piece[0].isdigit():
            kind = "office" if not segments else "literal"
        else:
            kind = "literal"
        segments.append(_Segment(len(segments), kind, piece, separator if segments else ""))
        separator = ""
    if not any(s.kind in _PLACEHOLDERS for s in segments):
        raise ReferenceFormatError(f"reference format {pattern!r} has no N, Y, X or A part")
    return segments


def _year_number_swapped(segments: list[_Segment]) -> list[_Segment] | None:
    """``...-YYYY-NNNN`` also as ``...-NNNN/YYYY`` (and the reverse), a common way to write it."""
    for i in range(len(segments) - 1):
        first, second = segments[i], segments[i + 1]
        if {first.kind, second.kind} == {"Y", "N"}:
            return [
                *segments[:i],
                _Segment(second.index, second.kind, second.text, first.separator_before),
                _Segment(first.index, first.kind, first.text, "/"),
                *segments[i + 2 :],
            ]
    return None


def compile_format(pattern: str) -> ReferenceFormat:
    return ReferenceFormat(pattern)
