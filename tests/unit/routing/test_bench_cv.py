"""The routing benchmark's cross-validation helpers (bench/routing_cv.py), on synthetic data:
folds, threshold calibration and the catalog edit. No corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from routing import Catalog

_PATH = Path(__file__).resolve().parents[3] / "bench" / "routing_cv.py"
_SPEC = importlib.util.spec_from_file_location("bench_routing_cv", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
cv = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_routing_cv"] = cv  # dataclasses look their module up
_SPEC.loader.exec_module(cv)


def labelled(key: str, label: str) -> Any:
    return cv.Labelled(key, {"id": key, "department": label}, "")


def vote(key: str, label: str, best: str, confidence: float) -> Any:
    return cv.Outcome(
        key=key,
        label=label,
        secondary=(),
        predicted=best,
        routed=best,
        misdirected=False,
        by_classifier=True,
        best=best,
        confidence=confidence,
        runner_up=0.0,
        references_cited=0,
        references_found=0,
        case=None,
        attached=None,
    )


def catalog() -> Catalog:
    return Catalog.from_departments_json(
        [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}, {"id": "c", "name": "C"}]
    )


def test_folds_are_disjoint_stratified_and_fixed_by_the_seed() -> None:
    items = [labelled(f"{label}{i}", label) for label in "ab" for i in range(5)]
    items += [labelled(f"m{i}", "misdirected") for i in range(3)]
    folds = cv.stratified_folds(items, 3, seed=7)
    keys = [x.key for fold in folds for x in fold]
    assert sorted(keys) == sorted(x.key for x in items)
    for fold in folds:
        for label in ("a", "b"):
            assert 1 <= sum(x.label == label for x in fold) <= 2
    assert sorted(len(f) for f in folds) == [4, 4, 5]
    again = cv.stratified_folds(list(reversed(items)), 3, seed=7)
    assert [[x.key for x in f] for f in again] == [[x.key for x in f] for f in folds]


def test_a_department_goes_higher_only_for_two_different_misrouted_letters() -> None:
    right = [vote(f"a{i}", "a", "a", 0.9) for i in range(100)]
    right += [vote(f"b{i}", "b", "b", 0.9) for i in range(30)]
    once = [vote("x", "c", "b", 0.7)] * 4  # one letter, misrouted in all four repeats
    assert cv.calibrate(catalog(), right + once) == {"a": 0.6, "b": 0.6, "c": 0.6}
    twice = [vote("x", "c", "b", 0.7), vote("y", "c", "b", 0.72)]
    assert cv.calibrate(catalog(), right + twice) == {"a": 0.6, "b": 0.75, "c": 0.6}


def test_the_common_level_rises_until_all_routings_together_are_precise() -> None:
    right = [vote(f"a{i}", "a", "a", 0.9) for i in range(20)]
    wrong = [vote(f"x{i}", "c", "a", 0.7) for i in range(3)]
    assert cv.calibrate(catalog(), right + wrong) == {"a": 0.75, "b": 0.75, "c": 0.75}


def test_thresholds_are_written_into_the_department_tables_only(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[[departments]]\nid = "a"\nname = "A"\nthreshold = 0.6\n\n'
        '[[departments.services]]\nkey = "s"\nname = "S"\n\n'
        '[[departments]]\nid = "b"\nname = "B"\n',
        encoding="utf-8",
    )
    cv.write_thresholds(path, {"a": 0.8, "b": 0.75})
    cv.write_thresholds(path, {"a": 0.8, "b": 0.75})
    text = path.read_text(encoding="utf-8")
    assert text.count("threshold") == 2
    assert 'name = "A"\nthreshold = 0.80\n' in text
    assert 'name = "B"\nthreshold = 0.75\n' in text
    assert 'name = "S"\n\n' in text
