"""Routing benchmark on the shared corpus: train letters as examples, dev letters as test.

    .venv/bin/python bench/routing.py [--corpus ../shared/corpus] [--text-source pdf|gt|ocr]
                                      [--split dev] [--letters]

Prints top-1 / lenient accuracy, macro-F1, the precision of automatically routed items, the
triage rate, follow-up matching (reference recall, attachment accuracy, false attachments; the
corpus' cases.jsonl as existing cases), slices by tag and the confusion matrix.
Text comes from the born-digital letter.pdf's text layer by default (no OCR, cheap on CPU).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing import Catalog, Letter, Router, load_cases, load_examples  # noqa: E402
from routing.catalog import MISDIRECTED  # noqa: E402
from routing.decision import Decision  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_CATALOG = ROOT / "mailroom" / "cities" / "lindenau" / "catalog.toml"
SLICE_TAGS = (
    "indirect",
    "ambiguous",
    "typos",
    "followup",
    "english",
    "turkish",
    "multipage",
    "elderly",
    "simple_german",
    "nonnative",
)


class TextSource:
    """Letter text from the born-digital PDF's text layer, the ground truth, or OCR of the scan
    (one OCR engine for the whole run)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._engine: Any = None

    def __call__(self, folder: Path, record: Mapping[str, Any]) -> str:
        files = record["files"]
        if self.source == "gt":
            return (folder.parent / str(files["text"])).read_text(encoding="utf-8")
        if self.source == "pdf":
            from ocr import read_text_layer

            return "\f".join(
                read_text_layer((folder.parent / str(files["pdf"])).read_bytes()) or []
            )
        if self._engine is None:
            from ocr import OcrEngine, OcrOptions

            self._engine = OcrEngine(OcrOptions())
        data = (folder.parent / str(files["scan_pdf"])).read_bytes()
        return str(self._engine.read(data, searchable_pdf=False).text)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def predicted_label(decision: Decision) -> str:
    if decision.misdirected:
        return MISDIRECTED
    if decision.department is not None:
        return decision.department
    return decision.candidates[0].department if decision.candidates else "none"


def run(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus)
    catalog = Catalog.load(args.catalog)
    reader = TextSource(args.text_source)
    started = time.perf_counter()
    examples = load_examples(corpus / "train", reader, prefer_text_file=False)
    router = Router(catalog, examples)
    fitted = time.perf_counter() - started
    cases = load_cases(corpus / "cases.jsonl")
    split = corpus / args.split
    records = [
        json.loads(line) for line in (split / "labels.jsonl").read_text().splitlines() if line
    ]
    rows = []
    started = time.perf_counter()
    for record in records:
        text = reader(split / record["id"], record)
        rows.append((record, router.decide(Letter(text, record["id"]), cases), text))
    decided = time.perf_counter() - started
    reader.close()
    print(
        f"Routing benchmark: {len(examples)} examples ({corpus.name}/train) -> {len(rows)} "
        f"letters ({args.split}), text from {args.text_source}; model {router.model_version}, "
        f"temperature {router.model.temperature:.2f}; fit {fitted:.1f} s, "
        f"{1000 * decided / max(1, len(rows)):.0f} ms per letter"
    )
    print_letters(rows) if args.letters else None
    print_summary(rows)
    print_followups(rows)
    print_slices(rows)
    print_confusion(rows, [*catalog.department_ids(), MISDIRECTED])
    return 0


def print_letters(rows: list[tuple[dict[str, Any], Decision, str]]) -> None:
    print(f"\n{'letter':8} {'label':16} {'decision':16} {'conf':>5}  case / reason")
    for record, decision, _ in rows:
        shown = "TRIAGE" if decision.triage else decision.department
        mark = " " if predicted_label(decision) == record["department"] else "x"
        print(
            f"{record['id']:8} {record['department']:16} {shown!s:16} "
            f"{decision.confidence:5.2f} {mark} {decision.case or ''} {decision.reason} "
            f"[{decision.explanation.detail[:70]}]"
        )


