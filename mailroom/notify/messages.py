"""What a citizen is told by e-mail, and the German words for it (Jinja2 text templates).

Five kinds: the request was received (the e-mail Eingangsbestätigung of a portal submission),
a department took it on, information is needed, it was decided, a closed case was reopened
(never why). An e-mail carries no personal details: only the reference, a link to the status
page, the department's name (not personal) and, for a request for information, the date the
answer is due. Never the name, the subject of the request, what was asked for, the outcome
(granted or not) or anything a clerk wrote: e-mail is not a confidential channel, and the
status page behind the access code is.

Each template (``templates/KIND.txt``) renders to ``Betreff: ...``, an empty line, and the
body; ``_signature.txt`` is the common close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"
STATUS_PATH = "/status"  # the citizen status page (mailroom.web.routes_citizen)
REFERENCE_PARAMETER = "aktenzeichen"  # fills in the form's reference (never the access code)
SUBJECT_PREFIX = "Betreff:"


class Kind(StrEnum):
    RECEIVED = "received"
    DEPARTMENT_ASSIGNED = "department_assigned"
    INFORMATION_REQUESTED = "information_requested"
    DECIDED = "decided"
    REOPENED = "reopened"


@dataclass(frozen=True)
class Sender:
    """Who writes: the authority and how citizens reach it (nothing about the citizen)."""

    authority: str  # "Stadt Lindenau"
    phone: str = ""
    email: str = ""
    web: str = ""
    opening_hours: str = ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class TemplateError(ValueError):
    """A notification template does not render to a subject line and a body."""


def status_url(base_url: str, reference: str) -> str:
    return f"{base_url.rstrip('/')}{STATUS_PATH}?{REFERENCE_PARAMETER}={quote(reference)}"


def german_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


class Composer:
    """Renders the e-mail of one kind from its template."""

    def __init__(self, base_url: str, directory: Path = TEMPLATES) -> None:
        self.base_url = base_url
        self.environment = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=False,  # plain text: nothing is interpreted by a mail client  # noqa: S701
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, kind: Kind, reference: str, sender: Sender, **values: Any) -> Rendered:
        context: Mapping[str, Any] = {
            "reference": reference,
            "status_url": status_url(self.base_url, reference),
            "sender": sender,
            **values,
        }
        text = self.environment.get_template(f"{kind.value}.txt").render(context)
        first, _, rest = text.lstrip("\n").partition("\n")
        if not first.startswith(SUBJECT_PREFIX):
            raise TemplateError(f"{kind.value}.txt must start with {SUBJECT_PREFIX!r}")
        subject = " ".join(first.removeprefix(SUBJECT_PREFIX).split())
        body = rest.lstrip("\n").rstrip() + "\n"
        if not subject or not body.strip():
            raise TemplateError(f"{kind.value}.txt renders an empty subject or body")
        return Rendered(subject=subject, body=body)
