"""Catalog vocabulary that only the dev letters justify: the ablation behind the honest figures.

    .venv/bin/python bench/routing_ablation.py [--corpus ../shared/corpus] [--catalog PATH]

Lists each department's keywords and aliases whose term occurs in some dev letter (text layer
of letter.pdf) but in no train letter and is not a term of the corpus' departments.json (name,
description, services) — the words that could have been written to fix a dev error. Each must
be justified by the department's public remit and the words citizens use for it, or go.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing import Catalog  # noqa: E402
from routing.lexicon import Lexicon, _terms  # noqa: E402
from routing.text import analyse, subject_lines  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_CATALOG = ROOT / "mailroom" / "cities" / "lindenau" / "catalog.toml"


def letter_terms(lexicon: Lexicon, folder: Path) -> dict[str, set[str]]:
    from ocr import read_text_layer

    found: dict[str, set[str]] = {}
    for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        pdf = (folder / record["files"]["pdf"]).read_bytes()
        text = "\f".join(read_text_layer(pdf) or [])
        hits = lexicon.hits(analyse(text), subject_lines(text))
        found[record["id"]] = {h.term for h in hits}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--catalog", default=str(DEFAULT_CATALOG))
    args = parser.parse_args()
    corpus = Path(args.corpus)
    catalog = Catalog.load(args.catalog)
    plain = Catalog.from_departments_json(
        json.loads((corpus / "departments.json").read_text(encoding="utf-8"))
    )
    plain_terms = set(Lexicon(plain).weights)
    lexicon = Lexicon(catalog)
    train = letter_terms(lexicon, corpus / "train")
    dev = letter_terms(lexicon, corpus / "dev")
    in_train = set().union(*train.values())
    total = 0
    for department in catalog.departments:
        rows: dict[str, list[str]] = defaultdict(list)
        for kind, phrases in (("alias", department.aliases), ("keyword", department.keywords)):
            for phrase in phrases:
                for term in _terms((phrase,), True):
                    if term in in_train or term in plain_terms:
                        continue
                    letters = sorted(i for i, terms in dev.items() if term in terms)
                    if letters:
                        rows[f"{kind} {phrase!r}"] = letters
        if rows:
            print(f"\n{department.id}:")
            for what, letters in rows.items():
                print(f"  {what:40} dev: {', '.join(letters)}")
            total += len(rows)
    print(
        f"\n{total} keywords/aliases occur in dev letters only (not in train nor departments.json)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
