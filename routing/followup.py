"""Attaching a letter to the existing case it follows up on — or refusing to.

Order of evidence:

1. A cited reference that names a case in the directory: attach when the sender plausibly is
   the case's party (see ``SenderEvidence.plausible_for``); otherwise the item goes to triage
   with a warning and is *not* attached. Several such cases: the open one cited first wins.
   "Names a case" needs no reference format: a cited sequence that is a case's reference after
   normalisation (case, separators, leading zeros, OCR look-alikes), with year and number
   swapped, or a long distinctive part of it, found in the directory by its lookup keys
   (``routing.reference_lookup``). A sequence that fits several cases names none of them.
2. No case has a cited reference, but a case's reference is one slip away (a transposed or
   mistyped character, a missing digit) and the reference is long enough to stay unambiguous
   (``_MIN_SLIP_LENGTH``): attach only on strong evidence — name and address of the party —
   and only if exactly one case is that close. Otherwise: a suggestion, no attachment.
3. No reference to a case at all: an *open* case whose party (full name), address and subject
   all appear in the letter, of a department the classifier considers, and only one such case.
   (The surname alone counts as the name only in the sender block and at the party's address:
   the household, e.g. an heir.) A case of the sender that agrees in three of the four is only
   proposed (``suggestions``, with the evidence in ``notes``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from routing.cases import CaseDirectory, CaseQuery, CaseRecord
from routing.parties import LetterWords, parse_address, parse_party
from routing.reference_lookup import Citation, describe, letter_windows, tightened, whole
from routing.references import CITATION_LABELS, SENDER_OWN_LABELS, FoundReference, reference_key
from routing.text import analyse

_SENDER_BLOCK_LINES = 14  # letterhead, return address, e-mail header
_SIGNATURE_LINES = 10
_SUBJECT_COVERAGE = 0.75
_MIN_SLIP_LENGTH = 8  # significant characters a reference needs before a slip is tolerated


@dataclass(frozen=True)
class CaseMatch:
    case: CaseRecord | None
    method: str  # "reference", "near-reference", "sender", "" (none)
    explanation: str = ""
    warnings: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()  # case ids a clerk may want to look at; never attached
    notes: tuple[str, ...] = ()  # the evidence for each suggestion, for the clerk
    citations: tuple[FoundReference, ...] = ()  # references read only through the directory


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
    def plausible_for_loose_reference(self) -> bool:
        """Enough for a part of a reference or one with year and number swapped: the party's
        full name, not only its surname (a relative or namesake at the same address)."""
        if self.anonymous_party:
            return self.address_anywhere
        return self.name_in_sender_block or (self.name_anywhere and self.address_anywhere)

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
    cited = [_Named(case) for case in _cited_cases(usable, directory)]
    if cited:
        return _match_cited(view, cited)
    looked_up, ambiguous = _looked_up_cases(text, usable, directory)
    # A bare number that is only a part of another party's reference (a phone or customer
    # number that happens to look like it) is no citation of that case: ignored, no warning.
    looked_up = [
        n for n in looked_up if n.marked or not n.loose or n.plausible(view.evidence(n.case))
    ]
    if looked_up:
        return _match_cited(view, looked_up)
    if ambiguous:
        return ambiguous
    query = CaseQuery(
        reference_keys=tuple(reference_key(r.reference) for r in usable),
        postcodes=tuple(sorted(set(re.findall(r"\b\d{5}\b", text)))),
        words=tuple(sorted(set(view.whole.words))),
    )
    candidates = directory.candidates(query)
    if usable:
        near = _match_near_reference(view, usable, candidates)
        if near.case is not None or near.warnings:
            return near
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


@dataclass(frozen=True)
class _Named:
    """A case a letter names; ``how`` and ``citation`` when only the lookup keys found it."""

    case: CaseRecord
    how: str = ""
    citation: FoundReference | None = None
    loose: bool = False  # a part of the reference, or with year and number swapped
    marked: bool = True  # cited as a reference: behind a label or shaped like one

    def plausible(self, evidence: SenderEvidence) -> bool:
        if self.loose:
            return evidence.plausible_for_loose_reference
        return evidence.plausible_for_reference


def _looked_up_cases(
    text: str, references: Sequence[FoundReference], directory: CaseDirectory
) -> tuple[list[_Named], CaseMatch | None]:
    """Cases named by a cited sequence through the format-free lookup keys, longest sequence
    first; and, when none is named but a sequence fits several cases, a match saying so."""
    citations = [c for c in letter_windows(text) if not _cited_by_sender(text, c.position)]
    keys = sorted({k for c in citations for k in c.keys})
    by_key: dict[str, dict[str, CaseRecord]] = {}
    for key, case in directory.by_lookup_keys(keys) if keys else ():
        by_key.setdefault(key, {})[case.case_id] = case
    found: dict[str, _Named] = {}
    taken: list[tuple[int, int]] = []
    unclear: list[tuple[Citation, list[CaseRecord]]] = []
    for citation in sorted(citations, key=lambda c: (-len(c.text), c.position)):
        span = (citation.position, citation.position + len(citation.text))
        if any(span[0] < end and start < span[1] for start, end in taken):
            continue
        named = [(key, by_key[key]) for key in citation.keys if key in by_key]
        if not named:
            continue
        taken.append(span)
        fitting = {c.case_id: c for _, cases in named for c in cases.values()}
        if len(fitting) > 1:  # several readings, or one reading of several cases
            if _marked(citation, references):
                unclear.append((citation, list(fitting.values())))
            continue
        key, cases = named[0]
        case = next(iter(cases.values()))
        citation = tightened(citation, key)
        cited = FoundReference(
            citation.text, case.case_id, "legacy", "valid", None, citation.position
        )
        how = describe(citation, key, case.case_id)
        loose = not whole(citation, key, case.case_id)
        marked = _marked(citation, references)
        found.setdefault(case.case_id, _Named(case, how, cited, loose, marked))
    if found or not unclear:
        return list(found.values()), None
    fitting_cases = {c.case_id: c for _, fitting in unclear for c in fitting}
    warnings = tuple(
        f"{citation.text!r} fits several cases ({', '.join(c.case_id for c in fitting)}); "
        "not attached"
        for citation, fitting in unclear
    )
    return [], CaseMatch(None, "", warnings=warnings, suggestions=tuple(fitting_cases))


def _marked(citation: Citation, references: Sequence[FoundReference]) -> bool:
    """Whether the citation overlaps a reference the finder saw (behind a citation label or
    shaped like a file number), rather than being any number in the text."""
    end = citation.position + len(citation.text)
    return any(
        r.position < end and citation.position < r.position + len(r.text) for r in references
    )


def _cited_by_sender(text: str, position: int) -> bool:
    """Whether the last label before ``position`` on its line is the sender's own."""
    line = text[text.rfind("\n", 0, position) + 1 : position].lower()
    own = max((line.rfind(label) for label in SENDER_OWN_LABELS), default=-1)
    return own >= 0 and all(line.rfind(label) < own for label in CITATION_LABELS)


