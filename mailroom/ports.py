"""Ports: the small interfaces the application needs from infrastructure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol


class BlobNotFoundError(KeyError):
    """No blob is stored under this key."""


@dataclass(frozen=True)
class BlobRef:
    key: str
    sha256: str
    size: int


def content_key(sha256: str) -> str:
    """Blobs are content-addressed: the key is derived from the SHA-256 of the bytes."""
    return f"sha256/{sha256[:2]}/{sha256}"


def blob_ref_for(data: bytes) -> BlobRef:
    digest = hashlib.sha256(data).hexdigest()
    return BlobRef(key=content_key(digest), sha256=digest, size=len(data))


class BlobStore(Protocol):
    """Durable, content-addressed storage for originals and derived files.

    ``put`` returns only once the bytes are durable; putting the same bytes twice is a no-op
    that returns the same reference. Stored blobs are never modified.
    """

    def put(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...
