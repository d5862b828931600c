"""Ports: the small interfaces the application needs from infrastructure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_BYTES = 1024 * 1024


class BlobNotFoundError(KeyError):
    """No blob is stored under this key."""


@dataclass(frozen=True)
class BlobRef:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    modified: datetime


def content_key(sha256: str) -> str:
    """Blobs are content-addressed: the key is derived from the SHA-256 of the bytes."""
    return f"sha256/{sha256[:2]}/{sha256}"


def blob_ref_for(data: bytes) -> BlobRef:
    digest = hashlib.sha256(data).hexdigest()
    return BlobRef(key=content_key(digest), sha256=digest, size=len(data))


def file_ref_for(path: Path) -> BlobRef:
    """The content address of a file, read in chunks (never whole into memory)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return BlobRef(key=content_key(digest.hexdigest()), sha256=digest.hexdigest(), size=size)


class BlobStore(Protocol):
    """Durable, content-addressed storage for originals and derived files.

    ``put`` and ``put_file`` return only once the bytes are durable; putting the same bytes
    twice is a no-op that returns the same reference. Stored blobs are never modified; only
    ``delete`` (garbage collection of blobs no event references) removes one. A store that
    cannot be reached raises ``outages.DependencyUnavailableError``, a full one
    ``outages.StorageFullError``, both within a bounded time.
    """

    def put(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef: ...

    def put_file(
        self, path: Path, media_type: str = "application/octet-stream", ref: BlobRef | None = None
    ) -> BlobRef:
        """Store the file at ``path`` (streamed; ``ref`` when its digest is known already)."""
        ...

    def get(self, key: str) -> bytes: ...

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the blob, for large blobs; close it after use."""
        ...

    def exists(self, key: str) -> bool: ...

    def iter_blobs(self) -> Iterator[StoredBlob]: ...

    def delete(self, key: str) -> None: ...

    def check(self) -> None:
        """Raise DependencyUnavailableError or StorageFullError when the store cannot write."""
        ...
