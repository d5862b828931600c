"""Value objects carried by MailItem and Case events (small, serialisable, no bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    PORTAL = "portal"
    SCAN = "scan"


@dataclass(frozen=True)
class Document:
    """One stored file of an item: a blob key and what the intake learnt about the file."""

    blob_key: str
    sha256: str
    media_type: str
    size: int
    pages: int
    filename: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Submission:
    """What the citizen portal sent besides the files."""

    service_key: str
    applicant: Applicant
    subject: str
    form_fields: dict[str, str] = field(default_factory=dict)
    citizen_account_id: str | None = None


@dataclass(frozen=True)
class PageText:
    number: int
    text: str
    confidence: float
    method: str  # "text-layer" | "ocr"
    rotation: int = 0


@dataclass(frozen=True)
class QualityIssue:
    """Why a document cannot be trusted as read: a stable ``code`` and the page. ``message``
    is empty in new events (the UI's wording module says the words); events stored before
    that hold a German sentence there."""

    code: str
    message: str
    page: int | None = None


@dataclass(frozen=True)
class ExtractionFailure:
    """Why a document could not be read: a stable code and a line for operators."""

    code: str
    detail: str = ""


@dataclass(frozen=True)
class RoutingCandidate:
    department_id: str
    confidence: float
