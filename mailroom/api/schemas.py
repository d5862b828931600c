"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from aggregates.values import Applicant, Submission


def _in_utc(value: datetime) -> datetime:
    """Answers carry the offset: a naive datetime (what events store) is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[
    datetime,
    AfterValidator(_in_utc),
    Field(description="RFC 3339 timestamp in UTC, e.g. 2026-12-01T09:30:00Z"),
]


class ApplicantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _needs_contact(self) -> ApplicantIn:
        if not (self.email or self.phone or self.address):
            raise ValueError("applicant needs a contact: email, phone or address")
        return self


class SubmissionMetadata(BaseModel):
    """The `metadata` part of a portal submission (JSON)."""

    service_key: str = Field(min_length=1, max_length=100)
    applicant: ApplicantIn
    subject: str = Field(min_length=1, max_length=500)
    form_fields: dict[str, str] = Field(default_factory=dict)
    citizen_account_id: str | None = Field(default=None, max_length=200)

    def to_submission(self) -> Submission:
        return Submission(
            service_key=self.service_key,
            applicant=Applicant(**self.applicant.model_dump()),
            subject=self.subject,
            form_fields=dict(self.form_fields),
            citizen_account_id=self.citizen_account_id,
        )


class SubmissionReceipt(BaseModel):
    reference: str
    access_code: str
    status_url: str


class ScanReceipt(BaseModel):
    reference: str


class DepartmentOut(BaseModel):
    id: str
    name: str


class ServiceOut(BaseModel):
    key: str
    name: str
    department: DepartmentOut


class TimelineEntryOut(BaseModel):
    at: UtcDateTime
    status: str
    text: str


class StatusOut(BaseModel):
    reference: str
    status: str
    status_text: str
    department: DepartmentOut | None
    case_reference: str | None
    subject: str | None
    received_at: UtcDateTime
    timeline: list[TimelineEntryOut]


class ProblemOut(BaseModel):
    """An RFC 9457 problem (``application/problem+json``), see docs/http-edges.md."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI of the problem type: /problems/<error>")
    title: str = Field(description="Short summary, the same for every problem of this type")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="This occurrence, in words")
    instance: str = Field(description="The request path")
    error: str = Field(description="The problem code (the last segment of type)")
    message: str = Field(description="The same as detail (kept for older clients)")
    dependency: str | None = Field(
        default=None, description="503/507: the store that is unavailable or full"
    )
    field: str | None = Field(default=None, description="The field at fault, if one")


class ProblemDetailOut(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. metadata.applicant.email")
    problem: str


class ValidationProblemOut(ProblemOut):
    model_config = ConfigDict(title="ValidationProblem")

    details: list[ProblemDetailOut] = Field(default_factory=list)


ErrorOut = ProblemOut  # the name the routes use


class ConsumerTroubleOut(BaseModel):
    consumer: str
    source: str
    state: Literal["retrying", "waiting", "stalled"]
    attempts: int
    since: datetime


class ReadinessOut(BaseModel):
    """``/readyz``: 200 ``ready`` or ``degraded`` (a consumer stalled: named, the intake
    goes on), 503 ``not_ready`` (a store or the bus does not answer)."""

    status: Literal["ready", "degraded", "not_ready"]
    checks: dict[str, Literal["ok", "unreachable", "full", "timeout", "failed"]] = Field(
        description="dependency -> its state"
    )
    consumers: list[ConsumerTroubleOut] = Field(
        description="consumers that are retrying, waiting for a dependency or stalled"
    )
