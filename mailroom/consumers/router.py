"""The router consumer: decides where each item goes and opens or extends its case.

Portal submissions route by their service key. A scanned letter waits until all its
documents have been read; unreadable or doubtful scans go to triage ("rescan or index by
hand"); otherwise the routing library decides: attach to an existing case (only when the
sender plausibly is that case's citizen), route to a department and open a case, or send
to triage with the best candidates (misdirected mail marked as such). A letter carrying the
QR code of one of our own letters is attached to that letter's case before anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates.case import Case, CaseStatus
from aggregates.mail_item import ItemStatus, MailItem, TriageReason
from aggregates.reference import InvalidReferenceError, Reference
from aggregates.values import Channel, RoutingCandidate
from mailroom.application import MailroomApp
from mailroom.consumers.base import EventRecordingConsumer, Failure
from mailroom.consumers.decision_log import ATTACHED, ROUTED, TRIAGED, DecisionNote
from mailroom.consumers.routing_model import RouterFromEvents
from mailroom.logs import annotate
from projections.case_directory import CaseDirectoryProjection
from routing import Catalog, Decision, Letter, route_submission
from routing.sender import letter_sender, letter_subject


class RouterConsumer(EventRecordingConsumer):
    name = "router"
    topics: tuple[str, ...] = tuple(
        get_topic(cls)
        for cls in (MailItem.Received, MailItem.TextExtracted, MailItem.ExtractionFailed)
    )

    def __init__(
        self,
        app: MailroomApp,
        catalog: Catalog,
        cases: CaseDirectoryProjection,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(app)
        self.catalog = catalog
        self.cases = cases
        self.clock = clock
        self.model = RouterFromEvents(app, catalog)
        self._decision: DecisionNote | None = None  # logged once its save succeeded

    def save(self, tracking: Tracking, *aggregates: Any) -> bool:
        decision, self._decision = self._decision, None
        saved = super().save(tracking, *aggregates)
        if saved and decision is not None:
            decision.write()
        return saved

    def process(self, event: Any, tracking: Tracking) -> bool:
        self._decision = None
        own = self.own_tracking(tracking)
        if own is None:
            return False
        item = self.app.get_item(event.originator_id)
        annotate(item_id=item.id, reference=item.reference)
        if item.status is not ItemStatus.RECEIVED or item.case_id is not None:
            return False  # decided before (a repeated event)
        if item.channel == Channel.PORTAL and item.submission is not None:
            decision = route_submission(self.catalog, item.submission.service_key)
            return self.save(own, *self._apply(item, decision, "service-key"))
        if not item.text_complete:
            return False  # wait for the other documents
        if item.quality_issues or item.extraction_failures:
            codes = [i.code for i in item.quality_issues]
            codes += [f.code for f in item.extraction_failures.values()]
            item.send_to_triage(
                TriageReason.RESCAN, candidates=[], warnings=[], detail=", ".join(codes)
            )
            self._decision = DecisionNote(
                TRIAGED, reason=TriageReason.RESCAN, detail=", ".join(codes)
            )
            return self.save(own, item)
        by_code = self._case_by_code(item)
        if by_code is not None:
            return self.save(own, *self._attach(item, by_code, "qr-code", 1.0, "qr-code"))
        decision = self.model.current().decide(Letter(item.text, str(item.id)), self.cases)
        return self.save(own, *self._apply(item, decision, "classifier"))

    def _case_by_code(self, item: MailItem) -> Case | None:
        """A letter of ours comes back (an answer on our form, a signed copy): the QR code
        on it names its case, which beats any reading of the text."""
        prefix = self.catalog.city.reference_prefix
        for code in item.codes:
            try:
                reference = str(Reference.parse(code.strip(), prefix))
            except InvalidReferenceError:
                continue
            case = self._existing_case(reference)
            if case is not None and not case.closed:
                return case
        return None

    def _attach(
        self, item: MailItem, case: Case, method: str, confidence: float, explanation: str
    ) -> list[Any]:
        case.attach_item(item.id)
        if case.status is CaseStatus.WAITING:  # the answer the clerk asked for
            case.receive_information(item.id, f"system:{self.name}", self.clock())
        item.route(case.department_id, method, confidence, explanation)
        item.attach_to_case(case.id, case.reference)
        self._decision = DecisionNote(
            ATTACHED, method, case.department_id, confidence, case_reference=case.reference
        )
        return [item, case]

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        """Routing kept failing for this item: it goes to triage to be placed by hand."""
        self._decision = None
        own = self.own_tracking(tracking)
        if own is None:
            return True
        item = self.app.get_item(event.originator_id)
        annotate(item_id=item.id, reference=item.reference)
        if item.status is ItemStatus.RECEIVED and item.case_id is None:
            item.send_to_triage(
                TriageReason.ROUTING_FAILED, candidates=[], warnings=[], detail=failure.detail
            )
            self._decision = DecisionNote(
                TRIAGED, reason=TriageReason.ROUTING_FAILED, detail=failure.code
            )
            self.save(own, item)
        else:
            self.save(own)  # decided meanwhile: only the position moves on
        return True

    def _apply(self, item: MailItem, decision: Decision, method: str) -> list[Any]:
        explanation = _explain(decision)
        if decision.case is not None:
            case = self._existing_case(decision.case)
            if case is not None and not case.closed:
                return self._attach(item, case, "follow-up", decision.confidence, explanation)
        if decision.triage or decision.department is None:
            item.send_to_triage(
                _triage_code(decision),
                detail=decision.reason,
                candidates=[
                    RoutingCandidate(c.department, round(c.confidence, 4))
                    for c in decision.candidates
                ],
                warnings=list(decision.warnings),
                misdirected=decision.misdirected,
            )
            self._decision = DecisionNote(
                TRIAGED,
                method,
                reason=_triage_code(decision),
                detail=decision.reason,
                candidates=[f"{c.department}:{c.confidence:.2f}" for c in decision.candidates],
            )
            return [item]
        item.route(decision.department, method, decision.confidence, explanation)
        case = self._open_case(item, decision.department, decision.service)
        item.attach_to_case(case.id, case.reference)
        self._decision = DecisionNote(
            ROUTED, method, decision.department, decision.confidence, case_reference=case.reference
        )
        return [item, case]

    def _open_case(self, item: MailItem, department_id: str, service: str | None = None) -> Case:
        """A new case; a scanned letter gets the service the router read from its text (and so
        that service's deadline), a portal submission the service it names."""
        submission = item.submission
        service_key = submission.service_key if submission else service
        sender = ("", "") if submission else letter_sender(item.text)
        return Case.open(
            reference=item.reference,
            department_id=department_id,
            subject=submission.subject if submission else letter_subject(item.text),
            party=submission.applicant.name if submission else sender[0],
            address=(submission.applicant.address or "") if submission else sender[1],
            opened_at=self.clock(),
            opened_by=f"system:{self.name}",
            first_item_id=item.id,
            service_key=service_key,
            processing_days=self.catalog.processing_days(department_id, service_key),
        )

    def _existing_case(self, reference: str) -> Case | None:
        case_id = self.cases.case_uuid(reference)
        return None if case_id is None else self.app.find_case(UUID(case_id))


def _explain(decision: Decision) -> str:
    explanation = decision.explanation
    parts = [f"{explanation.method}: {explanation.detail}"]
    if explanation.terms:
        parts.append("terms: " + ", ".join(explanation.terms))
    if decision.model_version:
        parts.append(f"model {decision.model_version}")
    return "; ".join(parts)


def _triage_code(decision: Decision) -> TriageReason:
    if decision.misdirected:
        return TriageReason.MISDIRECTED
    if decision.reason.startswith("unknown service key"):
        return TriageReason.UNKNOWN_SERVICE
    return TriageReason.UNCERTAIN
