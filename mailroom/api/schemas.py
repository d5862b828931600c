"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from aggregates.values import Applicant, Submission


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
    at: datetime
    status: str
    text: str


class StatusOut(BaseModel):
    reference: str
    status: str
    status_text: str
    department: DepartmentOut | None
    case_reference: str | None
    subject: str | None
    received_at: datetime
    timeline: list[TimelineEntryOut]


class ErrorOut(BaseModel):
    error: str
    message: str
