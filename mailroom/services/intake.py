"""Intake: validate uploads, store blobs, then record the MailItem — in that order.

Nothing is stored until every file of a request has passed inspection; the 202 answer is
given only after the blobs are durable and the Received event is committed. Text is
cleaned first (``clean_text``), so nothing that reaches an event can break a read model.
Uploads may be spooled files: they are hashed, checked and stored without ever being
read whole into memory.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from aggregates import ids
from aggregates.access_code import AccessCodeKeys, hash_access_code
from aggregates.case import Case
from aggregates.mail_item import MailItem
from aggregates.portal_client import PortalClient
from aggregates.reference import Reference
from aggregates.reference_index import ReferenceIndex
from aggregates.safe_text import safe_filename
from aggregates.station import ScanningStation
from aggregates.values import Applicant, Channel, Document, Submission
from mailroom.application import MailroomApp
from mailroom.intake.clean_text import clean_field, clean_submission
from mailroom.intake.inspection import InspectedFile, UploadLimits, inspect_file
from mailroom.metrics import observed_intake
from mailroom.ports import BlobRef, BlobStore, blob_ref_for, file_ref_for
from routing.catalog import Catalog

ANSWER_KEY_PREFIX = "answer:"  # intake keys of answers to a case's information request


class IntakeError(ValueError):
    """The request cannot be accepted; the message names the problem."""


class IdempotencyConflictError(IntakeError):
    pass


class NoFilesError(IntakeError):
    pass


class TooManyFilesError(IntakeError):
    pass


class AccessCodeUnavailableError(IntakeError):
    """A retry of an item whose access code came from a key no longer in the key ring
    (MAILROOM_OLD_SECRET_KEYS): its code cannot be given again."""


class AnswerRefusedError(IntakeError):
    """A citizen's answer that cannot be taken; ``code``: ``no_open_request`` (answered
    already, or nothing was asked), ``case_closed``, ``empty_answer``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


MAX_ANSWER_TEXT = 4000
ANSWER_FIELD = "nachricht"  # the citizen's text, in the answer item's form fields


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its bytes, or the spooled file that holds them."""

    filename: str | None
    content: bytes | Path
    ref: BlobRef | None = None  # the content address, when the receiver hashed it already

    def blob_ref(self) -> BlobRef:
        if self.ref is not None:
            return self.ref
        if isinstance(self.content, Path):
            return file_ref_for(self.content)
        return blob_ref_for(self.content)


@dataclass(frozen=True)
class Receipt:
    item_id: UUID
    reference: str
    access_code: str
    created: bool


@dataclass(frozen=True)
class AnswerReceipt:
    """A citizen's answer, stored as an item of the case; ``case_version`` after it."""

    item_id: UUID
    reference: str
    created: bool
    case_id: UUID
    case_version: int


