"""MailItem: one incoming item — a portal submission or a scanned letter."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids
from aggregates.values import (
    Document,
    ExtractionFailure,
    PageText,
    QualityIssue,
    RoutingCandidate,
    Submission,
)


class MailItemError(ValueError):
    """A command does not fit the item's current state."""


class AlreadyRoutedError(MailItemError):
    pass


class AlreadyAttachedError(MailItemError):
    pass


class ItemStatus(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    TRIAGE = "triage"
    MISDIRECTED = "misdirected"  # set aside by triage: not for this authority
    RESCAN = "rescan"  # set aside by triage: to be scanned again


class TriageReason(StrEnum):
    RESCAN = "rescan"  # a document could not be read well enough
    ROUTING_FAILED = "routing_failed"  # the router kept failing on the item
    UNCERTAIN = "uncertain"  # no department was confident enough
    MISDIRECTED = "misdirected"  # not for the city, or not for this authority
    UNKNOWN_SERVICE = "unknown_service"  # a portal submission named no known service


def legacy_triage_code(reason: str, misdirected: bool) -> str:
    """The code for a v1 SentToTriage reason sentence (German or the router's English)."""
    if misdirected or reason.startswith("misdirected"):
        return TriageReason.MISDIRECTED
    if reason.startswith("Bitte neu scannen"):
        return TriageReason.RESCAN
    if reason.startswith("Automatische Zuordnung fehlgeschlagen"):
        return TriageReason.ROUTING_FAILED
    if reason.startswith("unknown service key"):
        return TriageReason.UNKNOWN_SERVICE
    return TriageReason.UNCERTAIN


class MailItem(Aggregate):
    """Stored event classes: never rename them; evolve with class_version and upcasters."""

    class Received(Aggregate.Created):
        channel: str
        intake_key: str
        reference: str
        received_at: datetime
        documents: list[Document]
        access_code_hash: str
        request_fingerprint: str
        submission: Submission | None
        station_id: UUID | None

    class TextExtracted(Aggregate.Event):
        """v2 adds ``codes``: the QR codes read on the document (our letters carry the case
        reference in one)."""

        class_version = 2
        blob_key: str
        method: str
        pages: list[PageText]
        searchable_pdf_key: str | None
        quality_issues: list[QualityIssue]
        codes: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["codes"] = []

    class ExtractionFailed(Aggregate.Event):
        """v2: a stable ``code`` (the words come from the UI's wording module) and an
        operator's ``detail``; v1 stored a German sentence as ``reason``."""

        class_version = 2
        blob_key: str
        code: str
        detail: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["code"] = "unreadable"
            state["detail"] = state.pop("reason")

    class Routed(Aggregate.Event):
        department_id: str
        method: str
        confidence: float
        explanation: str

    class SentToTriage(Aggregate.Event):
        """v2: a ``code`` (TriageReason; the words come from the UI's wording module) and the
        router's ``detail`` for operators; v1 stored a sentence as ``reason``."""

        class_version = 2
        code: str
        detail: str
        candidates: list[RoutingCandidate]
        warnings: list[str]
        misdirected: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            reason = str(state.pop("reason"))
            state["code"] = legacy_triage_code(reason, bool(state.get("misdirected")))
            state["detail"] = reason

    class Rerouted(Aggregate.Event):
        from_department_id: str | None
        department_id: str
        rerouted_by: str
        note: str

    class AttachedToCase(Aggregate.Event):
        case_id: UUID
        case_reference: str

    class MarkedMisdirected(Aggregate.Event):
        """Triage: not for this authority; ``addressee`` is where it belongs (may be "")."""

        addressee: str
        note: str
        by: str
        at: datetime

    class RescanRequested(Aggregate.Event):
        """Triage: the paper is to be scanned again; this item is set aside."""

        note: str
        by: str
        at: datetime

    class LinkedToAccount(Aggregate.Event):
        """A clerk linked the item (a letter) to the citizen's Bürgerkonto: it shows among
        their requests and documents for its case may go to their Postfach."""

        citizen_account_id: str
        by: str
        at: datetime

    @staticmethod
    def create_id(channel: str, intake_key: str) -> UUID:
        return ids.mail_item_id(channel, intake_key)

    @event(Received)
    def __init__(
        self,
        channel: str,
        intake_key: str,
        reference: str,
        received_at: datetime,
        documents: list[Document],
        access_code_hash: str,
        request_fingerprint: str,
        submission: Submission | None = None,
        station_id: UUID | None = None,
    ) -> None:
        self.reference = reference
        self.channel = channel
        self.received_at = received_at
        self.documents = documents
        self.access_code_hash = access_code_hash
        self.request_fingerprint = request_fingerprint
        self.submission = submission
        self.station_id = station_id
        self.status = ItemStatus.RECEIVED
        self.department_id: str | None = None
        self.case_id: UUID | None = None
        self.texts: dict[str, list[PageText]] = {}
        self.extraction_failures: dict[str, ExtractionFailure] = {}
        self.quality_issues: list[QualityIssue] = []
        self.document_issues: dict[str, list[QualityIssue]] = {}
        self.searchable_pdfs: dict[str, str] = {}
        self.routing_method: str | None = None
        self.triage_reason: str | None = None  # a TriageReason code
        self.triage_detail = ""
        self.triage_warnings: list[str] = []
        self.triage_candidates: list[RoutingCandidate] = []
        self.misdirected = False
        self.codes: list[str] = []  # QR codes read on the documents

    # -- text ---------------------------------------------------------------------------

    def record_text(
        self,
        blob_key: str,
        method: str,
        pages: list[PageText],
        searchable_pdf_key: str | None = None,
        quality_issues: list[QualityIssue] | None = None,
        codes: list[str] | None = None,
    ) -> None:
        if blob_key not in {d.blob_key for d in self.documents}:
            raise MailItemError(f"item has no document {blob_key}")
        self._text_extracted(
            blob_key=blob_key,
            method=method,
            pages=pages,
            searchable_pdf_key=searchable_pdf_key,
            quality_issues=quality_issues or [],
            codes=codes or [],
        )

    @event(TextExtracted)
    def _text_extracted(
        self,
        blob_key: str,
        method: str,
        pages: list[PageText],
        searchable_pdf_key: str | None,
        quality_issues: list[QualityIssue],
        codes: list[str],
    ) -> None:
        self.codes.extend(c for c in codes if c not in self.codes)
        self.texts[blob_key] = pages
        self.quality_issues.extend(quality_issues)
        self.document_issues[blob_key] = list(quality_issues)
        if searchable_pdf_key:
            self.searchable_pdfs[blob_key] = searchable_pdf_key

    def record_extraction_failure(self, blob_key: str, code: str, detail: str = "") -> None:
        if blob_key not in {d.blob_key for d in self.documents}:
            raise MailItemError(f"item has no document {blob_key}")
        self._extraction_failed(blob_key=blob_key, code=code, detail=detail)

    @event(ExtractionFailed)
    def _extraction_failed(self, blob_key: str, code: str, detail: str) -> None:
        self.extraction_failures[blob_key] = ExtractionFailure(code, detail)

    @property
    def text_complete(self) -> bool:
        """Every document has been read, or found unreadable."""
        done = self.texts.keys() | self.extraction_failures.keys()
        return all(d.blob_key in done for d in self.documents)

    @property
    def text(self) -> str:
        """The text of all documents, pages separated by form feeds."""
        return "\f".join(
            page.text for d in self.documents for page in self.texts.get(d.blob_key, [])
        )

    # -- routing ------------------------------------------------------------------------

    def route(self, department_id: str, method: str, confidence: float, explanation: str) -> None:
        if self.status is ItemStatus.ROUTED:
            raise AlreadyRoutedError(f"{self.reference} is already routed")
        self._routed(
            department_id=department_id,
            method=method,
            confidence=confidence,
            explanation=explanation,
        )

    @event(Routed)
    def _routed(self, department_id: str, method: str, confidence: float, explanation: str) -> None:
        self.status = ItemStatus.ROUTED
        self.department_id = department_id
        self.routing_method = method

    def send_to_triage(
        self,
        code: str,
        candidates: list[RoutingCandidate],
        warnings: list[str],
        misdirected: bool = False,
        detail: str = "",
    ) -> None:
        if self.status is not ItemStatus.RECEIVED:
            raise AlreadyRoutedError(f"{self.reference} was already routed or triaged")
        if code not in {r.value for r in TriageReason}:
            raise MailItemError(f"unknown triage reason {code!r}")
        self._sent_to_triage(
            code=code,
            detail=detail,
            candidates=candidates,
            warnings=warnings,
            misdirected=misdirected,
        )

    @event(SentToTriage)
    def _sent_to_triage(
        self,
        code: str,
        detail: str,
        candidates: list[RoutingCandidate],
        warnings: list[str],
        misdirected: bool,
    ) -> None:
        self.status = ItemStatus.TRIAGE
        self.triage_reason = code
        self.triage_detail = detail
        self.triage_warnings = list(warnings)
        self.triage_candidates = list(candidates)
        self.misdirected = misdirected

    def reroute(self, department_id: str, rerouted_by: str, note: str) -> None:
        if department_id == self.department_id:
            raise MailItemError(f"{self.reference} is already with {department_id}")
        self._rerouted(
            from_department_id=self.department_id,
            department_id=department_id,
            rerouted_by=rerouted_by,
            note=note,
        )

    @event(Rerouted)
    def _rerouted(
        self, from_department_id: str | None, department_id: str, rerouted_by: str, note: str
    ) -> None:
        self.status = ItemStatus.ROUTED
        self.department_id = department_id

    # -- cases --------------------------------------------------------------------------

    def attach_to_case(self, case_id: UUID, case_reference: str) -> None:
        if self.case_id is not None:
            raise AlreadyAttachedError(f"{self.reference} already belongs to a case")
        self._attached_to_case(case_id=case_id, case_reference=case_reference)

    @event(AttachedToCase)
    def _attached_to_case(self, case_id: UUID, case_reference: str) -> None:
        self.case_id = case_id

    # -- triage decisions ------------------------------------------------------------------

    def mark_misdirected(self, addressee: str, note: str, by: str, at: datetime) -> None:
        self._require_in_triage()
        self._marked_misdirected(addressee=addressee, note=note, by=by, at=at)

    @event(MarkedMisdirected)
    def _marked_misdirected(self, addressee: str, note: str, by: str, at: datetime) -> None:
        self.status = ItemStatus.MISDIRECTED

    def request_rescan(self, note: str, by: str, at: datetime) -> None:
        self._require_in_triage()
        self._rescan_requested(note=note, by=by, at=at)

    @event(RescanRequested)
    def _rescan_requested(self, note: str, by: str, at: datetime) -> None:
        self.status = ItemStatus.RESCAN

    # -- the citizen's account ---------------------------------------------------------------

    @property
    def citizen_account_id(self) -> str | None:
        linked: str | None = getattr(self, "_linked_account", None)
        if linked is not None:
            return linked
        return self.submission.citizen_account_id if self.submission else None

    def link_to_account(self, citizen_account_id: str, by: str, at: datetime) -> None:
        if self.citizen_account_id == citizen_account_id:
            return
        self._linked_to_account(citizen_account_id=citizen_account_id, by=by, at=at)

    @event(LinkedToAccount)
    def _linked_to_account(self, citizen_account_id: str, by: str, at: datetime) -> None:
        self._linked_account = citizen_account_id

    def _require_in_triage(self) -> None:
        if self.status is not ItemStatus.TRIAGE:
            raise MailItemError(f"{self.reference} is not in triage")
