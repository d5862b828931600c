"""Cross-validation for the routing benchmark: folds, per-letter outcomes, figures, thresholds.

Used by ``bench/routing.py``. Repeated stratified k-fold over the labelled letters (train + dev
pooled): each fold's letters are routed by a Router whose examples are the other folds' letters
only. A threshold only decides routed-vs-triage after the model has spoken, so the out-of-fold
outcomes are kept with the classifier's best label and confidence, and other thresholds can be
applied to them afterwards without refitting (``Outcome.with_thresholds``).
"""

from __future__ import annotations

import random
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from routing import Catalog, Example, Letter, Router
from routing.cases import CaseDirectory
from routing.catalog import MISDIRECTED
from routing.decision import Decision

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Labelled:
    key: str  # "<split>/<id>"
    record: Record
    text: str

    @property
    def label(self) -> str:
        return str(self.record["department"])


@dataclass(frozen=True)
class Outcome:
    """One letter routed once: what the benchmark needs of the decision."""

    key: str
    label: str
    secondary: tuple[str, ...]
    predicted: str  # top-1 label (misdirected, a department or "none")
    routed: str | None  # department routed to automatically, None: triage
    misdirected: bool  # triaged and marked misdirected
    by_classifier: bool  # the classifier's threshold decided (no case, no rule)
    best: str  # the classifier's best label
    confidence: float
    runner_up: float  # the second label's confidence
    references_cited: int
    references_found: int
    case: str | None  # the labelled case
    attached: str | None  # the case the router attached to

    @property
    def routed_label_right(self) -> bool:
        """The classifier's best label is the letter's label."""
        return self.best == self.label

    def with_thresholds(self, catalog: Catalog, thresholds: Mapping[str, float]) -> Outcome:
        """The same letter under other per-department thresholds (classifier decisions only)."""
        if not self.by_classifier or self.best == MISDIRECTED:
            return self
        threshold = thresholds.get(self.best, catalog.threshold_for(self.best))
        return replace(self, routed=self.best if self.confidence >= threshold else None)


def outcome(item: Labelled, decision: Decision) -> Outcome:
    record = item.record
    cited = [str(r) for r in record.get("references", [])]
    found = {_norm(x.text) for x in decision.references}
    by_classifier = decision.explanation.method == "classifier" and (
        not decision.triage or decision.reason.startswith("unsure")
    )
    best = decision.candidates[0] if decision.candidates else None
    return Outcome(
        key=item.key,
        label=item.label,
        secondary=tuple(record.get("secondary", [])),
        predicted=predicted_label(decision),
        routed=None if decision.triage else decision.department,
        misdirected=decision.misdirected,
        by_classifier=by_classifier,
        best=best.department if best else "none",
        confidence=best.confidence if best else 0.0,
        runner_up=decision.candidates[1].confidence if len(decision.candidates) > 1 else 0.0,
        references_cited=len(cited),
        references_found=sum(_norm(ref) in found for ref in cited),
        case=record.get("case"),
        attached=decision.case,
    )


def predicted_label(decision: Decision) -> str:
    if decision.misdirected:
        return MISDIRECTED
    if decision.department is not None:
        return decision.department
    return decision.candidates[0].department if decision.candidates else "none"


def stratified_folds(items: Sequence[Labelled], k: int, seed: int) -> list[list[Labelled]]:
    """k folds, each label's letters dealt round-robin after a seeded shuffle; the dealing
    continues across labels so the folds also have (almost) equal sizes."""
    by_label: dict[str, list[Labelled]] = defaultdict(list)
    for item in sorted(items, key=lambda x: x.key):
        by_label[item.label].append(item)
    rng = random.Random(seed)
    folds: list[list[Labelled]] = [[] for _ in range(k)]
    position = 0
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        for item in group:
            folds[position % k].append(item)
            position += 1
    return folds


def route(
    catalog: Catalog,
    examples: Sequence[Labelled],
    tests: Sequence[Labelled],
    cases: CaseDirectory | None,
) -> list[Outcome]:
    router = Router(catalog, [Example(x.record["id"], x.label, x.text) for x in examples])
    return [
        outcome(item, router.decide(Letter(item.text, str(item.record["id"])), cases))
        for item in tests
    ]


@dataclass(frozen=True)
class Run:
    """Out-of-fold outcomes: one list per repeat (every letter once), and each letter's fold."""

    repeats: list[list[Outcome]]
    fold_of: dict[tuple[int, str], int]  # (repeat, key) -> fold


def cross_validate(
    catalog: Catalog,
    items: Sequence[Labelled],
    cases: CaseDirectory | None,
    folds: int = 5,
    repeats: int = 4,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
) -> Run:
    results: list[list[Outcome]] = []
    fold_of: dict[tuple[int, str], int] = {}
    for repeat in range(repeats):
        parts = stratified_folds(items, folds, seed + repeat)
        outcomes: list[Outcome] = []
        for index, test in enumerate(parts):
            train = [x for j, part in enumerate(parts) if j != index for x in part]
            outcomes += route(catalog, train, test, cases)
            for item in test:
                fold_of[(repeat, item.key)] = index
        if progress:
            progress(f"repeat {repeat + 1}/{repeats} done")
        results.append(sorted(outcomes, key=lambda o: o.key))
    return Run(results, fold_of)


# --- figures ---------------------------------------------------------------------------------

FIGURES = (
    ("top1", "top-1"),
    ("lenient", "lenient"),
    ("precision", "auto precision"),
    ("triage", "triage"),
    ("misdirected", "misdirected flagged"),
    ("references", "references found"),
    ("followups", "follow-ups right"),
    ("wrong", "wrong attachments"),
)


