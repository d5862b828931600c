"""Finding case references in a letter.

Two kinds:

- the mailroom's own references (``LIN-2026-7K3F-92QD``), validated by their check character
  (``aggregates.reference``). An OCR-damaged one is *repaired* when exactly one substitution of
  look-alike characters (0/D/Q, 1/7/T, 2/Z, 5/S, 6/G, 8/B, U/V, ...) makes the check character
  fit, and is reported as ``invalid`` (never looked up) otherwise;
- legacy file numbers in the formats of the catalog (``STA-YYYY-NNNNN``, Kassenzeichen
  ``22.NNNN.NNNN.N``, the portal's ``LIN-XXXX-XXXX``...), tolerant of sloppy writing (see
  ``routing.reference_formats``). Behind a citation label ("Ihr Zeichen", "Aktenzeichen",
  "Kassenzeichen", "Vorgangsnummer", ...) even a dropped office code is accepted. A number
  behind the sender's own label ("Unser Zeichen") is the sender's, not the city's, and skipped;
- anything shaped like a file number, whatever the catalog lists: letter codes and numbers
  joined by dashes, dots or slashes (``63-BA-2025-1187``, ``22.2-48811``; not dates, phone
  numbers or amounts), and the digits and short codes behind a citation label
  ("Kundennr. 4711 0815"). These have no department; the case directory decides what they
  name (``routing.reference_lookup``).

``reference_key`` turns any written or canonical reference into the key the case directory
is searched with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from aggregates.reference import ALPHABET, InvalidReferenceError, Reference
from routing.catalog import Catalog
from routing.reference_formats import ReferenceFormat, compile_format
from routing.reference_lookup import WORD, reference_like

ReferenceKind = Literal["mailroom", "legacy"]
ReferenceStatus = Literal["valid", "repaired", "invalid"]

CITATION_LABELS = (
    "ihr zeichen",
    "ihr az",
    "ihre az",
    "ihr aktenzeichen",
    "aktenzeichen",
    "az.",
    "az:",
    "az ",
    "kd-nr",
    "kd.-nr",
    "kdnr",
    "geschäftszeichen",
    "vorgangsnummer",
    "vorgang",
    "kassenzeichen",
    "kundennummer",
    "kunden-nr",
    "kundennr",
    "auftragsnummer",
    "antragsnummer",
    "referenz",
    "your reference",
)
SENDER_OWN_LABELS = ("unser zeichen", "unser az", "unsere referenz", "mein zeichen", "our ref")

# OCR and handwriting confusions between characters of the reference alphabet.
_CONFUSABLE = {
    "0": "DQ",
    "D": "0",
    "Q": "0",
    "1": "7T",
    "7": "1T",
    "T": "17",
    "2": "Z",
    "Z": "2",
    "5": "S",
    "S": "5",
    "6": "G",
    "G": "69",
    "8": "B",
    "B": "8",
    "V": "UY",
    "Y": "V",
    "M": "N",
    "N": "MH",
    "H": "N",
    "K": "X",
    "X": "K",
    "E": "F",
    "F": "E",
    "P": "R",
    "R": "P",
    "4": "A",
    "A": "4",
    "9": "G",
}


_KEY_LOOKALIKES = str.maketrans("OIL", "011")
# A file number of any format: letters and digits joined by dashes, dots or slashes.
_SHAPED = re.compile(r"(?<![\w\-–./@])[0-9A-Za-z]+(?:[-–./][0-9A-Za-z]+)+(?![\w@]|[-–/]\w)")
_DATE = re.compile(r"\d{1,2}[./]\d{1,2}[./](?:\d{2}|\d{4})|\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{4}")
_LABEL_TAIL = re.compile(r"[\s:.#\-–/]*(?:(?:nr|nummer|no)\b\.?[\s:]*)?", re.IGNORECASE)
_BODY_LOOKALIKES = str.maketrans("OILU", "011V")


@dataclass(frozen=True)
class FoundReference:
    text: str  # exactly as written in the letter
    reference: str  # canonical form ("" when an own reference could not be repaired)
    kind: ReferenceKind
    status: ReferenceStatus
    department_id: str | None  # owner of the format; None: city-wide or own reference
    position: int

    @property
    def usable(self) -> bool:
        return self.status != "invalid"


def reference_key(reference: str) -> str:
    """Case-insensitive key without separators; look-alike letters folded like digits."""
    compact = re.sub(r"[^0-9A-Z]", "", reference.upper())
    return compact.translate(_KEY_LOOKALIKES)


class ReferenceFinder:
    """Finds references of one catalog; build once, use for every letter."""

    def __init__(self, catalog: Catalog) -> None:
        self.prefix = catalog.city.reference_prefix.upper()
        self._formats: list[tuple[ReferenceFormat, str | None]] = [
            (compile_format(pattern), department)
            for pattern, department in catalog.reference_formats()
        ]
        self._own = re.compile(
            rf"(?<![0-9A-Za-z]){re.escape(self.prefix)}[\s\-–]{{0,2}}([0-9OoIlL]{{4}})"
            r"[\s\-–]{0,2}([0-9A-Za-z]{4})[\s\-–]{0,2}([0-9A-Za-z]{4})(?![0-9A-Za-z])",
            re.IGNORECASE,
        )

    @cached_property
    def _label_regex(self) -> re.Pattern[str]:
        labels = "|".join(re.escape(label) for label in CITATION_LABELS + SENDER_OWN_LABELS)
        return re.compile(rf"(?<![a-zäöü])({labels})", re.IGNORECASE)

    def find(self, text: str) -> list[FoundReference]:
        found = self._own_references(text)
        taken = [(f.position, f.position + len(f.text)) for f in found]
        for reference_format, department in self._formats:
            for match in reference_format.find(text):
                self._add(found, taken, text, match.text, match.canonical, match.start, department)
        windows = self._cited_windows(text)
        for start, end in windows:
            window = text[start:end]
            for reference_format, department in self._formats:
                for match in reference_format.find(window, relaxed=True):
                    position = start + match.start
                    self._add(found, taken, text, match.text, match.canonical, position, department)
        for shaped in _SHAPED.finditer(text):
            if _shaped_like_reference(shaped.group(), text, shaped.start()):
                written = shaped.group()
                self._add(found, taken, text, written, _plain(written), shaped.start(), None)
        for start, end in windows:
            cited = _cited_sequence(text, start, end)
            if cited is not None:
                self._add(found, taken, text, cited[1], _plain(cited[1]), cited[0], None)
        return sorted(found, key=lambda f: f.position)

    def _add(
        self,
        found: list[FoundReference],
        taken: list[tuple[int, int]],
        text: str,
        written: str,
        canonical: str,
        position: int,
        department: str | None,
    ) -> None:
        end = position + len(written)
        if any(position < t_end and t_start < end for t_start, t_end in taken):
            return
        if self._cited_by_sender(text, position):
            return
        taken.append((position, end))
        found.append(FoundReference(written, canonical, "legacy", "valid", department, position))

    def _cited_windows(self, text: str) -> list[tuple[int, int]]:
        windows = []
        for match in self._label_regex.finditer(text):
            if match.group(1).lower() in SENDER_OWN_LABELS:
                continue
            line_end = text.find("\n", match.end())
            windows.append((match.end(), len(text) if line_end < 0 else line_end))
        return windows

    def _cited_by_sender(self, text: str, position: int) -> bool:
        """Whether the nearest label before the reference on its line is the sender's own."""
        line_start = text.rfind("\n", 0, position) + 1
        labels = self._label_regex.findall(text[line_start:position])
        return bool(labels) and labels[-1].lower() in SENDER_OWN_LABELS

    def _own_references(self, text: str) -> list[FoundReference]:
        result = []
        for match in self._own.finditer(text):
            written = match.group()
            if sum(c.isdigit() for c in match.group(1)) < 2:
                continue
            status: ReferenceStatus = "valid"
            try:
                reference: str = str(Reference.parse(written, self.prefix))
            except InvalidReferenceError:
                repaired = repair_reference(
                    self.prefix, match.group(1) + match.group(2) + match.group(3)
                )
                status = "repaired" if len(repaired) == 1 else "invalid"
                reference = str(repaired[0]) if len(repaired) == 1 else ""
            result.append(
                FoundReference(written, reference, "mailroom", status, None, match.start())
            )
        return result