def _match_cited(view: LetterView, cited: list[_Named]) -> CaseMatch:
    plausible = [n for n in cited if n.plausible(view.evidence(n.case))]
    rejected = [n for n in cited if n not in plausible]
    warnings = tuple(
        f"cites {n.case.case_id}{_read(n)}, but the sender does not match its party; not attached"
        for n in rejected
    )
    if not plausible:
        suggestions = tuple(n.case.case_id for n in cited)
        return CaseMatch(None, "", warnings=warnings, suggestions=suggestions)
    chosen = next((n for n in plausible if n.case.is_open), plausible[0])
    return CaseMatch(
        chosen.case,
        "reference",
        f"cites {chosen.case.case_id}{_read(chosen)}; sender matches its party",
        warnings=warnings,
        citations=() if chosen.citation is None else (chosen.citation,),
    )


def _read(named: _Named) -> str:
    return f" ({named.how})" if named.how else ""


def _match_near_reference(
    view: LetterView, references: Sequence[FoundReference], candidates: Sequence[CaseRecord]
) -> CaseMatch:
    keys = {reference_key(r.reference) for r in references}
    near = [c for c in candidates if any(_one_slip(k, reference_key(c.case_id)) for k in keys)]
    if len(near) == 1 and view.evidence(near[0]).strong:
        case = near[0]
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
    """One transposed, wrong, missing or extra character, in a reference long enough that one
    slip cannot make it another plausible reference."""
    if abs(len(written) - len(case_key)) > 1 or min(len(written), len(case_key)) < _MIN_SLIP_LENGTH:
        return False
    return DamerauLevenshtein.distance(written, case_key) == 1


def _match_without_reference(
    view: LetterView, candidates: Sequence[CaseRecord], plausible_departments: Sequence[str]
) -> CaseMatch:
    """All four must agree to attach: the party's name, its address, a department the
    classifier considers and the case's subject. A named sender's open case that agrees in two
    of the other three is proposed to the clerk, with the evidence."""
    qualified = []
    proposed: list[tuple[CaseRecord, str]] = []
    for case in candidates:
        if not case.is_open:
            continue
        evidence = view.evidence(case)
        if evidence.anonymous_party or not (
            evidence.name_anywhere or evidence.surname_in_sender_block
        ):
            continue
        coverage = view.subject_coverage(case)
        agree = {
            # the surname alone only in the sender block at the party's address: the household
            "name": evidence.name_anywhere
            or (evidence.surname_in_sender_block and evidence.address_anywhere),
            "address": evidence.address_anywhere,
            "department": case.department_id in plausible_departments,
            "subject": coverage >= _SUBJECT_COVERAGE,
        }
        if all(agree.values()):
            qualified.append(case)
        elif sum(agree.values()) == 3:
            missing = next(name for name, ok in agree.items() if not ok)
            proposed.append(
                (
                    case,
                    f"possible follow-up to {case.case_id}: "
                    f"{', '.join(n for n, ok in agree.items() if ok)} agree "
                    f"(subject {coverage:.0%}), {missing} does not; not attached",
                )
            )
    if len(qualified) == 1:
        case = qualified[0]
        return CaseMatch(
            case,
            "sender",
            f"no reference; party, address, department and subject match open case {case.case_id}",
        )
    notes = (
        tuple(
            f"possible follow-up to {c.case_id}: party, address, department and subject agree, "
            f"but so do {len(qualified) - 1} other case(s); not attached"
            for c in qualified
        )
        if len(qualified) > 1
        else ()
    )
    notes += tuple(note for _, note in proposed)
    suggestions = tuple(c.case_id for c in qualified) + tuple(c.case_id for c, _ in proposed)
    return CaseMatch(None, "", suggestions=suggestions, notes=notes)
