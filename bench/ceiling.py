"""The bare ceiling for bench/intake.py: a minimal FastAPI endpoint that does what an intake
must at least do per submission — read the multipart form, one S3 PUT of the file, one
PostgreSQL INSERT + COMMIT — and nothing else (no checks, no events, no idempotency).

Started by bench/intake.py with ``uvicorn ceiling:app --workers N`` and the same
PostgreSQL and S3 settings (MAILROOM_EVENT_STORE, MAILROOM_S3_*, MAILROOM_BLOB_STORE).

``CEILING_WITH`` adds parts of the mailroom's own intake, one at a time, for a ladder from
the bare endpoint to the mailroom (``bench/intake.py --ladder``): ``check`` runs the
mailroom's content check of the file (``inspect_file``) before the PUT; ``events`` replaces
the plain INSERT with the event-store save intake makes (a MailItem and its ReferenceIndex,
through the mailroom's PostgreSQL recorder).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from minio import Minio
from psycopg_pool import ConnectionPool

# uvicorn's --app-dir puts bench/ first on the path, where bench/letters.py would shadow the
# letters package that the mailroom modules imported below need: the checkout goes in front.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregates.access_code import hash_access_code
from aggregates.mail_item import MailItem
from aggregates.reference import Reference
from aggregates.reference_index import ReferenceIndex
from aggregates.values import Applicant, Document, Submission
from mailroom.intake.inspection import inspect_file

# CEILING_TABLE_LOCK=1: take the lock the event store takes for every write (eventsourcing
# serialises inserts with LOCK TABLE ... IN EXCLUSIVE MODE, so notification ids have no gaps).
TABLE_LOCK = os.environ.get("CEILING_TABLE_LOCK", "") == "1"
BUCKET = os.environ.get("MAILROOM_BLOB_STORE", "s3://ceiling").removeprefix("s3://") + "-ceiling"
PARTS = frozenset({"check", "events"})
WITH = frozenset(part.strip() for part in os.environ.get("CEILING_WITH", "").split(",") if part)
if WITH - PARTS:
    raise SystemExit(f"CEILING_WITH: unknown parts {sorted(WITH - PARTS)}")


def _minio() -> Minio:
    return Minio(
        os.environ["MAILROOM_S3_ENDPOINT"],
        access_key=os.environ["MAILROOM_S3_ACCESS_KEY"],
        secret_key=os.environ["MAILROOM_S3_SECRET_KEY"],
        secure=os.environ.get("MAILROOM_S3_SECURE", "false").lower() == "true",
        region=os.environ.get("MAILROOM_S3_REGION") or None,
    )


state: dict[str, object] = {}


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    pool = ConnectionPool(os.environ["MAILROOM_EVENT_STORE"].split("?")[0], min_size=4, max_size=8)
    create_table(pool)
    blobs = _minio()
    if not blobs.bucket_exists(BUCKET):
        with contextlib.suppress(Exception):  # another worker process made it first
            blobs.make_bucket(BUCKET)
    state.update(pool=pool, blobs=blobs)
    if "events" in WITH:
        from mailroom.bootstrap import build_app
        from mailroom.config import Settings

        state["events"] = build_app(Settings())
    yield
    pool.close()


app = FastAPI(lifespan=lifespan)


def _store(metadata: str, data: bytes | None) -> str:
    item_id = uuid.uuid4()
    key = None
    if data is not None:
        if "check" in WITH:
            inspect_file(data, filename="antrag.pdf")
        key = f"ceiling/{item_id}"
        blobs: Minio = state["blobs"]  # type: ignore[assignment]
        blobs.put_object(BUCKET, key, io.BytesIO(data), len(data))
    if "events" in WITH:
        return _save_events(item_id, metadata, key, data)
    plain_insert(state["pool"], item_id, metadata, key)  # type: ignore[arg-type]
    return str(item_id)


def create_table(pool: ConnectionPool) -> None:
    with pool.connection() as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS ceiling_submissions"
            " (id uuid PRIMARY KEY, metadata text NOT NULL, blob_key text)"
        )


def plain_insert(pool: ConnectionPool, item_id: uuid.UUID, metadata: str, key: str | None) -> None:
    """The ceiling's one INSERT + COMMIT (also bench/intake_parts.py)."""
    with pool.connection() as conn:  # commits when the block ends
        if TABLE_LOCK:
            conn.execute("LOCK TABLE ceiling_submissions IN EXCLUSIVE MODE")
        conn.execute(
            "INSERT INTO ceiling_submissions (id, metadata, blob_key) VALUES (%s, %s, %s)",
            (item_id, metadata, key),
        )


@app.post("/api/v1/submissions", status_code=202)
async def submit(
    metadata: Annotated[str, Form()], files: Annotated[list[UploadFile] | None, File()] = None
) -> dict[str, str]:
    data = await files[0].read() if files else None
    item_id = await run_in_threadpool(_store, metadata, data)
    return {"item_id": item_id}


def _save_events(item_id: uuid.UUID, metadata: str, key: str | None, data: bytes | None) -> str:
    """What intake's event-store save does for a new portal item, without its checks."""
    item, index = portal_item(item_id, metadata, key, data)
    state["events"].save(item, index)  # type: ignore[attr-defined]
    return str(item.id)


def portal_item(
    item_id: uuid.UUID, metadata: str, key: str | None, data: bytes | None
) -> tuple[MailItem, ReferenceIndex]:
    """The aggregates intake records for a new portal item (also bench/intake_parts.py)."""
    fields = json.loads(metadata)
    now = datetime.now(UTC)
    reference = str(Reference.generate("BENCH", now.year))
    documents = []
    if key is not None and data is not None:
        sha256 = hashlib.sha256(data).hexdigest()
        documents.append(Document(key, sha256, "application/pdf", len(data), 1, "antrag.pdf"))
    item = MailItem(
        channel="portal",
        intake_key=str(item_id),
        reference=reference,
        received_at=now,
        documents=documents,
        access_code_hash=hash_access_code(reference, secrets.token_hex(8)),
        request_fingerprint=secrets.token_hex(32),
        submission=Submission(
            service_key=fields["service_key"],
            applicant=Applicant(**fields["applicant"]),
            subject=fields["subject"],
            form_fields=fields.get("form_fields", {}),
        ),
        station_id=None,
    )
    return item, ReferenceIndex(reference=reference, item_id=item.id)
