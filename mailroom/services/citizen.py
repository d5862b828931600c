"""What citizens see and do: the status page (reference + access code), answering an
information request right there, and — signed in with the Bürgerkonto — their requests, their
Postfach and how documents reach them.

The status page wraps ``StatusService.lookup`` (the same rate limit and the same answer for an
unknown reference and a wrong code as the API) and adds what a citizen asks: where does it
stand (in words, ``texts_de.CITIZEN_STAGES``), who handles it and how to reach them, when will
it be done (the case's processing deadline) and what the city needs from them. Staff names,
notes and routing details are never shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select

from aggregates.deadlines import WorkingCalendar
from aggregates.reference import InvalidReferenceError, Reference
from mailroom import texts_de
from mailroom.application import MailroomApp
from mailroom.services import Changed, NotFoundError, ServiceError
from mailroom.services.intake import AnswerReceipt, AnswerRefusedError, IntakeService, Upload
from mailroom.services.status import StatusService
from projections import cases
from projections.base import Projection
from projections.item_view import item_view
from projections.status import StatusProjection, StatusRecord
from projections.view_support import local_date, utc
from routing.catalog import Catalog, Contact, UnknownDepartmentError

READ_YOUR_WRITES_S = 5.0
STATUS_PAGE_ACTOR = "citizen:status-page"  # who answered without signing in
STATUS_PAGE_NAME = "Bürger/in (über die Statusseite)"
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._]+")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_EMAIL = 254


@dataclass(frozen=True)
class OpenRequest:
    """What the city asked for and by when (the case waits for it)."""

    request_id: str
    message: str
    due_on: date | None
    requested_at: datetime


@dataclass(frozen=True)
class Step:
    """One line of the citizen's timeline."""

    at: datetime
    text: str


@dataclass(frozen=True)
class CitizenStatus:
    reference: str  # of the item the citizen asked about
    subject: str | None
    channel: str  # portal | scan
    received_at: datetime
    stage: str  # a key of texts_de.CITIZEN_STAGES
    headline: str
    explanation: str
    step: int  # index into texts_de.CITIZEN_STEPS
    department_name: str | None
    contact_name: str  # the department, or the city while no department is known
    contact: Contact
    expected_by: date | None  # the processing deadline while the case is open
    deadline_paused: bool
    open_request: OpenRequest | None
    misdirected_to: str | None
    closed_at: datetime | None
    case_reference: str | None
    timeline: tuple[Step, ...]  # newest first

    @property
    def may_answer(self) -> bool:
        return self.open_request is not None


@dataclass(frozen=True)
class Citizen:
    """A citizen signed in with the Bürgerkonto: ``account_id`` is the provider's subject,
    the id portal submissions name as ``citizen_account_id``."""

    account_id: str
    name: str
    email: str | None = None

    @property
    def principal_id(self) -> str:
        return f"citizen:{self.account_id}"


@dataclass(frozen=True)
class PostfachDocument:
    id: str
    title: str
    case_reference: str
    delivered_at: datetime | None
    read_at: datetime | None
    pages: int


