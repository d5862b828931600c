"""Service-level routing: which of the chosen department's services (Leistungen) a letter asks for.

Each service contributes terms from its name (its words, as lemmas) and its catalog
``synonyms`` (hand-written, in citizens' words, also English and Turkish). A letter's words are
matched by folded lemma, hand-written single words also inside compounds ("Kinderreisepass"
contains "Reisepass"); words in the subject line weigh more, words on later pages less, and a
term several services of the department share counts for each only in proportion. A service is
named only when it is clearly the one: enough evidence and well ahead of the runner-up.
Deterministic; the terms that decided are returned for the explanation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from routing.catalog import Catalog, Service
from routing.text import STOPWORDS, Token, phrase_keys, rarity, subject_lines

MIN_SCORE = 1.0  # evidence a service needs
LEAD = 1.5  # ... and how far ahead of the second service it must be
NAME_WEIGHT = 0.8
SYNONYM_WEIGHT = 1.0
COMPOUND_WEIGHT = 0.8
SUBJECT_WEIGHT = 1.5
LATER_PAGE_WEIGHT = 0.5
_MIN_COMPOUND_PART = 6  # "Perso" is no part of "Personalausweis"
_MIN_NAME_WORD = 4
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass(frozen=True)
class ServiceChoice:
    service: str  # the service key
    score: float
    terms: tuple[str, ...]  # the words of the letter that named it


@dataclass(frozen=True)
class _Term:
    keys: tuple[str, ...]
    weight: float
    compound: bool  # may also match inside a compound word


class ServiceMatcher:
    def __init__(self, catalog: Catalog) -> None:
        self._terms: dict[str, dict[str, list[_Term]]] = {}
        for department in catalog.departments:
            per_service = {s.key: _service_terms(s) for s in department.services}
            owners: dict[tuple[str, ...], int] = defaultdict(int)
            for terms in per_service.values():
                for keys in {t.keys for t in terms}:
                    owners[keys] += 1
            self._terms[department.id] = {
                key: [_Term(t.keys, t.weight / owners[t.keys], t.compound) for t in terms]
                for key, terms in per_service.items()
            }

    def choose(
        self, department_id: str, tokens: Sequence[Token], text: str
    ) -> ServiceChoice | None:
        """The department's service the letter clearly asks for, or None."""
        services = self._terms.get(department_id, {})
        if not services:
            return None
        subject = subject_lines(text)
        content = [t for t in tokens if not t.is_stopword]
        ranked = sorted(
            ((*self._score(terms, content, subject), key) for key, terms in services.items()),
            key=lambda item: (-item[0], item[2]),
        )
        best_score, best_terms, best_key = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        if best_score < MIN_SCORE or best_score < LEAD * second:
            return None
        return ServiceChoice(best_key, round(best_score, 4), best_terms)

    def _score(
        self, terms: list[_Term], content: list[Token], subject: frozenset[int]
    ) -> tuple[float, tuple[str, ...]]:
        total = 0.0
        found: list[tuple[float, str]] = []
        for term in terms:
            strength, written = _strength(term, content, subject)
            if strength > 0:
                total += strength * term.weight
                found.append((strength * term.weight, written))
        found.sort(key=lambda item: (-item[0], item[1]))
        return total, tuple(dict.fromkeys(w for _, w in found))


def _strength(term: _Term, content: list[Token], subject: frozenset[int]) -> tuple[float, str]:
    best, written = 0.0, ""
    size = len(term.keys)
    for start in range(len(content) - size + 1):
        window = content[start : start + size]
        keys = tuple(t.key for t in window)
        if keys == term.keys:
            factor = 1.0
        elif size == 1 and term.compound and _in_compound(term.keys[0], keys[0]):
            factor = COMPOUND_WEIGHT
        else:
            continue
        first = window[0]
        if first.line in subject:
            factor *= SUBJECT_WEIGHT
        elif first.page > 0:
            factor *= LATER_PAGE_WEIGHT
        if factor > best:
            best, written = factor, " ".join(t.written for t in window)
    return best, written


def _in_compound(term: str, key: str) -> bool:
    return (
        len(term) >= _MIN_COMPOUND_PART
        and len(key) > len(term)
        and (key.endswith(term) or key.startswith(term))
    )


def _service_terms(service: Service) -> list[_Term]:
    terms: dict[tuple[str, ...], _Term] = {}
    words = _WORDS.findall(service.name)
    words += [part for word in words if "-" in word for part in word.split("-") if part]
    for word in words:
        key = phrase_keys(word)
        if not word[:1].isupper() or not key or key[0] in STOPWORDS or len(key[0]) < _MIN_NAME_WORD:
            continue  # a name's nouns say what the service is; "wegen", "nicht" do not
        noun: tuple[str, ...] = (key[0],)
        terms.setdefault(noun, _Term(noun, NAME_WEIGHT * rarity([word]), False))
    for synonym in service.synonyms:
        keys = tuple(k for k in phrase_keys(synonym) if k not in STOPWORDS and len(k) > 1)
        if not keys:
            continue
        # A synonym also names the service inside compounds; it keeps the higher weight.
        # A phrase ("driving licence") is telling as a whole even when its words are common.
        weight = SYNONYM_WEIGHT * rarity(_WORDS.findall(synonym))
        if len(keys) > 1:
            weight = max(weight, SYNONYM_WEIGHT)
        previous = terms.get(keys)
        terms[keys] = _Term(keys, max(weight, previous.weight if previous else 0.0), True)
    return list(terms.values())
