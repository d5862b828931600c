"""Existing cases (Vorgänge) as the router sees them, and the directory it searches.

The mailroom implements ``CaseDirectory`` over its case projection; ``InMemoryCaseDirectory``
serves the CLI, the benchmark and tests (``load_cases`` reads the corpus' ``cases.jsonl``).

- ``by_reference(key)``: the case whose reference has this key (``reference_key``), if any;
- ``by_lookup_keys(keys)``: the cases indexed under any of these format-free lookup keys
  (``routing.reference_lookup.case_lookup_keys`` of each case reference), as (key, case) pairs;
- ``candidates(query)``: cases worth comparing with a letter when its reference is damaged or
  missing. An implementation may narrow them down by the query's postcodes, street names and
  words (surnames); returning every case is correct, only slower.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from routing.reference_lookup import case_lookup_keys
from routing.references import reference_key


class CasesFileError(ValueError):
    """A cases file cannot be read or a line is not a case."""


@dataclass(frozen=True)
class CaseRecord:
    case_id: str  # the reference the city gave the case ("63-BA-2026-0234")
    department_id: str
    party: str  # "Peter und Sabine Hakvoort", "Schlüter Metallbau GmbH", "anonym (Portal)"
    address: str  # "Eichendorffweg 15, 47137 Lindenau"
    subject: str
    status: str = "open"  # "open" or "closed"
    service: str = ""

    @property
    def is_open(self) -> bool:
        return self.status != "closed"


@dataclass(frozen=True)
class CaseQuery:
    """What a letter offers to find candidate cases by."""

    reference_keys: tuple[str, ...]
    postcodes: tuple[str, ...]
    words: tuple[str, ...]  # folded capitalised words of the letter (names, streets)


class CaseDirectory(Protocol):
    def by_reference(self, key: str) -> CaseRecord | None: ...

    def by_lookup_keys(self, keys: Sequence[str]) -> Sequence[tuple[str, CaseRecord]]: ...

    def candidates(self, query: CaseQuery) -> Sequence[CaseRecord]: ...


class InMemoryCaseDirectory:
    def __init__(self, cases: Iterable[CaseRecord] = ()) -> None:
        self._cases = tuple(cases)
        self._by_key = {reference_key(c.case_id): c for c in self._cases}
        self._by_lookup_key: dict[str, list[CaseRecord]] = {}
        for case in self._cases:
            for key in case_lookup_keys(case.case_id):
                self._by_lookup_key.setdefault(key, []).append(case)

    def by_reference(self, key: str) -> CaseRecord | None:
        return self._by_key.get(key)

    def by_lookup_keys(self, keys: Sequence[str]) -> Sequence[tuple[str, CaseRecord]]:
        return [(k, c) for k in dict.fromkeys(keys) for c in self._by_lookup_key.get(k, ())]

    def candidates(self, query: CaseQuery) -> Sequence[CaseRecord]:
        return self._cases

    def __len__(self) -> int:
        return len(self._cases)

    def __iter__(self) -> Iterator[CaseRecord]:
        return iter(self._cases)


def case_from_json(data: dict[str, object]) -> CaseRecord:
    """A case from one line of ``cases.jsonl`` (``case``, ``department``, ``party``, ...)."""
    try:
        return CaseRecord(
            case_id=str(data["case"]),
            department_id=str(data["department"]),
            party=str(data.get("party", "")),
            address=str(data.get("address", "")),
            subject=str(data.get("subject", "")),
            status=str(data.get("status", "open")),
            service=str(data.get("service", "")),
        )
    except KeyError as exc:
        raise CasesFileError(f"a case needs the field {exc.args[0]!r}") from exc


def load_cases(path: Path | str) -> InMemoryCaseDirectory:
    """Read JSON lines of cases, as in the corpus' ``cases.jsonl``."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CasesFileError(f"cannot read cases file {path}: {exc.strerror}") from exc
    cases = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CasesFileError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise CasesFileError(f"{path}:{number}: expected a JSON object")
        try:
            cases.append(case_from_json(data))
        except CasesFileError as exc:
            raise CasesFileError(f"{path}:{number}: {exc}") from exc
    return InMemoryCaseDirectory(cases)