class IntakeService:
    def __init__(
        self,
        app: MailroomApp,
        blobs: BlobStore,
        catalog: Catalog,
        limits: UploadLimits,
        max_files: int,
        codes: AccessCodeKeys,
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.blobs = blobs
        self.catalog = catalog
        self.limits = limits
        self.max_files = max_files
        self.codes = codes
        self.clock = clock

    @observed_intake("portal")  # counted, and logged as "item received"
    def submit(
        self,
        submission: Submission,
        files: Sequence[Upload],
        idempotency_key: str | None,
        client: PortalClient | None = None,
    ) -> Receipt:
        """A portal submission. An Idempotency-Key is scoped to the ``client`` that sends
        it (None: the mailroom's own callers, e.g. the web pages and the CLI): the same key
        from two clients is two requests; from one client with the same content it is the
        same request (the original receipt), with other content a conflict."""
        submission = clean_submission(submission)  # raises InvalidTextError naming the field
        self.catalog.service(submission.service_key)  # raises UnknownServiceError
        files = _with_safe_names(files)
        inspected = self._inspect(files)
        fingerprint = _fingerprint(asdict(submission), files)
        key = idempotency_key or uuid.uuid4().hex
        if client is not None:
            key = f"client:{client.idempotency_scope}:{key}"
        return self._receive(
            Channel.PORTAL,
            key,
            files,
            inspected,
            fingerprint,
            submission=submission,
            may_exist=idempotency_key is not None,
        )

    @observed_intake("scan")  # counted, and logged as "item received"
    def scan(
        self, station: ScanningStation, files: Sequence[Upload], idempotency_key: str | None
    ) -> Receipt:
        if not files:
            raise NoFilesError("a scan needs at least one file")
        files = _with_safe_names(files)
        inspected = self._inspect(files)
        fingerprint = _fingerprint({"station": str(station.id)}, files)
        # Without a key, the same station sending the same bytes again is the same letter.
        key = f"{station.id}:{idempotency_key or fingerprint}"
        return self._receive(
            Channel.SCAN, key, files, inspected, fingerprint, station_id=station.id
        )

    @observed_intake("answer")  # counted, and logged as "item received"
    def answer(
        self,
        case_id: UUID,
        request_id: str,
        text: str,
        files: Sequence[Upload],
        *,
        by: str,
        by_name: str,
        citizen_account_id: str | None = None,
    ) -> AnswerReceipt:
        """A citizen answers the case's open information request (``request_id``) with a
        short text and/or files: a new item, already attached to the case (so the router
        leaves it alone), the request answered (the deadline resumes) and the text as a
        note of the case's timeline — item, reference index and case in one save.

        The same content checks and order as every intake (text, files, then blobs, then
        events); the same answer sent again (same request, text and files) is the same item.
        Refused with ``AnswerRefusedError`` when nothing is asked any more or the case is
        closed; nothing is stored then."""
        text = clean_field(text, ANSWER_FIELD, max_length=MAX_ANSWER_TEXT, multiline=True).strip()
        if not text and not files:
            raise AnswerRefusedError("empty_answer", "an answer needs a text or a file")
        files = _with_safe_names(files)
        inspected = self._inspect(files)
        fingerprint = _fingerprint({"answer_to": request_id, "text": text}, files)
        intake_key = f"{ANSWER_KEY_PREFIX}{request_id}:{fingerprint}"
        item_id = ids.mail_item_id(Channel.PORTAL, intake_key)
        if (existing := self.app.find_item(item_id)) is not None:
            return self._replayed_answer(existing, fingerprint)
        case = self._answerable(case_id, request_id)
        documents = self._documents(files, inspected)
        for _attempt in range(5):
            received_at = self.clock()
            reference = str(
                Reference.generate(self.catalog.city.reference_prefix, received_at.year)
            )
            item = MailItem(
                channel=Channel.PORTAL.value,
                intake_key=intake_key,
                reference=reference,
                received_at=received_at,
                documents=documents,
                access_code_hash=hash_access_code(reference, self.codes.issue(item_id)),
                request_fingerprint=fingerprint,
                submission=Submission(
                    service_key=case.service_key or "",
                    applicant=Applicant(name=case.party or by_name),
                    subject=f"Antwort auf die Anforderung von Unterlagen ({case.reference})",
                    form_fields={ANSWER_FIELD: text} if text else {},
                    citizen_account_id=citizen_account_id,
                ),
            )
            item.route(case.department_id, "citizen-answer", 1.0, f"answer to {request_id}")
            item.attach_to_case(case.id, case.reference)
            case.attach_item(item.id)
            if text:
                case.add_note(text, by, by_name, received_at)
            case.receive_information(item.id, by, received_at)
            index = ReferenceIndex(reference=reference, item_id=item_id)
            try:
                self.app.save(item, index, case)
            except IntegrityError:
                if (existing := self.app.find_item(item_id)) is not None:
                    return self._replayed_answer(existing, fingerprint)  # a concurrent retry
                case = self._answerable(case_id, request_id)  # changed meanwhile? check again
                continue  # (or the reference was taken: draw another)
            return AnswerReceipt(item.id, reference, True, case.id, case.version)
        raise RuntimeError("could not store the answer in 5 attempts")

    def _answerable(self, case_id: UUID, request_id: str) -> Case:
        case = self.app.find_case(case_id)
        if case is None:
            raise AnswerRefusedError("no_open_request", f"no case {case_id}")
        if case.closed:
            raise AnswerRefusedError("case_closed", f"case {case.reference} is closed")
        if case.open_request_id is None or case.open_request_id != request_id:
            raise AnswerRefusedError(
                "no_open_request", f"case {case.reference} does not wait for {request_id}"
            )
        return case

    def _replayed_answer(self, item: MailItem, fingerprint: str) -> AnswerReceipt:
        if item.request_fingerprint != fingerprint or item.case_id is None:
            raise IdempotencyConflictError("this answer key was used for a different answer")
        case = self.app.find_case(item.case_id)
        version = case.version if case is not None else 0
        return AnswerReceipt(item.id, item.reference, False, item.case_id, version)

    def _inspect(self, files: Sequence[Upload]) -> list[InspectedFile]:
        if len(files) > self.max_files:
            raise TooManyFilesError(
                f"too many files ({len(files)} > limit {self.max_files}) in one request"
            )
        return [inspect_file(f.content, filename=f.filename, limits=self.limits) for f in files]

    def _receive(
        self,
        channel: Channel,
        intake_key: str,
        files: Sequence[Upload],
        inspected: list[InspectedFile],
        fingerprint: str,
        submission: Submission | None = None,
        station_id: UUID | None = None,
        may_exist: bool = True,
    ) -> Receipt:
        item_id = ids.mail_item_id(channel, intake_key)
        # A retry is found by the save itself (the item id is taken): one database round trip
        # less for every first attempt. A retry's blobs are the same content-addressed keys;
        # those of a conflicting request are left for `mailroom blobs gc`.
        documents = self._documents(files, inspected)
        code = self.codes.issue(item_id)
        received_at = self.clock()
        for _attempt in range(5):
            reference = str(
                Reference.generate(self.catalog.city.reference_prefix, received_at.year)
            )
            item = MailItem(
                channel=channel.value,
                intake_key=intake_key,
                reference=reference,
                received_at=received_at,
                documents=documents,
                access_code_hash=hash_access_code(reference, code),
                request_fingerprint=fingerprint,
                submission=submission,
                station_id=station_id,
            )
            index = ReferenceIndex(reference=reference, item_id=item_id)
            try:
                self.app.save(item, index)
            except IntegrityError:
                existing = self.app.find_item(item_id) if may_exist else None
                if existing is not None:  # a retry of the same request (or a concurrent one)
                    return self._replay(existing, fingerprint)
                continue  # the reference was taken: draw another
            return Receipt(item_id, reference, code, created=True)
        raise RuntimeError("could not draw a free reference in 5 attempts")

    def _documents(self, files: Sequence[Upload], inspected: list[InspectedFile]) -> list[Document]:
        """Store the (inspected) files' blobs: before any event names them."""
        documents = []
        for upload, info in zip(files, inspected, strict=True):
            ref = self._store(upload, info.media_type)
            documents.append(
                Document(
                    blob_key=ref.key,
                    sha256=ref.sha256,
                    media_type=info.media_type,
                    size=ref.size,
                    pages=info.pages,
                    filename=upload.filename,
                    flags=info.flags,
                )
            )
        return documents

    def _store(self, upload: Upload, media_type: str) -> BlobRef:
        if isinstance(upload.content, Path):
            return self.blobs.put_file(upload.content, media_type, upload.ref)
        return self.blobs.put(upload.content, media_type)

    def _replay(self, item: MailItem, fingerprint: str) -> Receipt:
        if item.request_fingerprint != fingerprint:
            raise IdempotencyConflictError(
                "Idempotency-Key was already used for a different request"
            )
        # The code it was given: after a rotation of the secret that is an older key's.
        code = self.codes.original(item.id, item.reference, item.access_code_hash)
        if code is None:
            raise AccessCodeUnavailableError(
                f"{item.reference} was accepted already, but its access code was issued under a"
                " secret key that is no longer configured (MAILROOM_OLD_SECRET_KEYS)"
            )
        return Receipt(item.id, item.reference, code, created=False)


def _fingerprint(fields: dict[str, object], files: Sequence[Upload]) -> str:
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    for upload in files:
        digest.update(bytes.fromhex(upload.blob_ref().sha256))
    return digest.hexdigest()


def _with_safe_names(files: Sequence[Upload]) -> list[Upload]:
    return [replace(f, filename=safe_filename(f.filename)) for f in files]
