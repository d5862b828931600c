"""The bare ceiling for bench/intake.py: a minimal FastAPI endpoint that does what an intake
must at least do per submission — read the multipart form, one S3 PUT of the file, one
PostgreSQL INSERT + COMMIT — and nothing else (no checks, no events, no idempotency).

Started by bench/intake.py with ``uvicorn ceiling:app --workers N`` and the same
PostgreSQL and S3 settings (MAILROOM_EVENT_STORE, MAILROOM_S3_*, MAILROOM_BLOB_STORE).
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from minio import Minio
from psycopg_pool import ConnectionPool

# CEILING_TABLE_LOCK=1: take the lock the event store takes for every write (eventsourcing
# serialises inserts with LOCK TABLE ... IN EXCLUSIVE MODE, so notification ids have no gaps).
TABLE_LOCK = os.environ.get("CEILING_TABLE_LOCK", "") == "1"
BUCKET = os.environ.get("MAILROOM_BLOB_STORE", "s3://ceiling").removeprefix("s3://") + "-ceiling"


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
    with pool.connection() as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS ceiling_submissions"
            " (id uuid PRIMARY KEY, metadata text NOT NULL, blob_key text)"
        )
    blobs = _minio()
    if not blobs.bucket_exists(BUCKET):
        with contextlib.suppress(Exception):  # another worker process made it first
            blobs.make_bucket(BUCKET)
    state.update(pool=pool, blobs=blobs)
    yield
    pool.close()


app = FastAPI(lifespan=lifespan)


def _store(metadata: str, data: bytes | None) -> str:
    item_id = uuid.uuid4()
    key = None
    if data is not None:
        key = f"ceiling/{item_id}"
        blobs: Minio = state["blobs"]  # type: ignore[assignment]
        blobs.put_object(BUCKET, key, io.BytesIO(data), len(data))
    pool: ConnectionPool = state["pool"]  # type: ignore[assignment]
    with pool.connection() as conn:  # commits when the block ends
        if TABLE_LOCK:
            conn.execute("LOCK TABLE ceiling_submissions IN EXCLUSIVE MODE")
        conn.execute(
            "INSERT INTO ceiling_submissions (id, metadata, blob_key) VALUES (%s, %s, %s)",
            (item_id, metadata, key),
        )
    return str(item_id)


@app.post("/api/v1/submissions", status_code=202)
async def submit(
    metadata: Annotated[str, Form()], files: Annotated[list[UploadFile] | None, File()] = None
) -> dict[str, str]:
    data = await files[0].read() if files else None
    item_id = await run_in_threadpool(_store, metadata, data)
    return {"item_id": item_id}
