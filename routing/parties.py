"""Is the letter from (or on behalf of) a case's party? Evidence by name and address.

Comparison is exact on folded words (case, umlaut spelling and diacritics ignored; no fuzzy
matching): the look-alike cases a city really has — Sternberg/Steinberg, Daniel/Daniela Krüger,
Weberstraße 2/22 — differ by one character, so anything looser would attach letters to the
wrong citizen. A damaged name simply yields no evidence and the letter goes to a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.text import fold

_ORGANISATION_MARKERS = (
    "gmbh",
    "gbr",
    "kg",
    "eg",
    "e. v.",
    "e.v.",
    "ag",
    "partner",
    "verwaltung",
    "bestattungshaus",
    "autohaus",
    "stiftung",
    "verein",
    "wohnbau",
    "mbh",
    "ohg",
    "ug",
    "kanzlei",
    "buero",
    "werk",
)
_LEGAL_FORM_WORDS = "gmbh gbr kg eg ev e v ag co mbh ohg ug partg mbb und & der die das fuer von"
_LEGAL_FORMS = frozenset(_LEGAL_FORM_WORDS.split())
_TITLE_WORDS = "dr prof herr frau familie eheleute dipl ing"
_TITLES = frozenset(_TITLE_WORDS.split())
_ANONYMOUS = ("anonym", "unbekannt", "unknown")
_STREET_SUFFIX = re.compile(r"(strasse|str\.?)(?=\s|$|,|\d)")


def street_fold(text: str) -> str:
    """Folded text with "Straße", "Strasse" and "Str." written one way."""
    return _STREET_SUFFIX.sub("str", fold(text))


@dataclass(frozen=True)
class Person:
    first_names: tuple[str, ...]
    surname: str


@dataclass(frozen=True)
class Address:
    street: str  # street_fold()ed
    number: str  # "15", "5a", "12-16"
    postcode: str


@dataclass(frozen=True)
class Party:
    persons: tuple[Person, ...]
    organisations: tuple[tuple[str, ...], ...]  # distinctive words of each organisation
    anonymous: bool


def parse_party(party: str) -> Party:
    """``"Peter und Sabine Hakvoort"``, ``"Agnieszka Wróbel; Jan Schulte"``,
    ``"Bestattungshaus Kemper (für Hildegard Brenner)"``, ``"anonym (Portal)"``."""
    folded = street_fold(party)
    if any(folded.startswith(marker) for marker in _ANONYMOUS):
        return Party((), (), anonymous=True)
    # "(für Hildegard Brenner)" names a further party; "(Halter)", "(Portal)" are remarks.
    pieces = [re.sub(r"\([^)]*\)", " ", folded)]
    for inner in re.findall(r"\(\s*(?:fuer|vertreten durch|z\. ?hd\.?)\s+([^)]*)\)", folded):
        pieces.append(inner)
    persons: list[Person] = []
    organisations: list[tuple[str, ...]] = []
    for piece in pieces:
        for part in re.split(r";", piece):
            part = part.strip()
            if not part:
                continue
            if _is_organisation(part):
                words = tuple(w for w in _words(part) if w not in _LEGAL_FORMS and len(w) > 1)
                if words:
                    organisations.append(words)
            else:
                persons.extend(_persons(part))
    return Party(tuple(persons), tuple(organisations), anonymous=False)


def _is_organisation(part: str) -> bool:
    words = set(_words(part))
    return any(m in words or (" " in m and m in part) for m in _ORGANISATION_MARKERS)


def _persons(part: str) -> list[Person]:
    groups = [g for g in re.split(r"\s+(?:und|u\.|&)\s+|,", part) if g.strip()]
    name_lists = [[w for w in _words(g) if w not in _TITLES and len(w) > 1] for g in groups]
    name_lists = [n for n in name_lists if n]
    if not name_lists:
        return []
    shared_surname = name_lists[-1][-1]
    persons = []
    for names in name_lists:
        if len(names) == 1 and names[0] != shared_surname:
            persons.append(Person((names[0],), shared_surname))  # "Peter und Sabine Hakvoort"
        else:
            persons.append(Person(tuple(names[:-1]), names[-1]))
    return persons


def parse_address(address: str) -> Address | None:
    """``"Schillerstraße 12–16, 47132 Lindenau"`` -> street, number, postcode."""
    match = re.match(
        r"\s*(?P<street>[^\d,]+?)\s*(?P<number>\d+\s?[a-z]?(?:\s?[-–]\s?\d+\s?[a-z]?)?)\s*(?:,|$)",
        street_fold(address),
    )
    if match is None:
        return None
    postcode = re.search(r"\b(\d{5})\b", address)
    number = re.sub(r"\s", "", match["number"]).replace("–", "-")
    return Address(match["street"].strip(), number, postcode.group(1) if postcode else "")


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


class LetterWords:
    """The folded words of (a region of) a letter, for exact name and address lookups."""

    def __init__(self, text: str) -> None:
        self.text = street_fold(text)
        self.words = _words(self.text)
        self._positions: dict[str, list[int]] = {}
        for index, word in enumerate(self.words):
            self._positions.setdefault(word, []).append(index)

    def has(self, word: str) -> bool:
        return word in self._positions

    def has_person(self, person: Person) -> bool:
        """Surname and one of the first names (written out) within three words of each other.
        An initial is not enough: "D. Krüger" may be Daniel or Daniela."""
        for position in self._positions.get(person.surname, []):
            window = self.words[max(0, position - 3) : position + 4]
            if any(first in window for first in person.first_names):
                return True
        return False

    def has_organisation(self, words: tuple[str, ...]) -> bool:
        return all(self.has(w) for w in words)

    def has_address(self, address: Address) -> bool:
        street = re.escape(address.street)
        street = street.replace(r"\ ", r"\s+")
        pattern = rf"{street}\.?\s*(\d+)(?:[ \t]?([a-z])(?![a-z]))?(?:\s?[-–]\s?(\d+))?(?!\d)"
        for match in re.finditer(pattern, self.text):
            suffix = match.group(2) or ""
            if _number_matches(address.number, match.group(1), suffix, match.group(3)):
                return True
        return False


def _number_matches(case_number: str, number: str, suffix: str, range_end: str | None) -> bool:
    written = number + (suffix if suffix and not range_end else "")
    if range_end:
        written = f"{number}-{range_end}"
    if written == case_number:
        return True
    if "-" in case_number and not range_end and not suffix:
        low, high = (int(re.sub(r"\D", "", n) or 0) for n in case_number.split("-", 1))
        return low <= int(number) <= high
    return False
