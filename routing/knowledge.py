"""What the labelled letters (examples and re-routings) teach, as counts.

- which catalog terms turn up in letters of *other* departments, so that a keyword such as
  "Gebühr" or "Kind", which letters to many offices use, counts for less (``specificity``);
- which dictionary words are typical of a department's letters (``example_evidence``);
- near-duplicates: a letter almost identical to one a clerk already placed goes the same way
  (``memory``), which is how a re-routing of recurring mail takes effect at once.

Every lookup can leave one labelled letter out, which is how the model's confidence is
calibrated on letters it has not seen (leave-one-out).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.analysis import LetterAnalysis
from routing.similarity import ExampleSpace

SPREAD_PENALTY = 0.5  # per other department whose letters use a catalog term
MAX_WORD_OWNERS = 2  # a word typical of more departments than this teaches nothing
MEMORY_FLOOR = 0.6  # cosine similarity below which letters are not "the same kind of mail"


@dataclass(frozen=True)
class KnownLetter:
    key: str  # "example:tr-001", "reroute:<item id>"
    label: str  # department id or "misdirected"
    analysis: LetterAnalysis


class LabelledKnowledge:
    def __init__(self, labels: Sequence[str], letters: Sequence[KnownLetter]) -> None:
        self.labels = list(labels)
        self.letters = list(letters)
        self._letter_count: Counter[str] = Counter(letter.label for letter in self.letters)
        self._term_owners: dict[str, Counter[str]] = defaultdict(Counter)
        self._word_owners: dict[str, Counter[str]] = defaultdict(Counter)
        for letter in self.letters:
            for term in letter.analysis.terms:
                self._term_owners[term][letter.label] += 1
            for word in letter.analysis.topic_words:
                self._word_owners[word][letter.label] += 1
        self._space = ExampleSpace([letter.analysis.similarity_words for letter in self.letters])

    def specificity(self, term: str, department: str, leave_out: int | None = None) -> float:
        """1 for a catalog term only this department's letters use; less per other department."""
        owners = self._owners(self._term_owners, term, leave_out, lambda a: a.terms)
        others = sum(1 for label, count in owners.items() if count > 0 and label != department)
        return 1.0 / (1.0 + SPREAD_PENALTY * others)

    def example_evidence(
        self, analysis: LetterAnalysis, leave_out: int | None = None
    ) -> dict[str, tuple[float, list[str]]]:
        """Per department: how typical the letter's words are of its letters, and those words."""
        counts = self._letter_count.copy()
        if leave_out is not None:
            counts[self.letters[leave_out].label] -= 1
        evidence: dict[str, tuple[float, list[str]]] = {label: (0.0, []) for label in self.labels}
        for word in sorted(analysis.topic_words):
            owners = {
                label: count
                for label, count in self._owners(
                    self._word_owners, word, leave_out, lambda a: a.topic_words
                ).items()
                if count > 0
            }
            if not owners or len(owners) > MAX_WORD_OWNERS:
                continue
            for label, count in owners.items():
                score, words = evidence[label]
                words.append(word)
                evidence[label] = (score + count / max(1, counts[label]) / len(owners), words)
        return evidence

    def memory(
        self, analysis: LetterAnalysis, leave_out: int | None = None
    ) -> dict[str, tuple[float, str]]:
        """Per department: the strongest near-duplicate among its letters, scaled to 0..1 above
        ``MEMORY_FLOOR``, and which letter it is."""
        similarities = self._space.similarities(analysis.similarity_words)
        best: dict[str, tuple[float, str]] = {}
        for index, letter in enumerate(self.letters):
            if index == leave_out:
                continue
            strength = max(0.0, (float(similarities[index]) - MEMORY_FLOOR) / (1 - MEMORY_FLOOR))
            if strength > best.get(letter.label, (0.0, ""))[0]:
                best[letter.label] = (strength, letter.key)
        return best

    def _owners(
        self,
        table: dict[str, Counter[str]],
        key: str,
        leave_out: int | None,
        keys_of: Callable[[LetterAnalysis], frozenset[str]],
    ) -> Counter[str]:
        owners = table.get(key)
        if owners is None:
            return Counter()
        if leave_out is None:
            return owners
        left_out = self.letters[leave_out]
        if key not in keys_of(left_out.analysis):
            return owners
        adjusted = owners.copy()
        adjusted[left_out.label] -= 1
        return adjusted
