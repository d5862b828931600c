"""The department classifier: a pure, deterministic function of (catalog, examples, reroutes).

For a letter, each department d (and ``misdirected``) gets a score

    s_d = log(1 + catalog evidence_d)          terms of the catalog found in the letter, each
                                               scaled by how specific the labelled letters
                                               show it to be (``LabelledKnowledge.specificity``)
        + SHARE * evidence_d / (total + 1)     its share of all catalog evidence, so a short
                                               note with one telling word is not lost
        + ALPHA * log(1 + example evidence_d)  words typical of d's labelled letters
        + BETA  * [letter cites a reference in one of d's formats]
        + GAMMA * memory_d                     a near-duplicate of a letter labelled d

and the confidence is softmax(T * s). The one free parameter, the temperature T, is fitted by
maximum likelihood on the labelled letters, each scored with itself left out (leave-one-out),
with a weak prior around ``PRIOR_TEMPERATURE`` for when there are few of them. So the
confidence is calibrated on letters the model has not seen, the fit has no randomness, and
the labelled letters are put in a canonical order first: the same inputs always give the same
model (``fingerprint`` names it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from routing.analysis import Analyser, LetterAnalysis
from routing.catalog import MISDIRECTED, Catalog
from routing.examples import Example, Reroute, labelled_letters
from routing.knowledge import KnownLetter, LabelledKnowledge

ALPHA = 0.5
SHARE = 1.0
SHARE_FLOOR = 1.0
BETA = 1.0
GAMMA = 2.0
PRIOR_TEMPERATURE = 3.0
_PRIOR_STRENGTH = 2.0
_TEMPERATURE_BOUNDS = (0.3, 12.0)


@dataclass(frozen=True)
class Candidate:
    department: str  # a department id or "misdirected"
    confidence: float


@dataclass(frozen=True)
class Prediction:
    ranking: tuple[Candidate, ...]  # every label, most likely first
    strongest_terms: tuple[str, ...]  # the words that spoke most for the best label
    similar_letter: str | None  # a labelled near-duplicate that spoke for it

    @property
    def best(self) -> Candidate:
        return self.ranking[0]


@dataclass(frozen=True)
class _Scored:
    scores: NDArray[np.float64]
    terms: dict[str, list[tuple[str, float]]]
    memory: dict[str, tuple[float, str]]


class RoutingModel:
    def __init__(
        self, catalog: Catalog, examples: Iterable[Example] = (), reroutes: Iterable[Reroute] = ()
    ) -> None:
        self.catalog = catalog
        self.analyser = Analyser(catalog)
        self.labels = [*catalog.department_ids(), MISDIRECTED]
        letters = labelled_letters(catalog, examples, reroutes)
        known = [KnownLetter(x.key, x.department, self.analyser.analyse(x.text)) for x in letters]
        self.knowledge = LabelledKnowledge(self.labels, known)
        self.fingerprint = _fingerprint(catalog, [(x.key, x.department, x.text) for x in letters])
        self.temperature = self._calibrate()

    def analyse(self, text: str) -> LetterAnalysis:
        return self.analyser.analyse(text)

    def predict(self, analysis: LetterAnalysis) -> Prediction:
        scored = self._score(analysis)
        probabilities = _softmax(self.temperature * scored.scores)
        order = sorted(range(len(self.labels)), key=lambda i: (-probabilities[i], i))
        ranking = tuple(Candidate(self.labels[i], float(probabilities[i])) for i in order)
        best = ranking[0].department
        strength, similar = scored.memory.get(best, (0.0, ""))
        return Prediction(
            ranking=ranking,
            strongest_terms=tuple(term for term, _ in scored.terms[best][:6]),
            similar_letter=similar if strength > 0 else None,
        )

    def _score(self, analysis: LetterAnalysis, leave_out: int | None = None) -> _Scored:
        knowledge = self.knowledge
        evidence = self.analyser.lexicon.evidence(
            analysis.hits, lambda term, d: knowledge.specificity(term, d, leave_out)
        )
        examples = knowledge.example_evidence(analysis, leave_out)
        memory = knowledge.memory(analysis, leave_out)
        cited = analysis.reference_departments
        total = sum(evidence.scores.values())
        scores = np.zeros(len(self.labels))
        terms: dict[str, list[tuple[str, float]]] = {}
        for index, label in enumerate(self.labels):
            example_score, example_words = examples[label]
            scores[index] = (
                math.log1p(evidence.scores[label])
                + SHARE * evidence.scores[label] / (total + SHARE_FLOOR)
                + ALPHA * math.log1p(example_score)
                + BETA * (label in cited)
                + GAMMA * memory.get(label, (0.0, ""))[0]
            )
            weighted = evidence.terms[label] + [(w, ALPHA / 4) for w in example_words]
            terms[label] = sorted(_strongest(weighted), key=lambda item: (-item[1], item[0]))
        return _Scored(scores, terms, memory)

    def _calibrate(self) -> float:
        rows = [
            (self._score(letter.analysis, leave_out=i).scores, self.labels.index(letter.label))
            for i, letter in enumerate(self.knowledge.letters)
        ]

        def objective(temperature: float) -> float:
            loss = sum(-math.log(_softmax(temperature * s)[y] + 1e-12) for s, y in rows)
            prior = _PRIOR_STRENGTH * math.log(temperature / PRIOR_TEMPERATURE) ** 2
            return loss + prior

        if not rows:
            return PRIOR_TEMPERATURE
        return round(_golden_section_minimum(objective, *_TEMPERATURE_BOUNDS), 6)


def _golden_section_minimum(function: Callable[[float], float], low: float, high: float) -> float:
    """Minimum of a unimodal function on [low, high], searched on a log scale (deterministic)."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = math.log(low), math.log(high)
    for _ in range(60):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if function(math.exp(c)) <= function(math.exp(d)):
            b = d
        else:
            a = c
    return math.exp((a + b) / 2)


def _strongest(weighted: list[tuple[str, float]]) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for term, weight in weighted:
        best[term] = max(best.get(term, 0.0), weight)
    return list(best.items())


def _softmax(values: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(values - values.max())
    result: NDArray[np.float64] = shifted / shifted.sum()
    return result


def _fingerprint(catalog: Catalog, letters: list[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256(repr(catalog).encode("utf-8"))
    digest.update(json.dumps(letters, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]
