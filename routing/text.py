"""Text analysis shared by the lexicon, the example similarity and the case matcher.

``analyse(text)`` turns a letter into a sequence of ``Token`` objects: the word as written,
its lemma (simplemma, German first, English as a fallback) and a *folded* key that matching
uses: lower case, umlauts spelled out (``ä`` -> ``ae``, ``ß`` -> ``ss``) and other diacritics
dropped, so that "Straße" and "Strasse" or "Wróbel" and "Wrobel" meet. Function words are
marked, not removed, so phrases can still be matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import simplemma
from wordfreq import zipf_frequency

_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "ł": "l"})
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)

# Function words and letter boilerplate in German and English. Negations ("nicht", "kein",
# "ohne") are deliberately absent: "Tonne nicht geleert" means something.
_STOPWORDS_AS_WRITTEN = """
    aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch
    auf aus bei beim bin bis bitte bist da dabei damit dann darf darum das dass dazu dem den denen
    der deren des dessen dich die dies diese diesem diesen dieser dieses dir doch dort du durch
    ein eine einem einen einer eines er es etwa etwas euch euer für gegen gewesen habe haben hat
    hatte hätte hier hin ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ist ja jede jedem jeden
    jeder jedes jetzt kann können könnte man mein meine meinem meinen meiner mich mir mit muss
    müssen nach nachdem noch nun nur ob oder schon sehr sein seine seinem seinen seiner seit sich
    sie sind so soll sollen sollte sondern um und uns unser unsere unserem unseren unserer unter
    vom von vor war waren wäre was weil wenn wer werde werden wie wieder will wir wird wo wurde
    würde würden zu zum zur über sowie bzw ca usw geehrt geehrte geehrten dame damen herr herren
    hallo liebe lieber gruß grüße gruss grüßen freundlich freundlichen mfg vielen dank danke
    herzlich herzliche datum betreff anlage anlagen seite tel telefon mail e-mail
    the a an and or of to in on for with is are was be been have has i you we he she it they my
    your our their this that these those at by from as not no yes dear sir madam regards thanks
    please would could can will shall do does did me him her us them
    deshalb daher darin dafür davon dazu danach dabei genau gerne gern leider bereits falls
    soweit inzwischen zwischen zwei drei erst erstmal einfach immer schon wieder sowieso eigentlich
    wirklich natürlich trotzdem also außerdem ebenfalls bisher seitdem jedoch allerdings
    montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz april mai
    juni juli august september oktober november dezember woche wochenende heute morgen gestern
"""


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, other diacritics removed: the key all matching uses."""
    lowered = unicodedata.normalize("NFC", text).lower().translate(_SPELLED_OUT)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


STOPWORDS = frozenset(fold(word) for word in _STOPWORDS_AS_WRITTEN.split())


@dataclass(frozen=True)
class Token:
    written: str
    lemma: str
    key: str
    line: int
    page: int
    is_stopword: bool
    joined: bool = False  # "Kfz-Zulassung" read as "KfzZulassung"; its parts follow it


@lru_cache(maxsize=200_000)
def lemma_of(word: str) -> str:
    """German lemma, falling back to English when German does not know the word."""
    german = simplemma.lemmatize(word, lang="de")
    if german != word or simplemma.is_known(word, lang="de"):
        return german
    if simplemma.is_known(word.lower(), lang="en"):
        return simplemma.lemmatize(word.lower(), lang="en")
    return german


@lru_cache(maxsize=200_000)
def is_known_word(folded_or_written: str) -> bool:
    """Whether the German lexicon knows the word (used to validate compound parts)."""
    word = folded_or_written
    return simplemma.is_known(word, lang="de") or simplemma.is_known(word.capitalize(), lang="de")


def word_key(word: str) -> str:
    """The folded lemma of one word as written."""
    return fold(lemma_of(word))


def analyse(text: str) -> list[Token]:
    """Tokens of a letter with their lemma key, line and page (pages split at form feeds)."""
    tokens: list[Token] = []
    line_number = 0
    for page_number, page in enumerate(unicodedata.normalize("NFC", text).split("\f")):
        for line in page.splitlines():
            for match in _WORD.finditer(line):
                tokens.extend(_tokens_of(match.group(), line_number, page_number))
            line_number += 1
    return tokens


