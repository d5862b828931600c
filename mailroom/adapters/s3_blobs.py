"""Blob store on MinIO or any S3-compatible server (minio SDK).

Calls are bounded in time: the HTTP client has short connect timeouts and few retries, and
an unreachable or failing server surfaces as ``DependencyUnavailableError`` (a full one as
``StorageFullError``) instead of a five-minute hang. The bucket is created on first write,
so the mailroom starts (and reports "not ready") while S3 is still down.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error, ServerError
from urllib3.exceptions import HTTPError, MaxRetryError

from mailroom.outages import BLOB_STORE, DependencyUnavailableError, StorageFullError
from mailroom.ports import BlobNotFoundError, BlobRef, StoredBlob, blob_ref_for, file_ref_for

T = TypeVar("T")

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound", "NoSuchBucket"}
_FULL = {"XMinioStorageFull", "QuotaExceeded", "XMinioAdminBucketQuotaExceeded"}
_UNAVAILABLE = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}
_CHECK_BEFORE_PUT_BYTES = 1024 * 1024
_PART_BYTES = 8 * 1024 * 1024  # streamed uploads are sent in parts of this size


def http_client(timeout_s: float, secure: bool) -> urllib3.PoolManager:
    """An HTTP client that gives up within seconds when S3 does not answer."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout_s, read=max(30.0, 10 * timeout_s)),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if secure else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=2, connect=1, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504]
        ),
    )


class S3BlobStore:
    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._bucket_ready = False
        self._lock = threading.Lock()

    def put(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef:
        ref = blob_ref_for(data)
        self._upload(ref, lambda: io.BytesIO(data), media_type)
        return ref

    def put_file(
        self, path: Path, media_type: str = "application/octet-stream", ref: BlobRef | None = None
    ) -> BlobRef:
        ref = ref or file_ref_for(path)
        with path.open("rb") as file:
            self._upload(ref, lambda: _rewound(file), media_type)
        return ref

    def _upload(self, ref: BlobRef, body: Callable[[], BinaryIO], media_type: str) -> None:
        try:
            self._put(ref, body, media_type)
        except S3Error as exc:
            if exc.code != "NoSuchBucket":
                raise
            self._bucket_ready = False  # the bucket went away (a new, empty server): again
            self._put(ref, body, media_type)

    def _put(self, ref: BlobRef, body: Callable[[], BinaryIO], media_type: str) -> None:
        self._ensure_bucket()
        if ref.size > _CHECK_BEFORE_PUT_BYTES and self.exists(ref.key):
            return
        # S3 acknowledges a PUT only once the object is durable. The key is the content's
        # hash, so writing small blobs again is harmless and cheaper than asking first.
        _call(
            lambda: self.client.put_object(
                self.bucket,
                ref.key,
                body(),
                ref.size,
                content_type=media_type,
                part_size=_PART_BYTES,
            )
        )

    def get(self, key: str) -> bytes:
        with self.open(key) as stream:
            return _call(stream.read)

    def open(self, key: str) -> BinaryIO:
        response = _call(lambda: self.client.get_object(self.bucket, key), missing=key)
        return cast(BinaryIO, _ClosingResponse(response))

    def exists(self, key: str) -> bool:
        try:
            _call(lambda: self.client.stat_object(self.bucket, key), missing=key)
        except BlobNotFoundError:
            return False
        return True

    def iter_blobs(self) -> Iterator[StoredBlob]:
        objects = _call(
            lambda: list(self.client.list_objects(self.bucket, prefix="sha256/", recursive=True))
        )
        for obj in objects:
            if obj.object_name and obj.last_modified is not None:
                modified = obj.last_modified.astimezone(UTC)
                yield StoredBlob(obj.object_name, obj.size or 0, modified)

    def delete(self, key: str) -> None:
        _call(lambda: self.client.remove_object(self.bucket, key))

    def check(self) -> None:
        if not _call(lambda: self.client.bucket_exists(self.bucket)):
            self._bucket_ready = False
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._lock:
            if self._bucket_ready:
                return
            if not _call(lambda: self.client.bucket_exists(self.bucket)):
                try:
                    _call(lambda: self.client.make_bucket(self.bucket))
                except S3Error as exc:  # another replica created it in the meantime
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
            self._bucket_ready = True


def _rewound(file: BinaryIO) -> BinaryIO:
    file.seek(0)
    return file


class _ClosingResponse(io.RawIOBase):
    """A urllib3 response that returns its connection to the pool when closed."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return bytes(self._response.read(None if size is None or size < 0 else size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


def _failure(exc: Exception) -> str:
    """The failure's kind, with the last attempt's cause when retries ran out
    (``MaxRetryError (ReadTimeoutError)``): what an operator needs to tell a timeout from a
    refused connection. Never the URL (it names the bucket and key)."""
    reason = getattr(exc, "reason", None)
    if isinstance(exc, MaxRetryError) and isinstance(reason, Exception):
        return f"{type(exc).__name__} ({type(reason).__name__})"
    return type(exc).__name__


def _call(operation: Callable[[], T], missing: str | None = None) -> T:
    """Run a minio call, translating its failures into the port's errors."""
    try:
        return operation()
    except S3Error as exc:
        if missing is not None and exc.code in _MISSING:
            raise BlobNotFoundError(missing) from None
        if exc.code in _FULL:
            raise StorageFullError(BLOB_STORE, exc.code) from exc
        if exc.code in _UNAVAILABLE:
            raise DependencyUnavailableError(BLOB_STORE, exc.code) from exc
        raise
    except ServerError as exc:
        raise DependencyUnavailableError(BLOB_STORE, f"HTTP {exc.status_code}") from exc
    except (HTTPError, OSError) as exc:
        raise DependencyUnavailableError(BLOB_STORE, _failure(exc)) from exc
    except MinioException as exc:
        raise DependencyUnavailableError(BLOB_STORE, type(exc).__name__) from exc
