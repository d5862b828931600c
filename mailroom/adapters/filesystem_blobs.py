"""Blob store on the local file system (the embedded default)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from mailroom.outages import BLOB_STORE, DependencyUnavailableError, StorageFullError
from mailroom.ports import (
    CHUNK_BYTES,
    BlobNotFoundError,
    BlobRef,
    StoredBlob,
    blob_ref_for,
    content_key,
    file_ref_for,
)

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_TEMPORARY_PREFIX = ".incoming-"


class FileSystemBlobStore:
    def __init__(self, root: Path, min_free_bytes: int = 0) -> None:
        self.root = root
        self.min_free_bytes = min_free_bytes
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise BlobNotFoundError(key)
        return path

    def put(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef:
        ref = blob_ref_for(data)
        self._write(ref, lambda handle: handle.write(data))
        return ref

    def put_file(
        self, path: Path, media_type: str = "application/octet-stream", ref: BlobRef | None = None
    ) -> BlobRef:
        ref = ref or file_ref_for(path)

        def copy(handle: BinaryIO) -> None:
            with path.open("rb") as source:
                shutil.copyfileobj(source, handle, CHUNK_BYTES)

        self._write(ref, copy)
        return ref

    def _write(self, ref: BlobRef, write: Callable[[BinaryIO], object]) -> None:
        path = self._path(ref.key)
        if path.exists():
            return
        # Write to a temporary file, fsync, then rename: a crash never leaves half a blob.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX)
        except OSError as exc:
            raise _outage(exc) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            _fsync_directory(path.parent)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise _outage(exc) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def iter_blobs(self) -> Iterator[StoredBlob]:
        for path in sorted(self.root.glob("sha256/*/*")):
            if not path.is_file() or path.name.startswith(_TEMPORARY_PREFIX):
                continue
            if content_key(path.name) != path.relative_to(self.root).as_posix():
                continue  # not a blob of ours
            stat = path.stat()
            yield StoredBlob(path.relative_to(self.root).as_posix(), stat.st_size, _mtime(stat))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def check(self) -> None:
        try:
            usage = shutil.disk_usage(self.root)
        except OSError as exc:
            raise DependencyUnavailableError(BLOB_STORE, exc.strerror or "") from exc
        if usage.free < self.min_free_bytes:
            raise StorageFullError(BLOB_STORE, f"{usage.free // 2**20} MB free")
        if not os.access(self.root, os.W_OK):
            raise DependencyUnavailableError(BLOB_STORE, "not writable")


def _outage(exc: OSError) -> Exception:
    if exc.errno in _FULL:
        return StorageFullError(BLOB_STORE, exc.strerror or "")
    return DependencyUnavailableError(BLOB_STORE, exc.strerror or str(exc))


def _mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, UTC)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