def _tokens_of(word: str, line: int, page: int) -> list[Token]:
    parts = word.split("-")
    words = [word.replace("-", "")] if len(parts) > 1 else [word]
    if len(parts) > 1:
        # "Kfz-Zulassung": the joined compound first, then its parts.
        words += [p for p in parts if len(p) > 1]
    result = []
    for index, w in enumerate(words):
        if len(w) < 2:
            continue
        lemma = lemma_of(w)
        key = fold(lemma)
        stop = key in STOPWORDS or fold(w) in STOPWORDS
        joined = index == 0 and len(parts) > 1
        result.append(Token(w, lemma, key, line, page, stop, joined))
    return result


_SUBJECT_LABEL = re.compile(r"^\s*(?:betreff|betr\.|subject|re|aw|wg)\s*:\s*(.*)$", re.IGNORECASE)
_SALUTATION = re.compile(
    r"^\s*(?:sehr geehrte|liebe[rs]?\b|hallo|guten (?:tag|morgen|abend)|moin|servus|dear|hi\b)",
    re.IGNORECASE,
)
_WRAPPED_SUBJECT = 40  # characters: longer than an address line
_DATE_LINE = re.compile(r"\d{1,2}\.\s?(?:\d{1,2}\.|[A-Za-zä]+)\s?\d{2,4}\s*$")


def subject_lines(text: str) -> frozenset[int]:
    """Line numbers (as in ``analyse``) of the subject: the text behind "Betreff:" (or on the
    line after it), else the line just before the salutation of the first page."""
    lines = unicodedata.normalize("NFC", text).split("\f")[0].splitlines()
    for number, line in enumerate(lines):
        match = _SUBJECT_LABEL.match(line)
        if match is None:
            continue
        if match.group(1).strip():
            return frozenset({number})
        following = _next_filled(lines, number + 1)
        return frozenset() if following is None else frozenset({following})
    for number, line in enumerate(lines):
        if _SALUTATION.match(line):
            previous = _previous_filled(lines, number - 1)
            if previous is None or _DATE_LINE.search(lines[previous]):
                return frozenset()
            # A long line before it belongs to the same (wrapped) subject.
            before = _previous_filled(lines, previous - 1)
            wrapped = before is not None and len(lines[before].strip()) > _WRAPPED_SUBJECT
            if wrapped and before is not None and not _DATE_LINE.search(lines[before]):
                return frozenset({before, previous})
            return frozenset({previous})
    return frozenset()


def _next_filled(lines: Sequence[str], start: int) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


def _previous_filled(lines: Sequence[str], start: int) -> int | None:
    return next((i for i in range(start, -1, -1) if lines[i].strip()), None)


def phrase_keys(phrase: str) -> list[str]:
    """Folded lemmas of a catalog phrase; a hyphenated word stays one word ("H-Kennzeichen")."""
    return [
        word_key(w.replace("-", "")) for w in _WORD.findall(unicodedata.normalize("NFC", phrase))
    ]


def normalise_spaces(text: str) -> str:
    """NFC, every run of whitespace (also form feeds) to one space, stripped."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


_COMMON_ZIPF = 3.5  # words more frequent than this in general German count for less
_RARITY_SLOPE = 0.25
_RARITY_BOUNDS = (0.4, 1.4)


@lru_cache(maxsize=50_000)
def _zipf(word: str) -> float:
    return max(zipf_frequency(word, "de"), zipf_frequency(word, "en"))


def rarity(words: Sequence[str]) -> float:
    """How telling a catalog term is by how rare its rarest word is in everyday German (or
    English): "Geld" or "Auto" little (0.4-0.6), "Sperrmüll" or "Schlagloch" a lot (1.2-1.4)."""
    if not words:
        return 1.0
    zipf = min(_zipf(w.replace("-", "")) for w in words)
    low, high = _RARITY_BOUNDS
    return min(high, max(low, 1.0 + _RARITY_SLOPE * (_COMMON_ZIPF - zipf)))
