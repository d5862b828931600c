"""Similarity of a letter to the labelled example letters (TF-IDF over lemmas, cosine).

The words a letter is represented by are its content lemmas plus the catalog terms it contains
inside compounds, so "Kartenführerschein" and "Führerschein" meet. The vocabulary and inverse
document frequencies come from the examples alone, in a fixed order, so the same examples
always give the same vectors.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from routing.lexicon import TermHit
from routing.text import Token


def letter_words(tokens: Sequence[Token], hits: Sequence[TermHit]) -> list[str]:
    """Content lemmas (two letters or more) and the catalog terms found in the letter."""
    words = [t.key for t in tokens if not t.is_stopword and len(t.key) > 2]
    words += [hit.term for hit in hits if hit.term not in words]
    return words


class ExampleSpace:
    """Unit TF-IDF vectors of the examples; similarity of any letter to each of them."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        document_frequency: Counter[str] = Counter()
        for words in documents:
            document_frequency.update(set(words))
        vocabulary = sorted(document_frequency)
        self._index = {word: i for i, word in enumerate(vocabulary)}
        count = len(documents)
        self._idf = np.array(
            [math.log((1 + count) / (1 + document_frequency[w])) + 1.0 for w in vocabulary]
        )
        self.matrix = (
            np.vstack([self.vector(words) for words in documents])
            if documents
            else (np.zeros((0, len(vocabulary))))
        )

    def vector(self, words: Sequence[str]) -> NDArray[np.float64]:
        vector = np.zeros(len(self._index))
        for word, count in sorted(Counter(words).items()):
            index = self._index.get(word)
            if index is not None:
                vector[index] = (1.0 + math.log(count)) * self._idf[index]
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def similarities(self, words: Sequence[str]) -> NDArray[np.float64]:
        """Cosine similarity of the letter to every example, in example order."""
        if self.matrix.shape[0] == 0:
            return np.zeros(0)
        result: NDArray[np.float64] = self.matrix @ self.vector(words)
        return result
