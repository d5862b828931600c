"""Labelled letters the router learns from: configured examples and clerks' re-routings.

``load_examples(folder)`` reads the corpus format: ``labels.jsonl`` (one JSON object per line
with at least ``id`` and ``department``; ``files.text`` names the text file, by default
``<id>/text.txt``) plus one folder per letter. A letter without a text file is read through
the ``read_text`` hook (e.g. OCR of ``files.pdf`` or ``files.scan_pdf``), which receives the
letter's folder and its label record.

A ``Reroute`` is a clerk's correction as the event store records it: the item's text and the
department it was moved to. Re-routings overrule an example of the same id, and a later
re-routing of the same item overrules an earlier one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.catalog import MISDIRECTED, Catalog


class ExamplesError(ValueError):
    """The examples folder or one of its letters cannot be read."""


@dataclass(frozen=True)
class Example:
    id: str
    department: str  # a department id or "misdirected"
    text: str


@dataclass(frozen=True)
class Reroute:
    item_id: str
    text: str
    to_department: str  # a department id or "misdirected"
    from_department: str | None = None


TextReader = Callable[[Path, Mapping[str, Any]], str]


def load_examples(
    folder: Path | str, read_text: TextReader | None = None, prefer_text_file: bool = True
) -> list[Example]:
    """Examples from ``labels.jsonl`` and the letter folders. ``read_text`` is used for letters
    without a text file, or for every letter when ``prefer_text_file`` is False."""
    folder = Path(folder)
    labels_path = folder / "labels.jsonl"
    try:
        lines = labels_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ExamplesError(f"cannot read {labels_path}: {exc.strerror}") from exc
    examples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            example_id, department = str(record["id"]), str(record["department"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ExamplesError(f"{labels_path}:{number}: not a label record ({exc})") from exc
        if read_text is not None and not prefer_text_file:
            text = read_text(folder / example_id, record)
        else:
            text = _text_of(folder, record, read_text)
        examples.append(Example(example_id, department, text))
    return examples


def _text_of(folder: Path, record: Mapping[str, Any], read_text: TextReader | None) -> str:
    files = record.get("files") or {}
    relative = files.get("text") if isinstance(files, dict) else None
    path = folder / (relative or f"{record['id']}/text.txt")
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ExamplesError(f"cannot read {path}: {exc}") from exc
    if read_text is None:
        raise ExamplesError(f"{path} is missing and no text reader was given for {record['id']}")
    return read_text(folder / str(record["id"]), record)


@dataclass(frozen=True)
class LabelledLetter:
    key: str  # "example:<id>" or "reroute:<item id>"
    department: str
    text: str


def labelled_letters(
    catalog: Catalog, examples: Iterable[Example], reroutes: Iterable[Reroute]
) -> list[LabelledLetter]:
    """Examples and re-routings as one labelled set in a canonical order (so the model does
    not depend on the order they were given in). Unknown departments are an error."""
    known = {*catalog.department_ids(), MISDIRECTED}
    letters: dict[str, LabelledLetter] = {}
    for example in examples:
        _check(example.department, known, f"example {example.id}")
        letters[example.id] = LabelledLetter(
            f"example:{example.id}", example.department, example.text
        )
    for reroute in reroutes:
        _check(reroute.to_department, known, f"re-routing of {reroute.item_id}")
        letters[reroute.item_id] = LabelledLetter(
            f"reroute:{reroute.item_id}", reroute.to_department, reroute.text
        )
    return sorted(letters.values(), key=lambda letter: (letter.key, letter.department, letter.text))


def _check(department: str, known: set[str], what: str) -> None:
    if department not in known:
        raise ExamplesError(f"{what} names unknown department {department!r}")
