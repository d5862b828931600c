"""Blob store on the local file system (the embedded default)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mailroom.ports import BlobNotFoundError, BlobRef, blob_ref_for


class FileSystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise BlobNotFoundError(key)
        return path

    def put(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef:
        ref = blob_ref_for(data)
        path = self._path(ref.key)
        if path.exists():
            return ref
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file, fsync, then rename: a crash never leaves half a blob.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)
        return ref

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
