"""Finding a case by a cited reference without knowing the reference's format.

Every case reference in the directory is reduced to *groups*: its runs of letters and of digits,
upper case, leading zeros dropped, separators (spaces, dashes, slashes, dots) ignored and OCR
look-alikes inside numbers read as digits (``2O26`` -> ``2026``, ``O815`` -> ``815``). The
directory indexes a few *lookup keys* per case (``case_lookup_keys``):

- ``=63-BA-2026-234``: all groups;
- ``=2026-234``: a trailing part of the groups ("a part of the number": the prefix, the office
  code or the department letters dropped), only when it keeps at least ``MIN_PART_DIGITS``
  digits, so that it stays distinctive;
- ``#20260234``: the digits of the whole reference or of such a part, as one run, for a
  reference written without any separators.

A letter is read as short sequences (1 to 4 adjacent words on one line, of digits or short
letter codes, see ``letter_windows``); each is keyed the same way, also with a year and an
adjacent number swapped (``0234/2026`` for ``63-BA-2026-0234``). A key found for exactly one
case names that case; a key shared by several cases is ambiguous and attaches nothing.
Whether the sender is the case's party is for ``routing.followup`` to decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from routing.text import STOPWORDS, fold

MIN_PART_DIGITS = 6  # a trailing part of a reference needs this many digits to be looked up
MAX_WINDOW_WORDS = 4
_MAX_CODE_LETTERS = 5  # "KD", "BA", "OWi", "sta": letter codes inside a reference

_RUN = re.compile(r"[0-9]+|[A-Z]+")
_TOKEN = re.compile(r"[0-9A-Za-z]+")
WORD = re.compile(r"[0-9A-Za-zÄÖÜäöüß]+(?:[-–./_][0-9A-Za-zÄÖÜäöüß]+)*")
_LOOKALIKE_RUN = re.compile(r"[OoIlLSs|]{1,2}")
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "L": "1", "|": "1"})
_DIGIT_LOOKALIKES_S = str.maketrans({"S": "5", "s": "5"})
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True)
class Group:
    written: str  # digits as written (zeros kept) or letters upper case
    key: str  # digits without leading zeros, letters upper case

    @property
    def numeric(self) -> bool:
        return self.key.isdigit()


def _fold_token(token: str) -> str:
    """``2O26`` -> ``2026``, ``O815`` -> ``0815``; ``OWi``, ``SP`` or ``LIN`` stay letters."""
    runs = re.findall(r"[0-9]+|[^0-9]+", token)
    digits = sum(len(r) for r in runs if r.isdigit())
    letters = [r for r in runs if not r.isdigit()]
    if digits < 2 or not letters or not all(_LOOKALIKE_RUN.fullmatch(r) for r in letters):
        return token
    return token.translate(_DIGIT_LOOKALIKES).translate(_DIGIT_LOOKALIKES_S)


def groups(text: str) -> tuple[Group, ...]:
    """The letter and digit runs of a written reference, normalised (see the module doc)."""
    result = []
    for token in _TOKEN.findall(text):
        for run in _RUN.findall(_fold_token(token).upper()):
            key = (run.lstrip("0") or "0") if run.isdigit() else run
            result.append(Group(run, key))
    return tuple(result)


def significant(parts: Sequence[Group]) -> int:
    """Characters that tell references apart: letters and digits without leading zeros."""
    return sum(len(g.key) for g in parts)


def _digits(parts: Sequence[Group]) -> str:
    return "".join(g.written for g in parts if g.numeric)


def _number_digits(parts: Sequence[Group]) -> int:
    return sum(len(g.key) for g in parts if g.numeric)


def _key(parts: Sequence[Group]) -> str:
    return "=" + "-".join(g.key for g in parts)


def case_lookup_keys(reference: str) -> list[str]:
    """The keys the directory indexes for a case reference (see the module doc), sorted."""
    parts = groups(reference)
    if not parts:
        return []
    keys = {_key(parts)}
    if _number_digits(parts) >= MIN_PART_DIGITS:
        keys.add("#" + _digits(parts))
    for start in range(1, len(parts)):
        tail = parts[start:]
        coded = not tail[0].numeric and len(tail[0].key) >= 2  # "FE-0193/26", "OWi-2026-4512"
        if _number_digits(tail) >= (MIN_PART_DIGITS - 2 if coded else MIN_PART_DIGITS):
            keys.add(_key(tail))
        if _number_digits(tail) >= MIN_PART_DIGITS:
            keys.add("#" + _digits(tail))
    return sorted(k for k in keys if len(k) <= KEY_LENGTH)


KEY_LENGTH = 80  # the directory's column width; longer keys are not indexed


@dataclass(frozen=True)
class Citation:
    """A sequence of words in the letter that may be a reference, with its lookup keys."""

    text: str  # as written
    position: int
    parts: tuple[Group, ...]
    keys: dict[str, str]  # lookup key -> how it was read ("written", "year and number swapped")


def letter_windows(text: str) -> list[Citation]:
    """Every run of 1 to 4 adjacent words on one line that contains a number, keyed."""
    citations = []
    offset = 0
    for line in text.splitlines(keepends=True):
        for run in _word_runs(line):
            for first in range(len(run)):
                for last in range(first, min(len(run), first + MAX_WINDOW_WORDS)):
                    window = run[first : last + 1]
                    if not any(any(c.isdigit() for c in w.group()) for w in window):
                        continue
                    start, end = window[0].start(), window[-1].end()
                    citation = citation_of(line[start:end], offset + start)
                    if citation is not None:
                        citations.append(citation)
        offset += len(line)
    return citations


def citation_of(written: str, position: int = 0) -> Citation | None:
    parts = groups(written)
    if not any(g.numeric for g in parts) or significant(parts) < 3:
        return None
    keys = {_key(parts): "written"}
    for swapped in _year_swaps(parts):
        keys.setdefault(_key(swapped), "year and number swapped")
    if _number_digits(parts) >= MIN_PART_DIGITS:
        keys.setdefault("#" + _digits(parts), "digits")
    return Citation(written, position, parts, keys)


def tightened(citation: Citation, key: str) -> Citation:
    """The citation without leading or trailing letter words that do not make its ``key``:
    "Konto 47110815" read by its digits is "47110815"."""
    while True:
        words = list(WORD.finditer(citation.text))
        if len(words) < 2:
            return citation
        for word in (words[0], words[-1]):
            if any(c.isdigit() for c in word.group()):
                continue
            rest = words[1:] if word is words[0] else words[:-1]
            start, end = rest[0].start(), rest[-1].end()
            shorter = citation_of(citation.text[start:end], citation.position + start)
            if shorter is not None and key in shorter.keys:
                citation = shorter
                break
        else:
            return citation


def _year_swaps(parts: tuple[Group, ...]) -> Iterable[tuple[Group, ...]]:
    for i in range(len(parts) - 1):
        a, b = parts[i], parts[i + 1]
        if a.numeric and b.numeric and (_YEAR.fullmatch(a.key) or _YEAR.fullmatch(b.key)):
            yield (*parts[:i], b, a, *parts[i + 2 :])


def _word_runs(line: str) -> list[list[re.Match[str]]]:
    """Maximal runs of reference-like words separated by nothing but spaces or a colon."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    previous_end = 0
    for match in WORD.finditer(line):
        word = match.group()
        gap = line[previous_end : match.start()]
        if current and not re.fullmatch(r"[ \t:#]{0,3}", gap):
            runs.append(current)
            current = []
        if reference_like(word):
            current.append(match)
        elif current:
            runs.append(current)
            current = []
        previous_end = match.end()
    if current:
        runs.append(current)
    return runs


def reference_like(word: str) -> bool:
    """A word that may be part of a reference: it has a digit or is a short letter code."""
    if any(c.isdigit() for c in word):
        return True
    return word.isascii() and len(word) <= _MAX_CODE_LETTERS and fold(word) not in STOPWORDS


def whole(citation: Citation, key: str, reference: str) -> bool:
    """Whether ``key`` reads the citation as all of ``reference`` in its order (not a part of
    it, not with year and number swapped)."""
    same = [g.key for g in groups(reference)] == [g.key for g in citation.parts]
    return citation.keys[key] == "written" and same


def describe(citation: Citation, key: str, reference: str) -> str:
    """How a citation was read as ``reference``, for the explanation."""
    how = citation.keys[key]
    if whole(citation, key, reference):
        return f"{citation.text!r} is {reference} written differently"
    if how == "year and number swapped":
        return f"{citation.text!r} is {reference} with year and number swapped"
    return f"{citation.text!r} is a distinctive part of {reference}"
