"""The Poststelle's Postausgang (/postausgang): the letters that go by post, print batches
and returned mail. Only the mailroom and administrators see it; for everybody else the
pages do not exist (404).

    GET  /postausgang                                   queue, open batches, Rücklauf form
    POST /postausgang/druckstapel                       build a batch of every queued letter
    GET  /postausgang/druckstapel/{batch_id}.pdf        the batch, print-ready (duplex)
    GET  /postausgang/druckstapel/{batch_id}/begleitliste.json   its manifest
    POST /postausgang/druckstapel/{batch_id}/gedruckt   mark it printed (an event per letter)
    POST /postausgang/ruecklauf                         the post brought a letter back

A built batch is stored (PDF and manifest); the page links to both until it is marked
printed. A returned letter is found by its number (the first 8 characters of its id, as
the page and the manifest show it) or by the case reference on it; several printed letters
of one case are offered to choose from.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from aggregates.outgoing_document import DocumentState, ReturnReason
from mailroom import texts_de
from mailroom.auth.permissions import may_handle_print
from mailroom.auth.principal import Principal
from mailroom.services import Changed, NotFoundError, ServiceError, StaleError
from mailroom.web import letters_page
from mailroom.web.exceptions import WebError
from mailroom.web.formatting import datum, datum_zeit
from mailroom.web.session import flash, require_principal
from mailroom.web.templating import render
from projections.outgoing import OutgoingProjection, OutgoingRow

router = APIRouter(include_in_schema=False)

Form = dict[str, str]
MIN_NUMBER = 8  # hex characters of a letter id that identify it


class FormError(Exception):
    """A form refused before the service is called (German message)."""


def require_print(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    """The mailroom and administrators; for everybody else the pages are unknown (404)."""
    if not may_handle_print(principal):
        raise WebError(404)
    return principal


def _mailroom(request: Request) -> Any:
    return request.app.state.mailroom


def _batch_uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundError(f"no print batch {value}") from None


@dataclass(frozen=True)
class QueuedLetter:
    id: str
    number: str
    title: str
    case_reference: str
    recipient: str
    address: list[str]
    pages: int
    reason: str
    pdf_url: str | None


@dataclass(frozen=True)
class OpenBatch:
    id: str
    built_at: datetime
    letters: int
    sheets: int
    pages: int
    manifest: list[dict[str, Any]]

    @property
    def pdf_url(self) -> str:
        return f"/postausgang/druckstapel/{self.id}.pdf"

    @property
    def manifest_url(self) -> str:
        return f"/postausgang/druckstapel/{self.id}/begleitliste.json"

    @property
    def label(self) -> str:
        return f"Druckstapel vom {datum_zeit(self.built_at)}"


@dataclass(frozen=True)
class ReturnForm:
    values: dict[str, str]
    error: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (document id, label) when several fit


def _queued(row: OutgoingRow) -> QueuedLetter:
    return QueuedLetter(
        id=row.id,
        number=letters_page.short_id(row.id),
        title=row.title,
        case_reference=row.case_reference,
        recipient=row.recipient_name,
        address=row.recipient_address.splitlines(),
        pages=row.pages,
        reason=texts_de.label(texts_de.PRINT_REASONS, row.print_reason),
        pdf_url=letters_page.pdf_url(row.id) if row.blob_key else None,
    )


def _manifest(mailroom: Any, principal: Principal, batch_id: UUID) -> list[dict[str, Any]]:
    try:
        data = json.loads(mailroom.services.letters.batch_manifest(principal, batch_id))
    except (OSError, ValueError, KeyError):
        return []
    entries = data.get("letters", []) if isinstance(data, dict) else []
    for entry in entries:
        entry["number"] = letters_page.short_id(str(entry.get("letter_id", "")))
    return list(entries)


def open_batches(mailroom: Any, principal: Principal) -> list[OpenBatch]:
    """The batches built and not yet marked printed, oldest first."""
    return [
        OpenBatch(
            id=str(batch.id),
            built_at=batch.built_at,
            letters=batch.letters,
            sheets=batch.sheets,
            pages=batch.pages,
            manifest=_manifest(mailroom, principal, batch.id),
        )
        for batch in mailroom.services.letters.open_batches(principal)
    ]


def _page(
    request: Request,
    principal: Principal,
    returned: ReturnForm | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    mailroom = _mailroom(request)
    queue = [_queued(r) for r in mailroom.services.letters.print_queue(principal)]
    context = {
        "queue": queue,
        "queue_pages": sum(q.pages for q in queue),
        "batches": open_batches(mailroom, principal),
        "chosen_batch": request.query_params.get("stapel", "") if request.method == "GET" else "",
        "return_reasons": list(texts_de.RETURN_REASONS.items()),
        "returned": returned or ReturnForm({}),
        "error": error,
        "anzahl": texts_de.anzahl,
    }
    return render(request, "post/postausgang.html", context, status_code=status)


@router.get("/postausgang")
def outbox(request: Request, principal: Annotated[Principal, Depends(require_print)]) -> Response:
    return _page(request, principal)


# -- print batches ---------------------------------------------------------------------------


def _wait_for_letters(mailroom: Any, ids: Iterable[UUID]) -> None:
    """Until the letters view shows what the command did to each letter (read your writes)."""
    workspace = mailroom.services.workspace
    for document_id in ids:
        document = mailroom.app.find_document(document_id)
        if document is not None:
            workspace.wait_for(Changed(document.id, document.version), "outgoing")


def _build(request: Request, principal: Principal) -> Response:
    mailroom = _mailroom(request)
    letters = mailroom.services.letters
    try:
        with tempfile.TemporaryDirectory() as folder:
            result = letters.build_print_batch(principal, Path(folder) / "druckstapel.pdf")
    except ServiceError as exc:
        if isinstance(exc, NotFoundError):
            raise
        return _page(request, principal, error=letters_page.letter_error(exc.code), status=422)
    _wait_for_letters(mailroom, (UUID(str(m.letter_id)) for m in result.manifest))
    message = texts_de.PRINT_BATCH_BUILT.format(
        letters=texts_de.anzahl(result.letters, "Brief", "Briefe"),
        sheets=texts_de.anzahl(result.sheets, "Blatt", "Blatt"),
        pages=texts_de.anzahl(result.pages, "Seite", "Seiten"),
    )
    flash(request, "success", message)
    return RedirectResponse(
        f"/postausgang?stapel={result.batch_id}#stapel-{result.batch_id}", status_code=303
    )


@router.post("/postausgang/druckstapel")
async def build_batch(
    request: Request, principal: Annotated[Principal, Depends(require_print)]
) -> Response:
    return await run_in_threadpool(_build, request, principal)


@router.get("/postausgang/druckstapel/{batch_id}.pdf")
def batch_pdf(
    request: Request, batch_id: str, principal: Annotated[Principal, Depends(require_print)]
) -> Response:
    mailroom = _mailroom(request)
    uuid = _batch_uuid(batch_id)
    pdf = mailroom.services.letters.batch_pdf(principal, uuid)
    stamp = mailroom.services.letters.print_batch(principal, uuid).built_at.strftime("%Y%m%d-%H%M")
    headers = {
        "Content-Disposition": f'attachment; filename="druckstapel-{stamp}.pdf"',
        "Cache-Control": "private, no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/postausgang/druckstapel/{batch_id}/begleitliste.json")
def batch_manifest(
    request: Request, batch_id: str, principal: Annotated[Principal, Depends(require_print)]
) -> Response:
    """Where each letter lies in the batch (first page, sheets): for cutting and enveloping."""
    mailroom = _mailroom(request)
    uuid = _batch_uuid(batch_id)
    batch = mailroom.services.letters.print_batch(principal, uuid)
    stamp = batch.built_at.strftime("%Y%m%d-%H%M")
    headers = {
        "Content-Disposition": f'attachment; filename="druckstapel-{stamp}.json"',
        "Cache-Control": "private, no-store",
    }
    body = mailroom.services.letters.batch_manifest(principal, uuid)
    return Response(body, media_type="application/json", headers=headers)


def _mark_printed(request: Request, principal: Principal, batch_id: str) -> Response:
    mailroom = _mailroom(request)
    uuid = _batch_uuid(batch_id)
    try:
        mailroom.services.letters.mark_batch_printed(principal, uuid)
    except NotFoundError:
        raise
    except ServiceError as exc:
        status = 409 if isinstance(exc, StaleError) else 422
        text = (
            "Dieser Druckstapel ist bereits als gedruckt vermerkt."
            if exc.code == "invalid_state"
            else letters_page.letter_error(exc.code)
        )
        return _page(request, principal, error=text, status=status)
    batch = mailroom.services.letters.print_batch(principal, uuid)
    _wait_for_letters(mailroom, batch.document_ids)
    count = texts_de.anzahl(batch.letters, "Brief", "Briefe")
    flash(request, "success", texts_de.PRINT_BATCH_PRINTED.format(letters=count))
    return RedirectResponse("/postausgang", status_code=303)


@router.post("/postausgang/druckstapel/{batch_id}/gedruckt")
async def mark_printed(
    request: Request, batch_id: str, principal: Annotated[Principal, Depends(require_print)]
) -> Response:
    return await run_in_threadpool(_mark_printed, request, principal, batch_id)


# -- returned mail ---------------------------------------------------------------------------


def _choice_label(row: OutgoingRow) -> str:
    printed = f", gedruckt am {datum(row.printed_at)}" if row.printed_at else ""
    return f"{row.title} an {row.recipient_name}{printed} (Nr. {letters_page.short_id(row.id)})"


def _returned_letter(mailroom: Any, form: Form) -> OutgoingRow:
    """The printed letter the form names: a chosen one, a letter number or a case reference."""
    outgoing: OutgoingProjection = mailroom.read_models.outgoing
    chosen = form.get("auswahl", "").strip()
    if chosen:
        row = outgoing.get(chosen)
        if row is None:
            raise FormError(texts_de.RETURN_ERRORS["unknown"])
        return row
    text = form.get("brief", "").strip()
    if not text:
        raise FormError(texts_de.RETURN_ERRORS["missing"])
    number = text.lower().replace(" ", "")
    if len(number) >= MIN_NUMBER and all(c in "0123456789abcdef-" for c in number):
        # returned ones too: recorded twice, the service says why not
        rows = [
            *outgoing.in_state(DocumentState.PRINTED),
            *outgoing.in_state(DocumentState.RETURNED),
        ]
        found = [r for r in rows if r.id.startswith(number)]
        if len(found) == 1:
            return found[0]
    reference = text.upper()
    found = [r for r in outgoing.of_case(reference) if r.state == DocumentState.PRINTED.value]
    if not found:
        raise FormError(texts_de.RETURN_ERRORS["unknown"])
    if len(found) > 1:
        raise _SeveralLettersError(reference, found)
    return found[0]


class _SeveralLettersError(Exception):
    def __init__(self, reference: str, rows: list[OutgoingRow]) -> None:
        super().__init__(reference)
        self.reference = reference
        self.rows = rows


def _record_returned(request: Request, principal: Principal, form: Form) -> Response:
    mailroom = _mailroom(request)
    reason = form.get("grund", "")
    try:
        if reason not in {r.value for r in ReturnReason}:
            raise FormError(texts_de.RETURN_ERRORS["reason"])
        row = _returned_letter(mailroom, form)
        changed = mailroom.services.letters.record_returned(
            principal, UUID(row.id), reason, form.get("notiz", "")
        )
    except _SeveralLettersError as several:
        labels = ", ".join(f"Nr. {letters_page.short_id(r.id)}" for r in several.rows)
        message = texts_de.RETURN_ERRORS["several"].format(
            reference=several.reference, choices=labels
        )
        choices = tuple((r.id, _choice_label(r)) for r in several.rows)
        return _page(request, principal, ReturnForm(form, message, choices), status=422)
    except FormError as exc:
        return _page(request, principal, ReturnForm(form, str(exc)), status=422)
    except NotFoundError:
        return _page(
            request, principal, ReturnForm(form, texts_de.RETURN_ERRORS["unknown"]), status=422
        )
    except ServiceError as exc:
        code = "invalid_state" if exc.code == "invalid_state" else ""
        text = texts_de.RETURN_ERRORS[code] if code else letters_page.letter_error(exc.code)
        status = 409 if isinstance(exc, StaleError) else 422
        return _page(request, principal, ReturnForm(form, text), status=status)
    mailroom.services.workspace.wait_for(changed, "outgoing")
    message = texts_de.RETURN_RECORDED.format(
        title=row.title,
        reference=row.case_reference,
        reason=texts_de.RETURN_REASONS[reason],
    )
    flash(request, "success", message)
    return RedirectResponse("/postausgang#ruecklauf-titel", status_code=303)


@router.post("/postausgang/ruecklauf")
async def record_returned(
    request: Request, principal: Annotated[Principal, Depends(require_print)]
) -> Response:
    submitted = await request.form()
    form = {k: v for k, v in submitted.items() if isinstance(v, str) and k != "csrf_token"}
    return await run_in_threadpool(_record_returned, request, principal, form)
