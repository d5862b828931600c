"""Outgoing letters: clerks draft, preview and approve them from the case page; the delivery
consumer renders and delivers them (``mailroom.consumers.dispatch``); the mailroom prints the
letters that go by post in batches and records the ones the post brings back; citizens open
theirs in the Postfach (the first opening is a read receipt).

Every command takes the acting principal and returns ``Changed``, like casework.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aggregates.access_code import AccessCodeKeys
from aggregates.case import Case
from aggregates.citizen_account import CitizenAccount
from aggregates.deadlines import WorkingCalendar
from aggregates.outgoing_document import (
    DocumentState,
    OutgoingDocument,
    OutgoingDocumentError,
    PrintReason,
)
from aggregates.print_batch import PrintBatch
from letters import (
    LetterError,
    MissingFieldError,
    RenderedLetter,
    TemplateInfo,
    TemplateLibrary,
    UnknownTemplateError,
)
from letters.batch import BatchLetter, ManifestEntry, build_batch
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_handle_print, may_see_cases_of
from mailroom.auth.principal import Principal
from mailroom.intake.clean_text import InvalidTextError, clean_field
from mailroom.ports import BlobStore
from mailroom.services import Changed, ForbiddenError, NotFoundError, ServiceError, StaleError
from mailroom.services.casework import save_or_stale
from mailroom.services.letter_data import (
    Author,
    common_data,
    german_date,
    get_path,
    is_common,
    recipient_lines,
    set_path,
)
from projections.case_directory import CaseDirectoryProjection
from projections.outgoing import OutgoingProjection, OutgoingRow
from routing import Catalog

log = logging.getLogger(__name__)

MAX_FIELD = 5000
MAX_BATCH = 2000  # letters per print batch: a print street's day, a PDF a printer accepts


@dataclass(frozen=True)
class DraftForm:
    """What the draft form shows: the template and its fields with prefilled values."""

    template: TemplateInfo
    values: dict[str, str]  # field name -> text (lists one item per line)


@dataclass(frozen=True)
class BatchResult:
    batch_id: UUID
    letters: int
    sheets: int
    pages: int
    manifest: list[ManifestEntry]


class LetterService:
    def __init__(
        self,
        app: MailroomApp,
        blobs: BlobStore,
        catalog: Catalog,
        library: TemplateLibrary,
        outgoing: OutgoingProjection,
        directory: CaseDirectoryProjection,
        calendar: WorkingCalendar,
        codes: AccessCodeKeys,
        public_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.blobs = blobs
        self.catalog = catalog
        self.library = library
        self.outgoing = outgoing
        self.directory = directory
        self.calendar = calendar
        self.codes = codes
        self.public_url = public_url.rstrip("/")
        self.clock = clock

    # -- templates and drafts ----------------------------------------------------------------

    def templates(self) -> list[TemplateInfo]:
        return self.library.list()

    def template(self, name: str) -> TemplateInfo:
        try:
            return self.library.info(name)
        except UnknownTemplateError as exc:
            raise ServiceError(str(exc), "unknown_template") from None

    def draft_form(self, actor: Principal, case_reference: str, template: str) -> DraftForm:
        """The fields a clerk fills in, prefilled from the case and the mailroom."""
        case = self._case(actor, case_reference)
        info = self.template(template)
        data = self.letter_data(case, info, Author(actor.name), {})
        values = {
            spec.name: _as_text(get_path(data, spec.name))
            for spec in info.fields
            if not is_common(spec.name) or spec.name.startswith("recipient.")
        }
        values["subject"] = data["subject"]
        return DraftForm(info, values)

    def letter_data(
        self, case: Case, info: TemplateInfo, author: Author, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """Everything the template needs: the common parts from the case and the catalog,
        what the mailroom knows (reference, access code, status page), what the clerk typed."""
        item = self.app.find_item(case.first_item_id) if case.first_item_id else None
        received = item.received_at.date() if item is not None else None
        name = str(fields.get("recipient.name") or case.party)
        lines = fields.get("recipient.lines")
        address = list(lines) if isinstance(lines, list) else recipient_lines(case.address)
        subject = str(fields.get("subject") or f"{info.title}: {case.subject}".strip(": "))
        today = self.clock().date()
        data = common_data(
            self.catalog, case, author, today, received, subject[:200], name, address
        )
        known: dict[str, Any] = {
            "reference": item.reference if item is not None else case.reference,
            "status_url": f"{self.public_url}/status" if self.public_url else "/status",
            "answer_url": f"{self.public_url}/status" if self.public_url else "/status",
            "received_on": german_date(received) if received else "",
        }
        if item is not None:  # the code it was given, also when the secret was rotated since
            code = self.codes.original(item.id, item.reference, item.access_code_hash)
            if code is not None:
                known["access_code"] = code
        if case.processing_days:
            due = self.calendar.add_working_days(case.opened_at.date(), case.processing_days)
            known["expected_by"] = german_date(due)
        for spec in info.fields:
            if is_common(spec.name):
                continue
            if spec.name in fields and fields[spec.name] not in ("", None, []):
                set_path(data, spec.name, fields[spec.name])
            elif spec.name in known:
                set_path(data, spec.name, known[spec.name])
        return data

    def draft(
        self, actor: Principal, case_reference: str, template: str, fields: dict[str, str]
    ) -> Changed:
        """A new draft; the fields are what the clerk typed (text; lists one per line)."""
        case = self._case(actor, case_reference)
        document = self.new_document(actor, case, template, self._parsed_for(template, fields))
        save_or_stale(self.app, document)
        log.info("letter %s drafted for case %s (%s)", document.id, case.reference, template)
        return Changed(document.id, document.version)

    def new_document(
        self,
        actor: Principal,
        case: Case,
        template: str,
        fields: dict[str, Any],
        key: str | None = None,
        author: Author | None = None,
    ) -> OutgoingDocument:
        """A draft, not saved yet (the delivery consumer saves its own with its position).
        ``key`` makes the id deterministic (letters the mailroom writes by itself)."""
        info = self.template(template)
        data = self.letter_data(case, info, author or Author(actor.name), fields)
        self._check(info, data)
        item = self.app.find_item(case.first_item_id) if case.first_item_id else None
        return OutgoingDocument(
            key=key or uuid4().hex,
            case_id=case.id,
            case_reference=case.reference,
            template=info.name,
            title=info.title,
            data=data,
            recipient_name=data["recipient"]["name"],
            recipient_lines=list(data["recipient"]["lines"]),
            citizen_account_id=item.citizen_account_id if item is not None else None,
            requires_second_approval=info.requires_second_approval and not actor.is_system,
            inbox_fallback_days=info.inbox_fallback_days,
            by=actor.id,
            by_name=actor.name,
            at=self.clock(),
        )

    def edit(
        self,
        actor: Principal,
        document_id: UUID,
        fields: dict[str, str],
        expected_version: int | None = None,
    ) -> Changed:
        document, case = self._document(actor, document_id, expected_version)
        info = self.template(document.template)
        data = self.letter_data(case, info, Author(actor.name), self._parsed(info, fields))
        self._check(info, data)
        return self._do(
            document,
            lambda: document.edit(
                data,
                data["recipient"]["name"],
                list(data["recipient"]["lines"]),
                actor.id,
                self.clock(),
            ),
        )

    def preview(self, actor: Principal, document_id: UUID) -> bytes:
        """The letter as it will be printed (rendered now, not stored)."""
        document, _ = self._document(actor, document_id, None)
        if document.blob_key:
            return self.blobs.get(document.blob_key)
        return self.render(document).pdf

    def approve(
        self, actor: Principal, document_id: UUID, expected_version: int | None = None
    ) -> Changed:
        document, _ = self._document(actor, document_id, expected_version)
        changed = self._do(document, lambda: document.approve(actor.id, actor.name, self.clock()))
        log.info("letter %s approved by %s", document.id, actor.id)
        return changed

    def discard(
        self, actor: Principal, document_id: UUID, expected_version: int | None = None
    ) -> Changed:
        document, _ = self._document(actor, document_id, expected_version)
        return self._do(document, lambda: document.discard(actor.id, self.clock()))

    def of_case(self, actor: Principal, case_reference: str) -> list[OutgoingRow]:
        case = self._case(actor, case_reference)
        return self.outgoing.of_case(case.reference)

    def pdf(self, actor: Principal, document_id: UUID) -> bytes:
        """The rendered letter, for staff who may see its case (or handle the print)."""
        document = self.app.find_document(document_id)
        if document is None or not (
            may_handle_print(actor) or self._may_see(actor, document.case_id)
        ):
            raise NotFoundError(f"no letter {document_id}")
        if document.blob_key is None:
            raise ServiceError("the letter is not rendered yet", "not_rendered")
        return self.blobs.get(document.blob_key)

    # -- rendering and delivery (the delivery consumer) --------------------------------------

    def render(self, document: OutgoingDocument) -> RenderedLetter:
        try:
            return self.library.render(
                document.template, document.data, qr_payload=document.case_reference
            )
        except LetterError as exc:
            raise ServiceError(str(exc), "letter_failed") from None

    def render_and_deliver(self, document: OutgoingDocument) -> str:
        """Render the approved letter (a new blob) and deliver it — to the Postfach or the
        print queue; the caller saves the document. Returns what happened, for the log."""
        rendered = self.render(document)
        blob = self.blobs.put(rendered.pdf, "application/pdf")
        now = self.clock()
        document.record_rendering(blob.key, rendered.sha256, rendered.pages, now)
        channel, detail = self.delivery_channel(document)
        if channel == "inbox":
            document.deliver_to_inbox(detail, now)
            return f"{rendered.pages} pages, delivered to the Postfach"
        document.queue_for_print(detail, now)
        return f"{rendered.pages} pages, queued for print: {detail}"

    def delivery_channel(self, document: OutgoingDocument) -> tuple[str, str]:
        """("inbox", account) when the citizen has an account and agreed to digital
        delivery; otherwise ("print", PrintReason)."""
        if not document.citizen_account_id:
            return "print", PrintReason.NO_ACCOUNT.value
        account = self.app.find_account(document.citizen_account_id)
        if account is None or not account.digital_delivery:
            return "print", PrintReason.NO_CONSENT.value
        return "inbox", document.citizen_account_id

    def fall_back_unread(self) -> int:
        """Postfach documents unread longer than their template allows go by post."""
        now = self.clock()
        moved = 0
        for row in self.outgoing.in_state(DocumentState.IN_INBOX):
            document = self.app.find_document(UUID(row.id))
            if document is None or document.inbox_fallback_days is None:
                continue
            waited = document.inbox_unread_since(now)
            if waited is None or waited < document.inbox_fallback_days:
                continue
            document.queue_for_print(PrintReason.INBOX_UNREAD.value, now)
            try:
                save_or_stale(self.app, document)
            except StaleError:
                continue  # read or moved meanwhile
            log.info("letter %s unread for %.0f days: queued for print", document.id, waited)
            moved += 1
        return moved

    # -- the print street --------------------------------------------------------------------

    def print_queue(self, actor: Principal) -> list[OutgoingRow]:
        self._require_print(actor)
        return self.outgoing.in_state(DocumentState.PRINT_QUEUED, MAX_BATCH)

    def batches(self, actor: Principal) -> list[OutgoingRow]:
        """Letters in batches not yet marked printed."""
        self._require_print(actor)
        return self.outgoing.in_state(DocumentState.BATCHED)

    def build_print_batch(
        self, actor: Principal, out: Path, limit: int = MAX_BATCH, progress: Any = None
    ) -> BatchResult:
        """Every queued letter (up to ``limit``) into one print-ready PDF at ``out`` with its
        manifest beside it (``out`` with ``.json``); the batch and its letters are recorded."""
        self._require_print(actor)
        queued = self.outgoing.in_state(DocumentState.PRINT_QUEUED, limit)
        documents = [d for d in (self.app.find_document(UUID(r.id)) for r in queued) if d]
        documents = [d for d in documents if d.state is DocumentState.PRINT_QUEUED]
        if not documents:
            raise ServiceError("no letters are waiting for print", "print_queue_empty")

        def letters() -> Any:
            for document in documents:
                assert document.blob_key is not None
                if progress is not None:
                    progress()
                yield BatchLetter(
                    letter_id=str(document.id),
                    case_reference=document.case_reference,
                    recipient=", ".join([document.recipient_name, *document.recipient_lines]),
                    pdf=self.blobs.get(document.blob_key),
                )

        manifest = build_batch(letters(), out)
        manifest_path = out.with_suffix(".json")
        manifest_json = json.dumps(
            {"letters": [vars(m) for m in manifest]}, ensure_ascii=False, indent=2
        )
        manifest_path.write_text(manifest_json, encoding="utf-8")
        ids = [d.id for d in documents]
        now = self.clock()
        batch = PrintBatch(
            document_ids=ids,
            blob_key=self.blobs.put_file(out, "application/pdf").key,
            manifest_key=self.blobs.put(manifest_json.encode(), "application/json").key,
            letters=len(manifest),
            sheets=sum(m.sheets for m in manifest),
            pages=sum(m.pages for m in manifest),
            by=actor.id,
            at=now,
        )
        for document in documents:
            document.add_to_batch(batch.id, now)
        save_or_stale(self.app, batch, *documents)
        log.info("print batch %s: %d letters, %d sheets", batch.id, batch.letters, batch.sheets)
        return BatchResult(batch.id, batch.letters, batch.sheets, batch.pages, manifest)

    def open_batches(self, actor: Principal) -> list[PrintBatch]:
        """The batches built and not yet marked printed, oldest first."""
        self._require_print(actor)
        ids = dict.fromkeys(r.batch_id for r in self.outgoing.in_state(DocumentState.BATCHED))
        found = [self.app.find_print_batch(UUID(i)) for i in ids if i]
        open_ = [b for b in found if b is not None and b.printed_at is None]
        return sorted(open_, key=lambda b: b.built_at)

    def print_batch(self, actor: Principal, batch_id: UUID) -> PrintBatch:
        self._require_print(actor)
        batch = self.app.find_print_batch(batch_id)
        if batch is None:
            raise NotFoundError(f"no print batch {batch_id}")
        return batch

    def batch_pdf(self, actor: Principal, batch_id: UUID) -> bytes:
        return self.blobs.get(self.print_batch(actor, batch_id).blob_key)

    def batch_manifest(self, actor: Principal, batch_id: UUID) -> bytes:
        """The manifest JSON as written beside the batch PDF."""
        return self.blobs.get(self.print_batch(actor, batch_id).manifest_key)

    def mark_batch_printed(self, actor: Principal, batch_id: UUID) -> Changed:
        """The print street printed the batch: every letter in it is recorded as printed."""
        self._require_print(actor)
        batch = self.app.find_print_batch(batch_id)
        if batch is None:
            raise NotFoundError(f"no print batch {batch_id}")
        now = self.clock()
        try:
            batch.mark_printed(actor.id, now)
            documents = [self.app.find_document(d) for d in batch.document_ids]
            for document in documents:
                assert document is not None
                document.mark_printed(batch.id, actor.id, now)
        except (ValueError, OutgoingDocumentError) as exc:
            raise ServiceError(str(exc), "invalid_state") from None
        save_or_stale(self.app, batch, *documents)
        return Changed(batch.id, batch.version)

    def record_returned(
        self, actor: Principal, document_id: UUID, reason: str, note: str = ""
    ) -> Changed:
        """The post brought the letter back as undeliverable."""
        self._require_print(actor)
        document = self.app.find_document(document_id)
        if document is None:
            raise NotFoundError(f"no letter {document_id}")
        text = _clean(note, "note")
        return self._do(
            document, lambda: document.record_returned(reason, text, actor.id, self.clock())
        )

    # -- the citizen ---------------------------------------------------------------------------

    def open_in_postfach(self, account_id: str, document_id: UUID) -> bytes:
        """The PDF of a document delivered to this account; the first opening is recorded."""
        document = self.app.find_document(document_id)
        if document is None or document.delivered_to != account_id or document.blob_key is None:
            raise NotFoundError(f"no document {document_id} in this Postfach")
        pdf = self.blobs.get(document.blob_key)
        if document.record_read(f"citizen:{account_id}", self.clock()):
            # opened twice at the same moment: the other opening was recorded
            with contextlib.suppress(StaleError):
                save_or_stale(self.app, document)
        return pdf

    def set_digital_delivery(self, account_id: str, agreed: bool, email: str | None) -> Changed:
        account = self.app.find_account(account_id) or CitizenAccount(account_id, self.clock())
        account.choose_digital_delivery(agreed, self.clock())
        if email is not None:
            account.change_email(email, self.clock())
        save_or_stale(self.app, account)
        return Changed(account.id, account.version)

    def register_account(self, account_id: str, email: str | None) -> Changed:
        """On a citizen's sign-in: the account is known (and its e-mail kept current)."""
        account = self.app.find_account(account_id) or CitizenAccount(account_id, self.clock())
        if email:
            account.change_email(email, self.clock())
        save_or_stale(self.app, account)
        return Changed(account.id, account.version)

    # -- helpers -----------------------------------------------------------------------------

    def _parsed_for(self, template: str, fields: dict[str, str]) -> dict[str, Any]:
        return self._parsed(self.template(template), fields)

    def _parsed(self, info: TemplateInfo, fields: dict[str, str]) -> dict[str, Any]:
        kinds = {spec.name: spec.kind for spec in info.fields}
        parsed: dict[str, Any] = {}
        for name, value in fields.items():
            if name not in kinds and name != "subject":
                raise ServiceError(f"{info.name} has no field {name}", "unknown_field")
            text = _clean(value, name)
            if kinds.get(name) == "list":
                parsed[name] = [line.strip() for line in text.splitlines() if line.strip()]
            else:
                parsed[name] = text
        return parsed

    def _check(self, info: TemplateInfo, data: dict[str, Any]) -> None:
        try:
            self.library.check(info.name, data)
        except MissingFieldError as exc:
            raise MissingLetterFieldsError(exc.fields, exc.labels) from None

    def _case(self, actor: Principal, reference: str) -> Case:
        case_id = self.directory.case_uuid(reference)
        case = self.app.find_case(UUID(case_id)) if case_id else None
        if case is None or not may_see_cases_of(actor, case.department_id):
            raise NotFoundError(f"no case {reference}")
        return case

    def _may_see(self, actor: Principal, case_id: UUID) -> bool:
        case = self.app.find_case(case_id)
        return case is not None and may_see_cases_of(actor, case.department_id)

    def _document(
        self, actor: Principal, document_id: UUID, expected_version: int | None
    ) -> tuple[OutgoingDocument, Case]:
        document = self.app.find_document(document_id)
        case = self.app.find_case(document.case_id) if document else None
        if document is None or case is None or not may_see_cases_of(actor, case.department_id):
            raise NotFoundError(f"no letter {document_id}")
        if expected_version is not None and document.version != expected_version:
            raise StaleError(f"letter {document_id} changed")
        return document, case

    def _require_print(self, actor: Principal) -> None:
        if not may_handle_print(actor):
            raise ForbiddenError("only the mailroom handles print batches")

    def _do(self, aggregate: Any, command: Callable[[], None]) -> Changed:
        try:
            command()
        except (OutgoingDocumentError, ValueError) as exc:
            raise ServiceError(str(exc), "invalid_state") from None
        save_or_stale(self.app, aggregate)
        return Changed(aggregate.id, aggregate.version)


class MissingLetterFieldsError(ServiceError):
    """The letter lacks required data; ``labels`` name the fields for the form."""

    code = "missing_fields"

    def __init__(self, fields: list[str], labels: list[str]) -> None:
        super().__init__(f"missing: {', '.join(fields)}")
        self.fields = fields
        self.labels = labels


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _clean(value: str, field: str) -> str:
    try:
        return clean_field(value, field, max_length=MAX_FIELD, multiline=True).strip()
    except InvalidTextError as exc:
        raise ServiceError(str(exc), "invalid_text") from None
