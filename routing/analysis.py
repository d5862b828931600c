"""Everything the router reads out of a letter's text, computed once per letter."""

from __future__ import annotations

from dataclasses import dataclass

from routing.catalog import Catalog
from routing.lexicon import Lexicon, TermHit
from routing.references import FoundReference, ReferenceFinder
from routing.similarity import letter_words
from routing.text import Token, analyse, is_known_word, subject_lines

_MIN_EXAMPLE_WORD = 4


@dataclass(frozen=True)
class LetterAnalysis:
    tokens: tuple[Token, ...]
    hits: tuple[TermHit, ...]  # catalog terms found
    terms: frozenset[str]  # their keys
    topic_words: frozenset[str]  # dictionary words of page 1: what examples teach
    similarity_words: tuple[str, ...]  # for near-duplicate detection
    references: tuple[FoundReference, ...]

    @property
    def reference_departments(self) -> frozenset[str]:
        """Departments whose reference formats the letter cites."""
        return frozenset(r.department_id for r in self.references if r.department_id and r.usable)


class Analyser:
    def __init__(self, catalog: Catalog) -> None:
        self.lexicon = Lexicon(catalog)
        self.references = ReferenceFinder(catalog)

    def analyse(self, text: str) -> LetterAnalysis:
        tokens = analyse(text)
        hits = self.lexicon.hits(tokens, subject_lines(text))
        # Examples should teach topics: nouns (capitalised) that the dictionary knows, so not
        # names, streets and companies ("Mr Krüger writes to the Sozialamt").
        topic_words = frozenset(
            t.key
            for t in tokens
            if not t.is_stopword
            and t.page == 0
            and t.written[:1].isupper()
            and len(t.key) >= _MIN_EXAMPLE_WORD
            and is_known_word(t.lemma)
        )
        return LetterAnalysis(
            tokens=tuple(tokens),
            hits=tuple(hits),
            terms=frozenset(hit.term for hit in hits),
            topic_words=topic_words,
            similarity_words=tuple(letter_words(tokens, hits)),
            references=tuple(_unique(self.references.find(text))),
        )


def _unique(references: list[FoundReference]) -> list[FoundReference]:
    seen: set[tuple[str, str]] = set()
    result = []
    for reference in references:
        if (reference.text, reference.reference) not in seen:
            seen.add((reference.text, reference.reference))
            result.append(reference)
    return result
