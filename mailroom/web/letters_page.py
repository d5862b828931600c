"""What the pages about outgoing letters show, prepared for their templates: the "Schreiben"
section of the case page, the draft form of a letter (/faelle/{reference}/schreiben/…) and
the lines of the Poststelle's Postausgang. The routes are in ``routes_letters`` and
``routes_print``; the wording is in ``texts_de``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from letters import FieldSpec, TemplateInfo
from mailroom import texts_de
from mailroom.auth.principal import Principal
from mailroom.intake.clean_text import InvalidTextError, clean_field
from mailroom.services import ServiceError
from mailroom.services.letter_data import get_path, is_common
from mailroom.web.formatting import datum
from projections.outgoing import OutgoingRow

# The common fields a clerk may change; the rest of the letterhead (sender, information
# block, date, salutation) comes from the catalog and the case.
EDITABLE_COMMON = ("subject", "recipient.name", "recipient.lines")
PENDING_STATES = frozenset({"approved", "rendered"})  # the delivery consumer is at work
MAX_FIELD = 5000
_FIELD_HINTS = {
    "recipient.lines": "Eine Zeile je Angabe: Straße und Hausnummer, dann Postleitzahl und Ort.",
}


def pdf_url(document_id: str) -> str:
    return f"/schreiben/{document_id}.pdf"


def letter_url(reference: str, document_id: str) -> str:
    return f"/faelle/{reference}/schreiben/{document_id}"


def short_id(document_id: str) -> str:
    """The letter number staff read and type: the first 8 characters of its id."""
    return document_id[:8]


@dataclass(frozen=True)
class LetterLine:
    """One outgoing document in the case page's list."""

    id: str
    number: str
    title: str
    recipient: str
    state: str
    state_label: str
    state_kind: str
    detail: str
    channel: str
    drafted_by_name: str
    drafted_at: datetime
    approved_by_name: str | None
    approved_at: datetime | None
    pages: int
    url: str  # the letter's page (the draft form, or what was sent)
    pdf_url: str | None  # the rendered PDF, or the preview of a draft
    is_draft: bool
    second_approval: str  # "" or why the viewer may not approve it themselves


def second_approval_block(row: OutgoingRow, principal: Principal) -> str:
    """Why ``principal`` may not approve the draft (Vier-Augen-Prinzip); "" if they may."""
    if row.state == "draft" and row.requires_second_approval and row.drafted_by == principal.id:
        return texts_de.LETTER_SECOND_APPROVAL
    return ""


def _detail(row: OutgoingRow) -> str:
    if row.state == "print_queued":
        return f"Per Post: {texts_de.label(texts_de.PRINT_REASONS, row.print_reason)}"
    if row.state == "batched":
        return "Liegt in der Poststelle zum Druck"
    if row.state == "in_inbox" and row.delivered_at:
        return f"Zugestellt am {datum(row.delivered_at)}"
    if row.state == "read" and row.read_at:
        return f"Geöffnet am {datum(row.read_at)}"
    if row.state == "printed" and row.printed_at:
        return f"Gedruckt am {datum(row.printed_at)}"
    if row.state == "returned":
        return f"Grund: {texts_de.label(texts_de.RETURN_REASONS, row.returned_reason)}"
    if row.state == "draft" and row.requires_second_approval:
        return "Wartet auf die Freigabe durch eine zweite Person"
    return ""


def letter_line(row: OutgoingRow, principal: Principal) -> LetterLine:
    is_draft = row.state == "draft"
    if row.blob_key:
        pdf: str | None = pdf_url(row.id)
    else:
        pdf = pdf_url(row.id) if is_draft else None
    return LetterLine(
        id=row.id,
        number=short_id(row.id),
        title=row.title,
        recipient=row.recipient_name,
        state=row.state,
        state_label=texts_de.label(texts_de.DOCUMENT_STATES, row.state),
        state_kind=texts_de.DOCUMENT_STATE_KINDS.get(row.state, "neutral"),
        detail=_detail(row),
        channel=texts_de.label(texts_de.DELIVERY_CHANNELS, row.channel),
        drafted_by_name=(
            "automatisch" if row.drafted_by.startswith("system:") else row.drafted_by_name
        ),
        drafted_at=row.drafted_at,
        approved_by_name=row.approved_by_name,
        approved_at=row.approved_at,
        pages=row.pages,
        url=letter_url(row.case_reference, row.id),
        pdf_url=pdf,
        is_draft=is_draft,
        second_approval=second_approval_block(row, principal),
    )


