"""Attaching a letter to the existing case it follows up on — or refusing to.

Order of evidence:

1. A cited reference that names a case in the directory: attach when the sender plausibly is
   the case's party (see ``SenderEvidence.plausible_for``); otherwise the item goes to triage
   with a warning and is *not* attached. Several such cases: the open one cited first wins.
2. No case has a cited reference, but a case's reference is one slip away (a transposed or
   mistyped character, a missing digit): attach only on strong evidence — name and address of
   the party — and only if exactly one case qualifies. Otherwise: a suggestion, no attachment.
3. No reference at all: an *open* case whose party, address and subject all appear in the
   letter, of a department the classifier considers, and only one such case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from routing.cases import CaseDirectory, CaseQuery, CaseRecord
from routing.parties import LetterWords, parse_address, parse_party
from routing.references import FoundReference, reference_key
from routing.text import analyse

_SENDER_BLOCK_LINES = 14  # letterhead, return address, e-mail header
_SIGNATURE_LINES = 10
_SUBJECT_COVERAGE = 0.75


@dataclass(frozen=True)
class CaseMatch:
    case: CaseRecord | None
    method: str  # "reference", "near-reference", "sender", "" (none)
    explanation: str = ""
    warnings: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()  # case ids a clerk may want to look at; never attached


@dataclass(frozen=True)
class SenderEvidence:
    anonymous_party: bool
    name_in_sender_block: bool  # a party's full name or organisation in letterhead or signature
    surname_in_sender_block: bool
    name_anywhere: bool
    surname_anywhere: bool
    address_anywhere: bool

    @property
    def plausible_for_reference(self) -> bool:
        """Enough to accept a cited reference: the party writes, or someone on its behalf."""
        if self.anonymous_party:
            return self.address_anywhere
        return (
            self.name_in_sender_block
            or (self.surname_in_sender_block and self.address_anywhere)
            or (self.name_anywhere and self.address_anywhere)
        )

    @property
    def strong(self) -> bool:
        """Enough without an exact reference: the party's name and address."""
        if self.anonymous_party:
            return False
        named = self.name_anywhere or self.surname_in_sender_block
        return named and self.address_anywhere


class LetterView:
    """The letter's words, whole and in its sender regions, computed once per letter."""

    def __init__(self, text: str) -> None:
        self.whole = LetterWords(text)
        lines_per_page = [page.splitlines() for page in text.split("\f")]
        head = lines_per_page[0][:_SENDER_BLOCK_LINES]
        tails = [line for page in lines_per_page for line in page[-_SIGNATURE_LINES:]]
        self.sender_block = LetterWords("\n".join(head + tails))
        self.subject_words = {t.key for t in analyse(text) if not t.is_stopword}
        self.numbers = set(re.findall(r"\d+", text))

    def evidence(self, case: CaseRecord) -> SenderEvidence:
        party = parse_party(case.party)
        address = parse_address(case.address)
        names_whole = any(self.whole.has_person(p) for p in party.persons) or any(
            self.whole.has_organisation(o) for o in party.organisations
        )
        names_block = any(self.sender_block.has_person(p) for p in party.persons) or any(
            self.sender_block.has_organisation(o) for o in party.organisations
        )
        return SenderEvidence(
            anonymous_party=party.anonymous,
            name_in_sender_block=names_block,
            surname_in_sender_block=any(self.sender_block.has(p.surname) for p in party.persons),
            name_anywhere=names_whole,
            surname_anywhere=any(self.whole.has(p.surname) for p in party.persons),
            address_anywhere=address is not None and self.whole.has_address(address),
        )

    def subject_coverage(self, case: CaseRecord) -> float:
        words = [t for t in analyse(case.subject) if not t.is_stopword and len(t.key) > 1]
        numbers = re.findall(r"\d+", case.subject)
        found = sum(t.key in self.subject_words for t in words) + sum(
            n in self.numbers for n in numbers
        )
        total = len(words) + len(numbers)
        return found / total if total else 0.0


def match_case(
    text: str,
    references: Sequence[FoundReference],
    directory: CaseDirectory,
    plausible_departments: Sequence[str],
) -> CaseMatch:
    """Find the existing case this letter belongs to, if it can be told safely."""
    view = LetterView(text)
    usable = [r for r in references if r.usable]
    cited = _cited_cases(usable, directory)
    if cited:
        return _match_cited(view, cited)
    query = CaseQuery(
        reference_keys=tuple(reference_key(r.reference) for r in usable),
        postcodes=tuple(sorted(set(re.findall(r"\b\d{5}\b", text)))),
        words=tuple(sorted(set(view.whole.words))),
    )
    candidates = directory.candidates(query)
    if usable:
        return _match_near_reference(view, usable, candidates)
    return _match_without_reference(view, candidates, plausible_departments)


def _cited_cases(
    references: Sequence[FoundReference], directory: CaseDirectory
) -> list[CaseRecord]:
    cases: dict[str, CaseRecord] = {}
    for reference in references:
        case = directory.by_reference(reference_key(reference.reference))
        if case is not None and case.case_id not in cases:
            cases[case.case_id] = case
    return list(cases.values())


def _match_cited(view: LetterView, cited: list[CaseRecord]) -> CaseMatch:
    plausible = [c for c in cited if view.evidence(c).plausible_for_reference]
    rejected = [c for c in cited if c not in plausible]
    warnings = tuple(
        f"cites {c.case_id}, but the sender does not match its party; not attached"
        for c in rejected
    )
    if not plausible:
        return CaseMatch(None, "", warnings=warnings, suggestions=tuple(c.case_id for c in cited))
    chosen = next((c for c in plausible if c.is_open), plausible[0])
    return CaseMatch(
        chosen,
        "reference",
        f"cites {chosen.case_id}; sender matches its party",
        warnings=warnings,
    )


def _match_near_reference(
    view: LetterView, references: Sequence[FoundReference], candidates: Sequence[CaseRecord]
) -> CaseMatch:
    keys = {reference_key(r.reference) for r in references}
    near = [c for c in candidates if any(_one_slip(k, reference_key(c.case_id)) for k in keys)]
    strong = [c for c in near if view.evidence(c).strong]
    if len(strong) == 1:
        case = strong[0]
        return CaseMatch(
            case,
            "near-reference",
            f"cited reference is one character from {case.case_id}; party name and address match",
        )
    warnings: tuple[str, ...] = ()
    if near:
        warnings = (
            "cited reference is unknown; similar references: " + ", ".join(c.case_id for c in near),
        )
    return CaseMatch(None, "", warnings=warnings, suggestions=tuple(c.case_id for c in near))


def _one_slip(written: str, case_key: str) -> bool:
    if abs(len(written) - len(case_key)) > 1 or min(len(written), len(case_key)) < 6:
        return False
    return DamerauLevenshtein.distance(written, case_key) == 1


def _match_without_reference(
    view: LetterView, candidates: Sequence[CaseRecord], plausible_departments: Sequence[str]
) -> CaseMatch:
    qualified = []
    for case in candidates:
        if not case.is_open or case.department_id not in plausible_departments:
            continue
        evidence = view.evidence(case)
        if evidence.strong and view.subject_coverage(case) >= _SUBJECT_COVERAGE:
            qualified.append(case)
    if len(qualified) == 1:
        case = qualified[0]
        return CaseMatch(
            case,
            "sender",
            f"no reference; party, address and subject match open case {case.case_id}",
        )
    return CaseMatch(None, "", suggestions=tuple(c.case_id for c in qualified))
