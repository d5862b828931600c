"""The citizen's status check: reference + access code, with guessing rate-limited
(per client address and per reference, in the database: ``status_limit``)."""

from __future__ import annotations

from aggregates.access_code import access_code_matches
from aggregates.reference import InvalidReferenceError, Reference
from mailroom.application import MailroomApp
from mailroom.services.status_limit import StatusFailureLimit
from projections.status import StatusProjection, StatusRecord, TimelineEntry, received_text


class StatusNotFoundError(LookupError):
    """Unknown reference or wrong access code — deliberately indistinguishable."""


class TooManyAttemptsError(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed status checks; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class StatusService:
    def __init__(
        self,
        projection: StatusProjection,
        app: MailroomApp,
        reference_prefix: str,
        limiter: StatusFailureLimit,
    ) -> None:
        self.projection = projection
        self.app = app
        self.reference_prefix = reference_prefix
        self.limiter = limiter

    def lookup(self, reference: str, access_code: str, client: str) -> StatusRecord:
        """The request's status; StatusNotFoundError for an unknown reference or a wrong
        code (indistinguishable), TooManyAttemptsError when ``client`` (its address) or the
        reference is over the failure limit (the rule: ``status_limit``)."""
        canonical = self._canonical(reference)
        standing = self.limiter.standing(client, canonical)
        if standing.refused_for_s is not None:
            raise TooManyAttemptsError(standing.refused_for_s)
        record = self._find(canonical, access_code) if canonical else None
        if record is None:
            self.limiter.record_failure(client, canonical)
            if standing.guarded:
                raise TooManyAttemptsError(self.limiter.standing(client, canonical).wait_s)
            raise StatusNotFoundError(reference)
        return record

    def _canonical(self, reference: str) -> str | None:
        try:
            return str(Reference.parse(reference, self.reference_prefix))
        except InvalidReferenceError:
            return None

    def _find(self, canonical: str, access_code: str) -> StatusRecord | None:
        record = self.projection.find(canonical) or self._from_event_store(canonical)
        if record is None or not access_code_matches(
            canonical, access_code, record.access_code_hash
        ):
            return None
        return record

    def _from_event_store(self, reference: str) -> StatusRecord | None:
        """Read-your-writes: the view may lag a just-accepted item by a moment."""
        item = self.app.find_item_by_reference(reference)
        if item is None:
            return None
        return StatusRecord(
            item_id=str(item.id),
            reference=item.reference,
            access_code_hash=item.access_code_hash,
            channel=item.channel,
            subject=item.submission.subject if item.submission else None,
            status="received",
            department_id=None,
            case_reference=None,
            received_at=item.received_at,
            timeline=(TimelineEntry(item.received_at, "received", received_text(item.channel)),),
        )