def case_letters(
    mailroom: Any, principal: Principal, reference: str, items: Iterable[Any]
) -> dict[str, Any]:
    """The context of the case page's "Schreiben" section (``briefe/abschnitt.html``)."""
    letters = mailroom.services.letters
    rows = [r for r in letters.of_case(principal, reference) if r.state != "discarded"]
    lines = [letter_line(r, principal) for r in rows]
    account = None
    for item in items:
        record = mailroom.read_models.status.find(item.reference)
        if record is not None and record.citizen_account_id:
            account = record.citizen_account_id
            break
    return {
        "letters": lines,
        "letters_pending": any(line.state in PENDING_STATES for line in lines),
        "letter_templates": [(t.name, t.title) for t in letters.templates()],
        "letter_descriptions": [(t.title, t.description) for t in letters.templates()],
        "linked_account": account,
    }


# -- the draft form ------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str
    required: bool
    widget: str  # input | textarea
    rows: int
    hint: str
    error: str

    @property
    def id(self) -> str:
        return "schreiben-" + self.name.replace(".", "-").replace("_", "-")


def editable(info: TemplateInfo) -> list[FieldSpec]:
    """The fields of ``info`` a clerk fills in, in the form's order."""
    specs = {spec.name: spec for spec in info.fields}
    common = [specs[name] for name in EDITABLE_COMMON if name in specs]
    own = [spec for spec in info.fields if not is_common(spec.name)]
    return common + own


def form_fields(
    info: TemplateInfo, values: Mapping[str, str], missing: Iterable[str] = ()
) -> list[FormField]:
    missing = set(missing)
    fields = []
    for spec in editable(info):
        several = spec.multiline or spec.kind == "list"
        rows = 3 if spec.kind == "list" else 7 if spec.multiline else 1
        fields.append(
            FormField(
                name=spec.name,
                label=spec.label,
                value=values.get(spec.name, ""),
                required=spec.required,
                widget="textarea" if several else "input",
                rows=rows,
                hint=_FIELD_HINTS.get(spec.name, ""),
                error=texts_de.LETTER_MISSING_FIELD if spec.name in missing else "",
            )
        )
    return fields


def submitted(info: TemplateInfo, form: Mapping[str, str]) -> dict[str, str]:
    """The template's fields as typed (line breaks as ``\\n``); other form keys ignored."""
    return {
        spec.name: form[spec.name].replace("\r\n", "\n").replace("\r", "\n")
        for spec in editable(info)
        if spec.name in form
    }


def stored_values(info: TemplateInfo, data: Mapping[str, Any]) -> dict[str, str]:
    """What the form shows for a saved draft: its data, lists one item per line."""
    values = {}
    for spec in editable(info):
        value = get_path(dict(data), spec.name)
        if isinstance(value, list):
            values[spec.name] = "\n".join(str(v) for v in value)
        else:
            values[spec.name] = "" if value is None else str(value)
    return values


def _normal(spec: FieldSpec, text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    if spec.kind == "list":
        lines = [line.strip() for line in lines if line.strip()]
    return "\n".join(lines)


def differs(info: TemplateInfo, data: Mapping[str, Any], typed: Mapping[str, str]) -> bool:
    """Whether what was typed is not what the draft holds (only fields that were sent)."""
    stored = stored_values(info, data)
    return any(
        _normal(spec, typed[spec.name]) != _normal(spec, stored.get(spec.name, ""))
        for spec in editable(info)
        if spec.name in typed
    )


def parsed(info: TemplateInfo, typed: Mapping[str, str]) -> dict[str, Any]:
    """The typed fields as the letter data takes them (lists as lists), for a preview of an
    unsaved draft; ServiceError("invalid_text") for text that must not be stored."""
    kinds = {spec.name: spec.kind for spec in info.fields}
    result: dict[str, Any] = {}
    for name, value in typed.items():
        try:
            text = clean_field(value, name, max_length=MAX_FIELD, multiline=True).strip()
        except InvalidTextError as exc:
            raise ServiceError(str(exc), "invalid_text") from None
        if kinds.get(name) == "list":
            result[name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif text:
            result[name] = text
    return result


def missing_message(labels: Iterable[str]) -> str:
    return texts_de.LETTER_MISSING_FIELDS.format(labels=", ".join(labels))


def letter_error(code: str) -> str:
    return texts_de.LETTER_ERRORS.get(code) or texts_de.service_error(code)