class CitizenService:
    def __init__(
        self,
        status: StatusService,
        intake: IntakeService,
        app: MailroomApp,
        views: Engine,
        catalog: Catalog,
        calendar: WorkingCalendar,
        case_view: Projection,
        clock: Callable[[], datetime],
        outgoing: Any | None = None,  # projections.outgoing.OutgoingProjection
        letters: Any | None = None,  # mailroom.services.letters.LetterService
    ) -> None:
        self.status = status
        self.intake = intake
        self.app = app
        self.views = views
        self.catalog = catalog
        self.calendar = calendar
        self.case_view = case_view
        self.clock = clock
        self.outgoing = outgoing
        self.letters = letters

    @property
    def projection(self) -> StatusProjection:
        return self.status.projection

    def today(self) -> date:
        return local_date(self.clock())

    # -- the status page ---------------------------------------------------------------------

    def status_page(self, reference: str, access_code: str, client: str) -> CitizenStatus:
        """StatusNotFoundError for an unknown reference and a wrong code alike;
        TooManyAttemptsError when this client failed too often (shared with the API)."""
        record = self.status.lookup(self.typed_reference(reference), _code(access_code), client)
        return self._status(record)

    def answer_request(
        self,
        reference: str,
        access_code: str,
        client: str,
        text: str,
        files: Sequence[Upload],
        request_id: str | None = None,
    ) -> AnswerReceipt:
        """The citizen answers the open information request of the request's case: the
        access code is checked exactly as for the status page. ``request_id`` is the
        request the form was shown for (a second send of the same answer is the same item).
        Refused (``AnswerRefusedError``, the intake's file and text errors) changes nothing."""
        record = self.status.lookup(self.typed_reference(reference), _code(access_code), client)
        return self._answer(record, text, files, request_id, STATUS_PAGE_ACTOR, STATUS_PAGE_NAME)

    def typed_reference(self, text: str) -> str:
        """The reference as typed, with the city's prefix added when it was left out."""
        compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
        if compact[:1].isdigit():
            return f"{self.catalog.city.reference_prefix}{compact}"
        return text

    # -- the Bürgerkonto -------------------------------------------------------------------

    def requests_of(self, account_id: str) -> list[CitizenStatus]:
        """Every request linked to the account (portal submissions with its
        ``citizen_account_id``, letters a clerk linked to it), one per case, newest first."""
        shown: list[StatusRecord] = []
        by_case: dict[str, int] = {}
        for record in self.projection.of_account(account_id):
            key = record.case_reference
            if key is None:
                shown.append(record)
            elif key not in by_case:
                by_case[key] = len(shown)
                shown.append(record)
            elif record.reference == key:  # the item that opened the case stands for it
                shown[by_case[key]] = record
        return [self._status(record) for record in shown]

    def status_for_account(self, account_id: str, reference: str) -> CitizenStatus:
        return self._status(self._record_of_account(account_id, reference))

    def answer_for_account(
        self,
        citizen: Citizen,
        reference: str,
        text: str,
        files: Sequence[Upload],
        request_id: str | None = None,
    ) -> AnswerReceipt:
        record = self._record_of_account(citizen.account_id, reference)
        name = f"{citizen.name} (Bürgerkonto)"
        return self._answer(record, text, files, request_id, citizen.principal_id, name, citizen)

    def postfach(self, account_id: str) -> list[PostfachDocument]:
        if self.outgoing is None:
            return []
        return [
            PostfachDocument(
                id=row.id,
                title=row.title,
                case_reference=row.case_reference,
                delivered_at=row.delivered_at,
                read_at=row.read_at,
                pages=row.pages,
            )
            for row in self.outgoing.postfach(account_id)
        ]

    def open_document(self, account_id: str, document_id: str) -> tuple[str, bytes]:
        """(title, PDF) of a document in the account's Postfach; the first opening is the
        read receipt. Anything else (another account's, unknown) is NotFoundError."""
        try:
            uuid = UUID(document_id)
        except ValueError:
            raise NotFoundError(f"no document {document_id}") from None
        if self.letters is None or self.outgoing is None:
            raise NotFoundError("no Postfach")
        pdf: bytes = self.letters.open_in_postfach(account_id, uuid)
        row = self.outgoing.get(str(uuid))
        title = row.title if row is not None else "Dokument"
        document = self.app.find_document(uuid)
        if row is not None and row.read_at is None and document is not None:
            self.outgoing.wait_for(uuid, document.version, READ_YOUR_WRITES_S)  # shown as read
        return title, pdf

    def digital_delivery(self, account_id: str) -> tuple[bool, str | None]:
        """(agreed to receive documents in the Postfach, e-mail for notifications)."""
        choice = self.outgoing.account(account_id) if self.outgoing is not None else None
        if choice is None:
            return False, None
        return bool(choice.digital_delivery), choice.email

    def set_digital_delivery(self, account_id: str, agreed: bool, email: str | None) -> Changed:
        email = (email or "").strip() or None
        if email is not None and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
            raise ServiceError(f"not an e-mail address: {email!r}", "invalid_email")
        if self.letters is None:
            raise ServiceError("documents cannot be delivered digitally here", "unavailable")
        changed: Changed = self.letters.set_digital_delivery(account_id, agreed, email)
        if self.outgoing is not None:
            self.outgoing.wait_for(changed.id, changed.version, READ_YOUR_WRITES_S)
        return changed

    def signed_in(self, citizen: Citizen) -> None:
        """The account is known from the first sign-in on (its e-mail kept current)."""
        if self.letters is not None:
            self.letters.register_account(citizen.account_id, citizen.email)

    # -- helpers -----------------------------------------------------------------------------

    def _record_of_account(self, account_id: str, reference: str) -> StatusRecord:
        try:
            canonical = str(Reference.parse(reference, self.catalog.city.reference_prefix))
        except InvalidReferenceError:
            raise NotFoundError(f"no request {reference}") from None
        for record in self.projection.of_account(account_id):
            if canonical in (record.reference, record.case_reference):
                return record
        raise NotFoundError(f"no request {canonical} for this account")

    def _answer(
        self,
        record: StatusRecord,
        text: str,
        files: Sequence[Upload],
        request_id: str | None,
        by: str,
        by_name: str,
        citizen: Citizen | None = None,
    ) -> AnswerReceipt:
        item = self.app.find_item(UUID(record.item_id))
        case_id = item.case_id if item is not None else None
        if case_id is None:
            raise AnswerRefusedError("no_open_request", f"{record.reference} has no case yet")
        if request_id is None:
            case = self.app.find_case(case_id)
            request_id = case.open_request_id if case is not None else None
            if case is not None and case.closed:
                raise AnswerRefusedError("case_closed", f"case {case.reference} is closed")
            if request_id is None:
                raise AnswerRefusedError("no_open_request", f"{record.reference}: nothing asked")
        receipt = self.intake.answer(
            case_id,
            request_id,
            text,
            files,
            by=by,
            by_name=by_name,
            citizen_account_id=citizen.account_id if citizen else None,
        )
        self.case_view.wait_for(receipt.case_id, receipt.case_version, READ_YOUR_WRITES_S)
        return receipt

    def _status(self, record: StatusRecord) -> CitizenStatus:
        today = self.today()
        detail = None
        if record.case_reference:
            detail = cases.case_detail(
                self.views, record.case_reference, today=today, calendar=self.calendar
            )
        case = detail.case if detail is not None else None
        department_id = case.department_id if case is not None else record.department_id
        department = self._department_name(department_id)
        misdirected_to = None
        if case is None:
            stage, misdirected_to = self._item_stage(record)
        elif case.status == "closed":
            stage = texts_de.CITIZEN_OUTCOME_STAGES.get(case.outcome or "", "done")
        elif case.status == "waiting":
            stage = "waiting"
        else:
            stage = "in_progress"
        if stage == "in_progress" and department is None:
            stage = "received"
        headline, explanation = texts_de.citizen_stage(stage)
        words = {
            "bei": texts_de.bei(department or ""),
            "department": department or "",
            "city": self.catalog.city.name,
        }
        if misdirected_to:
            explanation += " " + texts_de.CITIZEN_MISDIRECTED_TO.format(addressee=misdirected_to)
        open_request = _open_request(detail) if stage == "waiting" and detail else None
        open_case = case is not None and case.status != "closed"
        expected_by = case.current_due_on if case is not None and open_case else None
        return CitizenStatus(
            reference=record.reference,
            subject=record.subject,
            channel=record.channel,
            received_at=utc(record.received_at),
            stage=stage,
            headline=headline.format(**words),
            explanation=explanation.format(**words),
            step=texts_de.CITIZEN_STEP_OF_STAGE.get(stage, 0),
            department_name=department,
            contact_name=department or self.catalog.city.name,
            contact=self._contact(department_id),
            expected_by=expected_by,
            deadline_paused=case is not None and case.paused_since is not None,
            open_request=open_request,
            misdirected_to=misdirected_to,
            closed_at=case.closed_at if case is not None else None,
            case_reference=record.case_reference,
            timeline=self._timeline(record, detail, stage),
        )

    def _item_stage(self, record: StatusRecord) -> tuple[str, str | None]:
        """The stage of an item without a case: read, in triage, set aside."""
        with self.views.connect() as conn:
            row = conn.execute(
                select(item_view.c.status, item_view.c.addressee).where(
                    item_view.c.item_id == record.item_id
                )
            ).first()
        status = row[0] if row is not None else record.status
        if status in ("triage", "rescan", "misdirected"):
            addressee = (row[1] or None) if row is not None and status == "misdirected" else None
            return status, addressee
        if record.status == "triage":
            return "triage", None
        return ("in_progress" if record.department_id else "received"), None

    def _department_name(self, department_id: str | None) -> str | None:
        if not department_id:
            return None
        try:
            return self.catalog.department(department_id).name
        except UnknownDepartmentError:
            return None

    def _contact(self, department_id: str | None) -> Contact:
        if department_id:
            try:
                return self.catalog.contact(department_id)
            except UnknownDepartmentError:
                pass
        return self.catalog.city.contact

    def _timeline(
        self, record: StatusRecord, detail: cases.CaseDetail | None, stage: str
    ) -> tuple[Step, ...]:
        steps = [Step(utc(entry.at), entry.text) for entry in record.timeline]
        for entry in detail.timeline if detail is not None else ():
            template = texts_de.CITIZEN_TIMELINE.get(entry.kind)
            if template is None:
                continue
            data = entry.data
            words = {
                "due": _german_date(data.get("due_on")),
                "department": self._department_name(str(data.get("department_id", ""))) or "",
                "stage": texts_de.citizen_stage(
                    texts_de.CITIZEN_OUTCOME_STAGES.get(str(data.get("outcome")), "done")
                )[0],
            }
            steps.append(Step(utc(entry.at), template.format(**words)))
        steps.sort(key=lambda s: s.at, reverse=True)
        return tuple(steps)


def _open_request(detail: cases.CaseDetail) -> OpenRequest | None:
    """The latest information request of a waiting case."""
    for entry in reversed(detail.timeline):
        if entry.kind == "information_requested":
            due = entry.data.get("due_on")
            return OpenRequest(
                request_id=str(entry.data.get("request_id", "")),
                message=str(entry.data.get("message", "")),
                due_on=date.fromisoformat(due) if isinstance(due, str) and due else None,
                requested_at=entry.at,
            )
    return None


def _code(text: str) -> str:
    """The access code as typed (dashes, spaces and full-width characters removed)."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def _german_date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value or "")