def figures(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Shares in per cent (wrong attachments: a count)."""
    total = len(outcomes)
    routed = [o for o in outcomes if o.routed is not None]
    misdirected = [o for o in outcomes if o.label == MISDIRECTED]
    with_case = [o for o in outcomes if o.case]
    cited = sum(o.references_cited for o in outcomes)
    return {
        "top1": _share(sum(o.predicted == o.label for o in outcomes), total),
        "lenient": _share(sum(o.predicted in {o.label, *o.secondary} for o in outcomes), total),
        "precision": _share(sum(o.routed == o.label for o in routed), len(routed)),
        "triage": _share(total - len(routed), total),
        "misdirected": _share(sum(o.misdirected for o in misdirected), len(misdirected)),
        "references": _share(sum(o.references_found for o in outcomes), cited),
        "followups": _share(sum(o.attached == o.case for o in with_case), len(with_case)),
        "wrong": float(sum(o.attached is not None and o.attached != o.case for o in outcomes)),
    }


def summary(per_repeat: Sequence[dict[str, float]]) -> dict[str, tuple[float, float, float]]:
    """Per figure: mean, minimum and maximum over the repeats."""
    return {
        name: (
            statistics.fmean(f[name] for f in per_repeat),
            min(f[name] for f in per_repeat),
            max(f[name] for f in per_repeat),
        )
        for name, _ in FIGURES
    }


def _share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


# --- thresholds ------------------------------------------------------------------------------

GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))  # 0.30 ... 0.95


def calibrate(
    catalog: Catalog,
    outcomes: Sequence[Outcome],
    target: float = 97.0,
    min_support: int = 8,
    floor: float | None = None,
) -> dict[str, float]:
    """Per department a threshold on ``GRID``, never below ``floor`` (default: the catalog's
    default threshold), in two steps, so that one odd letter does not set a department's value:

    1. the common level: the lowest threshold at which all automatic routings (by case, rule
       and classifier, all departments together) are at least ``target`` % right;
    2. a department goes higher only where, at that level, its own routings miss the target
       with at least ``min_support`` of them and the wrong ones come from two or more different
       letters: then to the lowest threshold where they meet it (or none is wrong).

    Decisions by case or rule do not depend on the threshold and are left out. ``outcomes``
    may hold each letter several times (repeats); "different letters" counts keys."""
    lowest = catalog.settings.default_threshold if floor is None else floor
    grid = [t for t in GRID if t >= lowest - 1e-9]
    votes = [o for o in outcomes if o.by_classifier and o.best != MISDIRECTED]
    common = grid[-1]
    for threshold in grid:
        level = dict.fromkeys(catalog.department_ids(), threshold)
        if figures([o.with_thresholds(catalog, level) for o in outcomes])["precision"] >= target:
            common = threshold
            break
    chosen: dict[str, float] = {}
    for department in catalog.department_ids():
        own = [o for o in votes if o.best == department]
        chosen[department] = grid[-1]
        for threshold in (t for t in grid if t >= common):
            routed = [o for o in own if o.confidence >= threshold]
            wrong_letters = {o.key for o in routed if o.label != department}
            if len(wrong_letters) <= 1 or _precise(routed, target, min_support):
                chosen[department] = threshold
                break
    return chosen


def _precise(routed: Sequence[Outcome], target: float, min_support: int) -> bool:
    right = sum(o.routed_label_right for o in routed)
    return len(routed) >= min_support and 100.0 * right >= target * len(routed)


def nested_thresholds(
    catalog: Catalog,
    run: Run,
    target: float = 97.0,
    min_support: int = 8,
    floor: float | None = None,
) -> list[list[Outcome]]:
    """The out-of-fold outcomes with thresholds chosen for each fold without that fold's own
    predictions: calibrated on the predictions of all other letters in all repeats."""
    flat = [(r, o) for r, outcomes in enumerate(run.repeats) for o in outcomes]
    result: list[list[Outcome]] = []
    cache: dict[tuple[int, int], dict[str, float]] = {}
    for repeat, outcomes in enumerate(run.repeats):
        adjusted = []
        for o in outcomes:
            fold = run.fold_of[(repeat, o.key)]
            if (repeat, fold) not in cache:
                held_out = {key for (r, key), f in run.fold_of.items() if r == repeat and f == fold}
                others = [x for _, x in flat if x.key not in held_out]
                cache[(repeat, fold)] = calibrate(catalog, others, target, min_support, floor)
            adjusted.append(o.with_thresholds(catalog, cache[(repeat, fold)]))
        result.append(adjusted)
    return result


def write_thresholds(path: Path, chosen: Mapping[str, float]) -> None:
    """Set these departments' ``threshold`` lines in the TOML file (a small in-place edit: an
    existing line is replaced, a missing one added after the department's ``name``)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    owner: list[str | None] = []  # per line: the department whose own table it is in
    department: str | None = None
    for index, line in enumerate(lines):
        if line.startswith("["):
            department = None
        match = re.match(r'id = "([^"]+)"', line)
        if match and index and lines[index - 1].strip() == "[[departments]]":
            department = match.group(1)
        owner.append(department)
    has_line = {owner[i] for i, line in enumerate(lines) if re.match(r"threshold\s*=", line)}
    out: list[str] = []
    for line, department in zip(lines, owner, strict=True):
        if department in chosen and re.match(r"threshold\s*=", line):
            line = f"threshold = {chosen[department]:.2f}\n"
        out.append(line)
        if department in chosen and department not in has_line and line.startswith("name = "):
            out.append(f"threshold = {chosen[department]:.2f}\n")
    path.write_text("".join(out), encoding="utf-8")
