"""The sender of a letter as a clerk reads it: the name and address block at the top
(DIN 5008 puts the return address and the sender's block there), for the case's party."""

from __future__ import annotations

import itertools
import re

_POSTCODE_LINE = re.compile(r"^\d{5}\s+\S")
_STREET_LINE = re.compile(r"\S+.*\s\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+)?$")
_NAME_LINE = re.compile(r"^[A-ZÄÖÜ][\w.'-]+(?:\s+[A-ZÄÖÜ][\w.'-]+){1,3}$")
_NOT_A_NAME = re.compile(
    r"\b(?:Stadt|Amt|GmbH|Sehr|Betreff|Guten|Hallo|Liebe|Datum|Seite)\b", re.IGNORECASE
)
_HEAD_LINES = 8
_SUBJECT_LABEL = re.compile(r"^\s*(?:Betreff|Betr\.|Subject|Konu)\s*:\s*(.+)", re.IGNORECASE)
_SALUTATION = re.compile(r"^\s*(?:Sehr geehrte|Liebe|Lieber|Hallo|Guten Tag|Dear|Sayın)", re.I)


def letter_sender(text: str) -> tuple[str, str]:
    """(name, address) of the sender block at the top of ``text``; empty when none is found.

    A block is a person's name followed by a street line and a postcode line, within the
    first lines of the letter (the recipient, the city, comes later and is not a person).
    """
    lines = [line.strip() for line in text.splitlines()[: _HEAD_LINES * 2] if line.strip()]
    head = lines[:_HEAD_LINES]
    for index, line in enumerate(head):
        if not _NAME_LINE.match(line) or _NOT_A_NAME.search(line):
            continue
        rest = head[index + 1 : index + 3]
        if len(rest) == 2 and _STREET_LINE.match(rest[0]) and _POSTCODE_LINE.match(rest[1]):
            return line, f"{rest[0]}, {rest[1]}"
    return "", ""


def letter_subject(text: str) -> str:
    """The letter's subject for the case: a "Betreff:" line, else the line before the
    salutation (where DIN 5008 puts it) unless that is still the address, else the first
    line after the salutation, else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if match := _SUBJECT_LABEL.match(line):
            return match.group(1)[:200]
    for index, (previous, line) in enumerate(itertools.pairwise(lines)):
        if _SALUTATION.match(line):
            if not _is_address_line(previous):
                return previous[:200]
            if index + 2 < len(lines):
                return lines[index + 2][:200]
    return lines[0][:200] if lines else "Eingang ohne Text"


def _is_address_line(line: str) -> bool:
    return bool(_POSTCODE_LINE.match(line) or _STREET_LINE.match(line))
