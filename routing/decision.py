"""What the router decides for one incoming item, and portal submissions by service key.

``Decision`` is plain, serialisable data (``to_dict`` for JSON and events): department or None
(triage), a calibrated confidence, the top three candidates, the references found, the case
the item belongs to, whether it is misdirected, a short reason and the explanation (the rule,
the reference and case, or the strongest terms), and where the text allows it the service of
the department, a secondary department and, for misdirected mail, the likely addressee.
``Router`` (``routing.router``) makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routing.catalog import Catalog, UnknownServiceError
from routing.model import Candidate
from routing.references import FoundReference


@dataclass(frozen=True)
class Letter:
    text: str  # pages separated by form feeds
    item_id: str | None = None


@dataclass(frozen=True)
class Explanation:
    method: str  # "service", "case", "rule", "classifier", "none"
    detail: str
    terms: tuple[str, ...] = ()
    similar_letter: str | None = None


@dataclass(frozen=True)
class Decision:
    department: str | None  # None when the item goes to triage
    confidence: float
    candidates: tuple[Candidate, ...]  # at most three, most likely first
    references: tuple[FoundReference, ...]
    case: str | None  # the existing case the item belongs to
    triage: bool
    misdirected: bool
    reason: str
    explanation: Explanation
    warnings: tuple[str, ...] = ()
    model_version: str = ""
    case_suggestions: tuple[str, ...] = field(default=())  # for the clerk; never attached
    service: str | None = (
        None  # the service key, when the text clearly names one of the department's
    )
    service_terms: tuple[str, ...] = ()  # the words that named it
    secondary: str | None = None  # a second department with strong own evidence (multi-topic)
    secondary_terms: tuple[str, ...] = ()
    addressee: str | None = None  # misdirected mail: who it is likely meant for

    def to_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "confidence": round(self.confidence, 4),
            "candidates": [
                {"department": c.department, "confidence": round(c.confidence, 4)}
                for c in self.candidates
            ],
            "references": [
                {
                    "text": r.text,
                    "reference": r.reference,
                    "kind": r.kind,
                    "status": r.status,
                    "department": r.department_id,
                }
                for r in self.references
            ],
            "case": self.case,
            "triage": self.triage,
            "misdirected": self.misdirected,
            "reason": self.reason,
            "explanation": {
                "method": self.explanation.method,
                "detail": self.explanation.detail,
                "terms": list(self.explanation.terms),
                "similar_letter": self.explanation.similar_letter,
            },
            "warnings": list(self.warnings),
            "case_suggestions": list(self.case_suggestions),
            "model_version": self.model_version,
            "service": self.service,
            "service_terms": list(self.service_terms),
            "secondary": self.secondary,
            "secondary_terms": list(self.secondary_terms),
            "addressee": self.addressee,
        }


def route_submission(catalog: Catalog, service_key: str) -> Decision:
    """A portal submission names its service: route by configuration, never guess. An unknown
    key goes to triage."""
    try:
        service = catalog.service(service_key)
    except UnknownServiceError:
        return Decision(
            department=None,
            confidence=0.0,
            candidates=(),
            references=(),
            case=None,
            triage=True,
            misdirected=False,
            reason=f"unknown service key {service_key!r}",
            explanation=Explanation("service", f"no service {service_key!r} in the catalog"),
        )
    department = service.department_id
    return Decision(
        department=department,
        confidence=1.0,
        candidates=(Candidate(department, 1.0),),
        references=(),
        case=None,
        triage=False,
        misdirected=False,
        reason=f"portal service {service.key!r}",
        explanation=Explanation("service", f"service {service.name!r} belongs to {department}"),
        service=service.key,
    )
