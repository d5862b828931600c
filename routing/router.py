"""The router: one decision per incoming item, from text and facts.

API for the consumer (the mailroom wires it to events; this module does no I/O)::

    router = Router(catalog, examples, reroutes)    # deterministic; router.model_version
    decision = router.decide(Letter(text), cases)   # cases: a CaseDirectory, may be None
    decision = route_submission(catalog, service_key)   # portal: by service key, no guessing

Order of precedence for a letter:

1. no text at all: triage ("no text found");
2. a follow-up: the letter cites (or, strictly, matches) an existing case whose party plausibly
   wrote it -> that case and its department. A cited case of *another* party -> triage with a
   warning, never attached (``routing.followup``);
3. a catalog rule -> its department, misdirection or triage;
4. the misdirection check (``routing.misdirection``): the address block names another
   authority, advertising cues, or a matter of another authority -> triage marked misdirected,
   with the likely addressee; never routed to a department;
5. the classifier: ``misdirected`` above its threshold -> triage marked misdirected; a
   department above its threshold -> routed; otherwise triage with the top three candidates.

Each decision carries its explanation: the rule, the reference/case, or the strongest terms.
A routed letter also gets the department's service where its text clearly names one
(``routing.services``) and a secondary department where another one has strong evidence of its
own (a multi-topic letter), each with the terms that showed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from routing.analysis import LetterAnalysis
from routing.cases import CaseDirectory
from routing.catalog import MISDIRECTED, TRIAGE, Catalog, Rule
from routing.decision import Decision, Explanation, Letter
from routing.examples import Example, Reroute
from routing.followup import CaseMatch, match_case
from routing.misdirection import Misdirection, MisdirectionCheck
from routing.model import Candidate, Prediction, RoutingModel
from routing.rules import matching_rule
from routing.services import ServiceMatcher

_CASE_CONFIDENCE = {"reference": 1.0, "near-reference": 0.9, "sender": 0.9}
_PLAUSIBLE_FOR_CASE = 0.1  # a department needs this much confidence to own a reference-less case
_NO_MATCH = CaseMatch(None, "")
_SECONDARY_CONFIDENCE = 0.2  # a secondary department is the runner-up with this confidence,
_SECONDARY_EVIDENCE = 1.5  # ... catalog evidence of its own
_SECONDARY_TERMS = 2  # ... from at least this many distinct terms


class Router:
    def __init__(
        self, catalog: Catalog, examples: Iterable[Example] = (), reroutes: Iterable[Reroute] = ()
    ) -> None:
        self.catalog = catalog
        self.model = RoutingModel(catalog, examples, reroutes)
        self.misdirection = MisdirectionCheck(catalog, self.model.analyser.lexicon)
        self.services = ServiceMatcher(catalog)

    @property
    def model_version(self) -> str:
        return self.model.fingerprint

    def decide(self, letter: Letter, cases: CaseDirectory | None = None) -> Decision:
        analysis = self.model.analyse(letter.text)
        if not any(not t.is_stopword for t in analysis.tokens):
            return self._triage((), analysis, "no text found", Explanation("none", "no words"))
        prediction = self.model.predict(analysis)
        match = self._match_case(letter.text, analysis, prediction, cases)
        if match.case is not None:
            return self._attach(match, analysis, prediction)
        top3 = prediction.ranking[:3]
        if match.warnings:
            explanation = Explanation("case", "; ".join(match.warnings))
            return self._triage(top3, analysis, "cites a case of another party", explanation, match)
        rule = matching_rule(self.catalog.rules, analysis.tokens)
        if rule is not None:
            decision = self._apply_rule(rule, analysis, prediction, match)
            return self._route_details(letter.text, analysis, decision)
        misdirection = self.misdirection.check(letter.text, analysis)
        if misdirection is not None:
            return self._misdirected(misdirection, analysis, prediction, match)
        return self._route_details(
            letter.text, analysis, self._classify(analysis, prediction, match)
        )

    def _misdirected(
        self,
        misdirection: Misdirection,
        analysis: LetterAnalysis,
        prediction: Prediction,
        match: CaseMatch,
    ) -> Decision:
        explanation = Explanation("misdirection", misdirection.detail, misdirection.evidence)
        reason = f"misdirected: not for the city (likely meant for: {misdirection.addressee})"
        top3 = prediction.ranking[:3]
        decision = self._triage(top3, analysis, reason, explanation, match)
        return replace(decision, misdirected=True, addressee=misdirection.addressee)

    def _route_details(self, text: str, analysis: LetterAnalysis, decision: Decision) -> Decision:
        """A routed letter's service and secondary department, where the text shows them."""
        department = decision.department
        if department is None:
            return decision
        choice = self.services.choose(department, analysis.tokens, text)
        evidence = self.model.analyser.lexicon.evidence(analysis.hits)
        secondary: str | None = None
        secondary_terms: tuple[str, ...] = ()
        runner_up = next(
            (c for c in decision.candidates if c.department not in (department, MISDIRECTED)), None
        )
        if runner_up is not None and runner_up.confidence >= _SECONDARY_CONFIDENCE:
            other = runner_up.department
            terms = tuple(dict.fromkeys(w for w, _ in evidence.terms[other]))
            if evidence.scores[other] >= _SECONDARY_EVIDENCE and len(terms) >= _SECONDARY_TERMS:
                secondary, secondary_terms = other, terms[:6]
        return replace(
            decision,
            service=choice.service if choice else None,
            service_terms=choice.terms if choice else (),
            secondary=secondary,
            secondary_terms=secondary_terms,
        )

    def _match_case(
        self,
        text: str,
        analysis: LetterAnalysis,
        prediction: Prediction,
        cases: CaseDirectory | None,
    ) -> CaseMatch:
        if cases is None:
            return _NO_MATCH
        plausible = [
            c.department for c in prediction.ranking[:3] if c.confidence >= _PLAUSIBLE_FOR_CASE
        ]
        return match_case(text, analysis.references, cases, plausible)

    def _attach(
        self, match: CaseMatch, analysis: LetterAnalysis, prediction: Prediction
    ) -> Decision:
        assert match.case is not None
        department = match.case.department_id
        confidence = _CASE_CONFIDENCE.get(match.method, 0.9)
        decision = self._route(
            department,
            confidence,
            prediction,
            analysis,
            f"follow-up to case {match.case.case_id}",
            Explanation("case", match.explanation),
            match,
        )
        # A reference read only through the case directory ("0234/2026") joins those found.
        written = {(r.text, r.position) for r in decision.references}
        cited = tuple(r for r in match.citations if (r.text, r.position) not in written)
        references = tuple(sorted((*decision.references, *cited), key=lambda r: r.position))
        return replace(decision, case=match.case.case_id, references=references)

    def _apply_rule(
        self, rule: Rule, analysis: LetterAnalysis, prediction: Prediction, match: CaseMatch
    ) -> Decision:
        explanation = Explanation("rule", f"rule {rule.name!r}")
        reason = f"rule {rule.name!r}"
        if rule.target == MISDIRECTED:
            decision = self._triage(prediction.ranking[:3], analysis, reason, explanation, match)
            return replace(decision, misdirected=True, reason=f"misdirected: {reason}")
        if rule.target == TRIAGE:
            return self._triage(prediction.ranking[:3], analysis, reason, explanation, match)
        return self._route(rule.target, 1.0, prediction, analysis, reason, explanation, match)

    def _classify(
        self, analysis: LetterAnalysis, prediction: Prediction, match: CaseMatch
    ) -> Decision:
        best = prediction.best
        terms = prediction.strongest_terms
        explanation = Explanation(
            "classifier",
            f"{best.department} {best.confidence:.2f}; strongest terms: {', '.join(terms) or '-'}",
            terms,
            prediction.similar_letter,
        )
        threshold = self.catalog.threshold_for(best.department)
        top3 = prediction.ranking[:3]
        if best.confidence < threshold:
            reason = f"unsure: {best.department} {best.confidence:.2f} is below {threshold:.2f}"
            return self._triage(top3, analysis, reason, explanation, match)
        if best.department == MISDIRECTED:
            addressee = self.model.analyser.lexicon.likely_addressee(analysis.hits)
            reason = "misdirected: not for the city"
            reason += f" (likely meant for: {addressee})" if addressee else ""
            decision = self._triage(top3, analysis, reason, explanation, match)
            return replace(decision, misdirected=True, addressee=addressee)
        reason = f"classified as {best.department}"
        return self._route(
            best.department, best.confidence, prediction, analysis, reason, explanation, match
        )

    def _route(
        self,
        department: str,
        confidence: float,
        prediction: Prediction,
        analysis: LetterAnalysis,
        reason: str,
        explanation: Explanation,
        match: CaseMatch,
    ) -> Decision:
        others = [c for c in prediction.ranking if c.department != department][:2]
        return Decision(
            department=department,
            confidence=confidence,
            candidates=(Candidate(department, confidence), *others),
            references=analysis.references,
            case=None,
            triage=False,
            misdirected=False,
            reason=reason,
            explanation=explanation,
            warnings=match.warnings + match.notes,
            model_version=self.model_version,
            case_suggestions=match.suggestions,
        )

    def _triage(
        self,
        candidates: tuple[Candidate, ...],
        analysis: LetterAnalysis,
        reason: str,
        explanation: Explanation,
        match: CaseMatch = _NO_MATCH,
    ) -> Decision:
        return Decision(
            department=None,
            confidence=candidates[0].confidence if candidates else 0.0,
            candidates=candidates,
            references=analysis.references,
            case=None,
            triage=True,
            misdirected=False,
            reason=reason,
            explanation=explanation,
            warnings=match.warnings + match.notes,
            model_version=self.model_version,
            case_suggestions=match.suggestions,
        )
