"""Clean text at the edge: every string of a submission is normalised and checked before
it can reach an event (see ``aggregates.safe_text`` for the rules)."""

from __future__ import annotations

from dataclasses import replace

from aggregates.safe_text import first_forbidden, normalise
from aggregates.values import Applicant, Submission

MAX_FORM_FIELDS = 100
MAX_FORM_KEY = 100
MAX_FORM_VALUE = 5000


class InvalidTextError(ValueError):
    """A text field holds something that must not be stored; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def clean_field(value: str, field: str, *, max_length: int, multiline: bool = False) -> str:
    text = normalise(value, multiline=multiline)
    forbidden = first_forbidden(text)
    if forbidden is not None:
        raise InvalidTextError(field, f"contains a control or invalid character ({forbidden})")
    if len(text) > max_length:
        raise InvalidTextError(field, f"is longer than {max_length} characters")
    return text


def _optional(
    value: str | None, field: str, *, max_length: int, multiline: bool = False
) -> str | None:
    if value is None:
        return None
    return clean_field(value, field, max_length=max_length, multiline=multiline) or None


def clean_submission(submission: Submission) -> Submission:
    """The submission with every string normalised; raises InvalidTextError naming the field."""
    applicant = submission.applicant
    name = clean_field(applicant.name, "applicant.name", max_length=200)
    subject = clean_field(submission.subject, "subject", max_length=500)
    for field, value in (("applicant.name", name), ("subject", subject)):
        if not value:
            raise InvalidTextError(field, "is empty")
    if len(submission.form_fields) > MAX_FORM_FIELDS:
        raise InvalidTextError("form_fields", f"has more than {MAX_FORM_FIELDS} fields")
    form_fields: dict[str, str] = {}
    for key, value in submission.form_fields.items():
        clean_key = clean_field(key, "form_fields (a name)", max_length=MAX_FORM_KEY)
        form_fields[clean_key] = clean_field(
            value, f"form_fields.{clean_key}", max_length=MAX_FORM_VALUE, multiline=True
        )
    return replace(
        submission,
        service_key=clean_field(submission.service_key, "service_key", max_length=100),
        applicant=Applicant(
            name=name,
            email=_optional(applicant.email, "applicant.email", max_length=320),
            phone=_optional(applicant.phone, "applicant.phone", max_length=50),
            address=_optional(
                applicant.address, "applicant.address", max_length=500, multiline=True
            ),
        ),
        subject=subject,
        form_fields=form_fields,
        citizen_account_id=_optional(
            submission.citizen_account_id, "citizen_account_id", max_length=200
        ),
    )
