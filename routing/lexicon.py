"""The catalog's knowledge as a weighted term index, and finding its terms in a letter.

Every department contributes terms from its aliases and keywords (strong), its service names
(medium) and its description (weak); the misdirection groups form the pseudo-department
``misdirected``. A term shared by several departments counts for each only in proportion
(1/n), so "Antrag" says little and "Sperrmüll" a lot.

A letter's words are matched by lemma ("Laternen" -> "Laterne"), as compounds ("Kartenführer-
schein" contains the term "Führerschein", "Gehwegplatten" the terms "Gehweg" and "Platte"; the
other part must be a German word) and as phrases ("Tonne nicht geleert", "Zuschuss zur Miete").
Words on later pages (enclosures) weigh half.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from routing.catalog import MISDIRECTED, Catalog
from routing.text import (
    STOPWORDS,
    Token,
    fold,
    is_known_word,
    lemma_of,
    phrase_keys,
    rarity,
    word_key,
)

ALIAS_WEIGHT = 1.5
KEYWORD_WEIGHT = 1.0
SERVICE_WEIGHT = 0.7
DESCRIPTION_WEIGHT = 0.3
HEAD_WEIGHT = 0.8  # a term found as the last part of a compound
MODIFIER_WEIGHT = 0.5  # a term found as the first part of a compound
LATER_PAGE_WEIGHT = 0.5
SUBJECT_WEIGHT = 1.5  # the subject line says what the letter is about
_MIN_AFFIX = 4
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LINKING = ("", "s", "n", "en", "e", "er")


@dataclass(frozen=True)
class TermHit:
    term: str  # folded lemma(s), phrases joined by spaces
    written: str  # as it stood in the letter
    weight: float  # how strongly the letter shows it (compound part, later page)


@dataclass(frozen=True)
class Evidence:
    scores: dict[str, float]  # department id -> catalog evidence
    terms: dict[str, list[tuple[str, float]]]  # department id -> (written term, contribution)


class Lexicon:
    def __init__(self, catalog: Catalog) -> None:
        weights: dict[str, dict[str, float]] = defaultdict(dict)
        affix_terms: set[str] = set()
        city_words = set(phrase_keys(catalog.city.name))
        for department in catalog.departments:
            sources = [
                (ALIAS_WEIGHT, (department.name, *department.aliases), True),
                (KEYWORD_WEIGHT, department.keywords, True),
                (SERVICE_WEIGHT, tuple(s.name for s in department.services), False),
                (DESCRIPTION_WEIGHT, (department.description,), False),
            ]
            for weight, phrases, written_by_hand in sources:
                for term, written in _terms(phrases, written_by_hand).items():
                    if term in city_words:
                        continue
                    _keep_max(weights[term], department.id, weight * rarity(written))
                    if written_by_hand:
                        affix_terms.add(term)
        self._addressee: dict[str, list[str]] = defaultdict(list)
        for group in catalog.misdirection:
            for term, written in _terms(group.keywords, True).items():
                _keep_max(weights[term], MISDIRECTED, KEYWORD_WEIGHT * rarity(written))
                affix_terms.add(term)
                self._addressee[term].append(group.addressee)
        self.labels = [*catalog.department_ids(), MISDIRECTED]
        self.weights: dict[str, dict[str, float]] = {
            term: {d: w / len(owners) for d, w in owners.items()}
            for term, owners in weights.items()
        }
        self.single_terms = {t for t in self.weights if " " not in t}
        # Words of descriptions and service names match whole words only; hand-written
        # keywords and aliases also inside compounds.
        self.affix_terms = {t for t in affix_terms if " " not in t}
        self.phrases = [tuple(t.split()) for t in self.weights if " " in t]

    def hits(
        self, tokens: Sequence[Token], subject_lines: frozenset[int] = frozenset()
    ) -> list[TermHit]:
        """Every catalog term the letter contains, with how strongly it shows it."""
        content = [t for t in tokens if not t.is_stopword]

        def strength(token: Token) -> float:
            if token.line in subject_lines:
                return SUBJECT_WEIGHT
            return 1.0 if token.page == 0 else LATER_PAGE_WEIGHT

        hits = []
        for token in content:
            weight = strength(token)
            if token.key in self.single_terms:
                hits.append(TermHit(token.key, token.written, weight))
                continue
            if token.joined:
                continue  # its parts are tokens of their own
            for term, factor in self._compound_parts(token):
                hits.append(TermHit(term, token.written, weight * factor))
        keys = [t.key for t in content]
        for phrase in self.phrases:
            for start in _phrase_starts(keys, phrase):
                weight = strength(content[start])
                written = " ".join(t.written for t in content[start : start + len(phrase)])
                hits.append(TermHit(" ".join(phrase), written, weight))
        return hits

    def evidence(
        self, hits: Iterable[TermHit], specificity: Callable[[str, str], float] | None = None
    ) -> Evidence:
        """Per department: the sum over distinct terms of term weight x strength (with a small
        bonus for repetition), and the terms that contributed. ``specificity(term, department)``
        scales a term down where example letters show it is common elsewhere."""
        strongest: dict[str, float] = {}
        counts: dict[str, int] = defaultdict(int)
        written: dict[str, str] = {}
        for hit in hits:
            counts[hit.term] += 1
            if hit.weight > strongest.get(hit.term, 0.0):
                strongest[hit.term] = hit.weight
                written[hit.term] = hit.written
        scores = dict.fromkeys(self.labels, 0.0)
        terms: dict[str, list[tuple[str, float]]] = {label: [] for label in self.labels}
        for term in sorted(strongest):
            strength = strongest[term] * (1.0 + 0.25 * math.log(counts[term]))
            for department, weight in self.weights[term].items():
                factor = 1.0 if specificity is None else specificity(term, department)
                scores[department] += strength * weight * factor
                terms[department].append((written[term], strength * weight * factor))
        for department in terms:
            terms[department].sort(key=lambda item: (-item[1], item[0]))
        return Evidence(scores, terms)

    def addressees(self) -> dict[str, list[str]]:
        """Misdirection terms -> the addressees of the groups that use them."""
        return self._addressee

    def likely_addressee(self, hits: Iterable[TermHit]) -> str | None:
        """For misdirected mail: the misdirection group whose vocabulary the letter uses most."""
        votes: dict[str, float] = defaultdict(float)
        for hit in hits:
            for addressee in self._addressee.get(hit.term, []):
                votes[addressee] += hit.weight
        if not votes:
            return None
        return min(votes, key=lambda addressee: (-votes[addressee], addressee))

    def _compound_parts(self, token: Token) -> list[tuple[str, float]]:
        word = token.written
        if len(word) < 2 * _MIN_AFFIX - 1:
            return []
        parts: list[tuple[str, float]] = []
        head = self._longest_head(word)
        if head is not None:
            parts.append((head, HEAD_WEIGHT))
        modifier = self._longest_modifier(word)
        if modifier is not None and modifier != head:
            parts.append((modifier, MODIFIER_WEIGHT))
        return parts

    def _longest_head(self, word: str) -> str | None:
        """The longest catalog term the word ends with, after a German word
        ("Karten|führerschein")."""
        for cut in range(3, len(word) - _MIN_AFFIX + 1):
            rest = word[cut:]
            for candidate in (fold(rest), fold(lemma_of(rest.capitalize()))):
                if candidate in self.affix_terms and _is_word(word[:cut]):
                    return candidate
        return None

    def _longest_modifier(self, word: str) -> str | None:
        """The longest catalog term the word starts with, before a German word
        ("Sperrmüll|termin")."""
        for cut in range(len(word) - 3, _MIN_AFFIX - 1, -1):
            stem = fold(word[:cut])
            if stem in self.affix_terms and _is_word(word[cut:]):
                return stem
        return None


def _is_word(part: str) -> bool:
    """A German word, possibly with a linking element ("Verkehrs|schild", "Hunde|steuer")."""
    for link in _LINKING:
        stem = part[: len(part) - len(link)] if link and part.endswith(link) else part
        if len(stem) >= 3 and (link == "" or part.endswith(link)) and is_known_word(stem):
            return True
    return False


def _keep_max(owners: dict[str, float], department: str, weight: float) -> None:
    owners[department] = max(owners.get(department, 0.0), weight)


def _terms(phrases: Iterable[str], written_by_hand: bool) -> dict[str, list[str]]:
    """Terms (folded lemmas) with their words as written. Hand-written phrases are terms as a
    whole; prose (descriptions, service names) contributes its nouns: capitalised words that
    do not start a sentence."""
    terms: dict[str, list[str]] = {}
    for phrase in phrases:
        if written_by_hand:
            words = [w for w in _WORDS.findall(phrase) if word_key(w) not in STOPWORDS]
            keys = [k for k in phrase_keys(phrase) if k not in STOPWORDS and len(k) > 1]
            if 1 <= len(keys) <= 3:
                terms[" ".join(keys)] = words
            continue
        for sentence in re.split(r"[.:;!?]\s+", phrase):
            nouns = [w for w in _WORDS.findall(sentence)[1:] if w[:1].isupper()]
            for noun in nouns:
                key = word_key(noun.replace("-", ""))
                if key not in STOPWORDS and len(key) > 2:
                    terms[key] = [noun]
    return terms


def _phrase_starts(keys: Sequence[str], phrase: tuple[str, ...]) -> list[int]:
    starts = []
    for start in range(len(keys) - len(phrase) + 1):
        if all(keys[start + i] == word for i, word in enumerate(phrase)):
            starts.append(start)
    return starts
