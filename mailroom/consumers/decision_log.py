"""One log line and one counter per router decision, once the decision is saved.

The router notes its decision while it applies it; the line is written only after the save
succeeded, so a redelivered event (whose save is refused) never logs a decision twice and
a decision that failed to save is never reported as made. Fields (JSON): ``decision``
(routed | triaged | attached), ``department``, ``method``, ``score``, ``reason`` (a
``TriageReason`` code), ``case_reference``; item id and reference come from the context.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mailroom.metrics import ROUTER_DECISIONS

log = logging.getLogger("mailroom.consumers.router")

ROUTED = "routed"
TRIAGED = "triaged"
ATTACHED = "attached"


@dataclass(frozen=True)
class DecisionNote:
    decision: str
    method: str = ""
    department: str | None = None
    score: float | None = None
    reason: str = ""  # triage: the TriageReason code
    detail: str = ""
    case_reference: str | None = None
    candidates: list[str] = field(default_factory=list)  # "department:score", best first

    def write(self) -> None:
        how = self.reason if self.decision == TRIAGED else self.method
        ROUTER_DECISIONS.labels(self.decision, how or "unknown").inc()
        fields = {
            "decision": self.decision,
            "method": self.method or None,
            "department": self.department,
            "score": None if self.score is None else round(self.score, 4),
            "reason": self.reason or None,
            "case_reference": self.case_reference,
        }
        if self.decision == ROUTED:
            log.info(
                "routed to %s by %s (score %.2f), case %s opened",
                self.department,
                self.method,
                self.score or 0.0,
                self.case_reference,
                extra=fields,
            )
        elif self.decision == ATTACHED:
            log.info(
                "attached to case %s by %s (score %.2f)",
                self.case_reference,
                self.method,
                self.score or 0.0,
                extra=fields,
            )
        else:
            log.info(
                "sent to triage: %s%s%s",
                self.reason,
                f" ({self.detail})" if self.detail else "",
                f"; candidates {', '.join(self.candidates)}" if self.candidates else "",
                extra={**fields, "detail": self.detail, "candidates": self.candidates},
            )
