"""Blob store on MinIO or any S3-compatible server (minio SDK)."""

from __future__ import annotations

import io

from minio import Minio
from minio.error import S3Error

from mailroom.ports import BlobNotFoundError, BlobRef, blob_ref_for

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}
_CHECK_BEFORE_PUT_BYTES = 1024 * 1024


class S3BlobStore:
    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        if not client.bucket_exists(bucket):
            try:
                client.make_bucket(bucket)
            except S3Error as exc:  # another replica created it in the meantime
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise

    def put(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef:
        ref = blob_ref_for(data)
        if len(data) > _CHECK_BEFORE_PUT_BYTES and self.exists(ref.key):
            return ref
        # S3 acknowledges a PUT only once the object is durable. The key is the content's
        # hash, so writing small blobs again is harmless and cheaper than asking first.
        self.client.put_object(
            self.bucket, ref.key, io.BytesIO(data), len(data), content_type=media_type
        )
        return ref

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise BlobNotFoundError(key) from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise
        return True