def print_summary(rows: list[tuple[dict[str, Any], Decision, str]]) -> None:
    total = len(rows)
    top1 = sum(predicted_label(d) == r["department"] for r, d, _ in rows)
    lenient = sum(predicted_label(d) in {r["department"], *r["secondary"]} for r, d, _ in rows)
    routed = [(r, d) for r, d, _ in rows if not d.triage]
    routed_right = sum(d.department == r["department"] for r, d in routed)
    triaged = [(r, d) for r, d, _ in rows if d.triage]
    misdirected_caught = sum(d.misdirected and r["department"] == MISDIRECTED for r, d in triaged)
    handled = routed_right + misdirected_caught
    print("\n| metric | value | target |")
    print("|---|---|---|")
    print(f"| top-1 accuracy | {top1}/{total} = {pct(top1, total)} | >= 90 % |")
    print(
        f"| lenient accuracy (primary or secondary) | {lenient}/{total} = {pct(lenient, total)} | |"
    )
    print(f"| macro-F1 (11 classes) | {macro_f1(rows):.3f} | |")
    print(
        f"| precision of automatically routed | {routed_right}/{len(routed)} = "
        f"{pct(routed_right, len(routed))} | >= 97 % |"
    )
    print(
        f"| triage rate (all triaged) | {len(triaged)}/{total} = {pct(len(triaged), total)} "
        f"| <= 20 % |"
    )
    print(f"|   of which misdirected, marked as such | {misdirected_caught} | |")
    print(
        f"| triage rate without misdirected mail | {len(triaged) - misdirected_caught}/"
        f"{total} = {pct(len(triaged) - misdirected_caught, total)} | |"
    )
    print(
        f"| handled correctly without a human (routed right + misdirected caught) | "
        f"{handled}/{total} = {pct(handled, total)} | |"
    )


def print_followups(rows: list[tuple[dict[str, Any], Decision, str]]) -> None:
    cited = [(ref, d) for r, d, _ in rows for ref in r["references"]]
    found = sum(norm(ref) in {norm(x.text) for x in d.references} for ref, d in cited)
    with_case = [(r, d) for r, d, _ in rows if r["case"]]
    attached = sum(d.case == r["case"] for r, d in with_case)
    without_case = [(r, d) for r, d, _ in rows if not r["case"]]
    wrong = sum(d.case is not None for r, d in without_case)
    wrong_case = sum(d.case is not None and d.case != r["case"] for r, d in with_case)
    print("\n| follow-up matching | value | target |")
    print("|---|---|---|")
    print(f"| cited references found | {found}/{len(cited)} = {pct(found, len(cited))} | 100 % |")
    print(
        f"| follow-ups attached to the right case | {attached}/{len(with_case)} = "
        f"{pct(attached, len(with_case))} | 100 % |"
    )
    print(f"| follow-ups attached to a wrong case | {wrong_case} | 0 |")
    print(f"| other letters attached to any case | {wrong}/{len(without_case)} | 0 |")
    warned = [r["id"] for r, d, _ in rows if d.warnings]
    print(f"| letters with a warning | {', '.join(warned) or '-'} | |")


def print_slices(rows: list[tuple[dict[str, Any], Decision, str]]) -> None:
    print("\n| slice | letters | top-1 | routed automatically | routed right |")
    print("|---|---|---|---|---|")
    for tag in SLICE_TAGS:
        part = [(r, d) for r, d, _ in rows if tag in r["tags"]]
        if not part:
            continue
        top1 = sum(predicted_label(d) == r["department"] for r, d in part)
        routed = [(r, d) for r, d in part if not d.triage]
        right = sum(d.department == r["department"] for r, d in routed)
        print(f"| {tag} | {len(part)} | {top1} | {len(routed)} | {right} |")


def print_confusion(rows: list[tuple[dict[str, Any], Decision, str]], labels: list[str]) -> None:
    short = {label: label[:5] for label in labels}
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for record, decision, _ in rows:
        matrix[record["department"]][predicted_label(decision)] += 1
    print("\nConfusion (rows: label, columns: top-1 prediction)")
    print(" " * 16 + " ".join(f"{short[c]:>5}" for c in labels))
    for label in labels:
        print(f"{label:16}" + " ".join(f"{matrix[label][c] or '.':>5}" for c in labels))


def macro_f1(rows: list[tuple[dict[str, Any], Decision, str]]) -> float:
    labels = {r["department"] for r, _, _ in rows} | {predicted_label(d) for _, d, _ in rows}
    scores = []
    for label in sorted(labels):
        tp = sum(predicted_label(d) == label == r["department"] for r, d, _ in rows)
        fp = sum(predicted_label(d) == label != r["department"] for r, d, _ in rows)
        fn = sum(r["department"] == label != predicted_label(d) for r, d, _ in rows)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--catalog", default=str(DEFAULT_CATALOG))
    parser.add_argument("--text-source", choices=("pdf", "gt", "ocr"), default="pdf")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--letters", action="store_true", help="print one line per letter")
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
