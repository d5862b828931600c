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
from aggregates.access_code import derive_access_code, hash_access_code
from aggregates.mail_item import MailItem
from aggregates.reference import Reference
from aggregates.reference_index import ReferenceIndex
from aggregates.safe_text import safe_filename
from aggregates.station import ScanningStation
from aggregates.values import Channel, Document, Submission
from mailroom.application import MailroomApp
from mailroom.intake.clean_text import clean_submission
from mailroom.intake.inspection import InspectedFile, UploadLimits, inspect_file
from mailroom.ports import BlobRef, BlobStore, blob_ref_for, file_ref_for
from routing.catalog import Catalog


class IntakeError(ValueError):
    """The request cannot be accepted; the message names the problem."""


class IdempotencyConflictError(IntakeError):
    pass


class NoFilesError(IntakeError):
    pass


class TooManyFilesError(IntakeError):
    pass


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


class IntakeService:
    def __init__(
        self,
        app: MailroomApp,
        blobs: BlobStore,
        catalog: Catalog,
        limits: UploadLimits,
        max_files: int,
        secret: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.blobs = blobs
        self.catalog = catalog
        self.limits = limits
        self.max_files = max_files
        self.secret = secret
        self.clock = clock

    def submit(
        self, submission: Submission, files: Sequence[Upload], idempotency_key: str | None
    ) -> Receipt:
        submission = clean_submission(submission)  # raises InvalidTextError naming the field
        self.catalog.service(submission.service_key)  # raises UnknownServiceError
        files = _with_safe_names(files)
        inspected = self._inspect(files)
        fingerprint = _fingerprint(asdict(submission), files)
        key = idempotency_key or uuid.uuid4().hex
        return self._receive(
            Channel.PORTAL,
            key,
            files,
            inspected,
            fingerprint,
            submission=submission,
            may_exist=idempotency_key is not None,
        )

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
        if may_exist and (existing := self.app.find_item(item_id)) is not None:
            return self._replay(existing, fingerprint)  # before storing anything
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
        code = derive_access_code(self.secret, item_id)
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
                existing = self.app.find_item(item_id)
                if existing is not None:  # a concurrent retry of the same request won
                    return self._replay(existing, fingerprint)
                continue  # the reference was taken: draw another
            return Receipt(item_id, reference, code, created=True)
        raise RuntimeError("could not draw a free reference in 5 attempts")

    def _store(self, upload: Upload, media_type: str) -> BlobRef:
        if isinstance(upload.content, Path):
            return self.blobs.put_file(upload.content, media_type, upload.ref)
        return self.blobs.put(upload.content, media_type)

    def _replay(self, item: MailItem, fingerprint: str) -> Receipt:
        if item.request_fingerprint != fingerprint:
            raise IdempotencyConflictError(
                "Idempotency-Key was already used for a different request"
            )
        code = derive_access_code(self.secret, item.id)
        return Receipt(item.id, item.reference, code, created=False)


def _fingerprint(fields: dict[str, object], files: Sequence[Upload]) -> str:
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    for upload in files:
        digest.update(bytes.fromhex(upload.blob_ref().sha256))
    return digest.hexdigest()


def _with_safe_names(files: Sequence[Upload]) -> list[Upload]:
    return [replace(f, filename=safe_filename(f.filename)) for f in files]