def _shaped_like_reference(written: str, text: str, position: int) -> bool:
    """``63-BA-2025-1187``, ``22.2-48811``, ``LIN-Q2M8-4TTA``: yes. Dates, phone numbers,
    amounts, house number ranges, ``I/2026``, web and e-mail addresses: no."""
    pieces = re.split(r"[-–./]", written)
    if sum(c.isdigit() for c in written) < 4 or _DATE.fullmatch(written):
        return False
    if any(p.isalpha() and len(p) > 6 for p in pieces) or "@" in text[position - 1 : position]:
        return False
    if re.search(r"(?i)www|https?", text[max(0, position - 12) : position + len(written)]):
        return False
    if any(sum(c.isalpha() for c in p) >= 2 for p in pieces):
        return True
    if len(pieces) < 3 or not all(p.isdigit() for p in pieces) or pieces[0].startswith("0"):
        return False
    return not all(len(p) == 3 for p in pieces[1:])  # 1.250.000 is an amount


def _cited_sequence(text: str, start: int, end: int) -> tuple[int, str] | None:
    """The digits and short codes right behind a citation label: ``Kundennr. 4711 0815``."""
    tail = _LABEL_TAIL.match(text, start, end)
    begin = start if tail is None else tail.end()
    words: list[re.Match[str]] = []
    position = begin
    for match in WORD.finditer(text, begin, end):
        gap = text[position : match.start()]
        if (words and not re.fullmatch(r"[ \t]{1,2}", gap)) or (not words and gap):
            break
        if not reference_like(match.group()) or len(words) == 4:
            break
        words.append(match)
        position = match.end()
    while words and not any(c.isdigit() for c in words[-1].group()):
        words.pop()
    if not words:
        return None
    written = text[words[0].start() : words[-1].end()]
    if sum(c.isdigit() for c in written) < 3:
        return None
    return words[0].start(), written


def _plain(written: str) -> str:
    """A reference of no known format, as it is written: upper case, single spaces."""
    return re.sub(r"\s+", " ", written.replace("–", "-")).upper()


def repair_reference(prefix: str, body: str) -> list[Reference]:
    """Every reference one look-alike substitution away from ``body`` (year + 8 characters)."""
    cleaned = body.upper().translate(_BODY_LOOKALIKES)
    candidates: set[str] = set()
    for position, character in enumerate(cleaned):
        for replacement in _CONFUSABLE.get(character, ""):
            candidate = cleaned[:position] + replacement + cleaned[position + 1 :]
            if _parses(prefix, candidate):
                candidates.add(candidate)
    if _parses(prefix, cleaned):
        candidates.add(cleaned)
    return [
        Reference.parse(f"{prefix}-{c[:4]}-{c[4:8]}-{c[8:]}", prefix) for c in sorted(candidates)
    ]


def _parses(prefix: str, body: str) -> bool:
    if not (body[:2] == "20" and body[:4].isdigit()) or any(c not in ALPHABET for c in body):
        return False
    try:
        Reference.parse(f"{prefix}-{body[:4]}-{body[4:8]}-{body[8:]}", prefix)
    except InvalidReferenceError:
        return False
    return True
