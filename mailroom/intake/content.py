"""An upload's bytes, in memory or in a spooled file, read piece by piece.

Inspection must not hold a 100 MB upload in memory: it reads the few windows it needs
(header, tail, cross-reference entries), counts patterns chunk by chunk, and hands parsers
a file handle or a memory map (of which only the touched pages are ever read).
"""

from __future__ import annotations

import io
import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1024 * 1024
_IN_MEMORY_BYTES = 4 * 1024 * 1024  # smaller files are simply read: parsing bytes is faster


class Content:
    def __init__(self, data: bytes | None = None, path: Path | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("content is either bytes or a file")
        self._data = data
        self._path = path
        self.size = len(data) if data is not None else path.stat().st_size  # type: ignore[union-attr]

    @classmethod
    def of(cls, source: bytes | Path) -> Content:
        if isinstance(source, Path):
            if source.stat().st_size <= _IN_MEMORY_BYTES:
                return cls(data=source.read_bytes())
            return cls(path=source)
        return cls(data=source)

    def open(self, start: int = 0) -> BinaryIO:
        """A new readable, seekable stream over the content from ``start`` on."""
        if self._data is not None:
            return io.BytesIO(self._data[start:] if start else self._data)
        assert self._path is not None
        file = self._path.open("rb")
        if not start:
            return file
        return io.BufferedReader(SlicedFile(file, start), _CHUNK)

    def read_at(self, offset: int, length: int) -> bytes:
        if self._data is not None:
            return self._data[offset : offset + length]
        with self.open() as file:
            file.seek(max(0, offset))
            return file.read(length)

    def head(self, length: int) -> bytes:
        return self.read_at(0, length)

    def tail(self, length: int) -> bytes:
        return self.read_at(max(0, self.size - length), length)

    def count(self, needle: bytes, start: int = 0) -> int:
        """Occurrences of ``needle`` (which must not overlap itself, like b" obj") from
        ``start`` on, read chunk by chunk."""
        if self._data is not None:
            return self._data.count(needle, start)
        total = 0
        carry = b""
        with self.open() as file:
            file.seek(start)
            while chunk := file.read(_CHUNK):
                window = carry + chunk
                total += window.count(needle)
                # Carry what could start a match, but nothing of a match already counted.
                keep_from = max(0, len(window) - (len(needle) - 1))
                last = window.rfind(needle)
                if last >= 0:
                    keep_from = max(keep_from, last + len(needle))
                carry = window[keep_from:]
        return total

    def rfind(self, needle: bytes, start: int = 0) -> int:
        """Offset of the last ``needle`` at or after ``start``, or -1 (reads backwards)."""
        if self._data is not None:
            return self._data.rfind(needle, start)
        end = self.size
        while end > start:
            begin = max(start, end - _CHUNK)
            window = self.read_at(begin, end - begin + len(needle) - 1)
            found = window.rfind(needle)
            if found >= 0:
                return begin + found
            end = begin
        return -1

    @contextmanager
    def buffer(self) -> Iterator[bytes | mmap.mmap]:
        """Random access for header parsers: the bytes, or a read-only memory map."""
        if self._data is not None:
            yield self._data
            return
        assert self._path is not None
        with self._path.open("rb") as file:
            if self.size == 0:
                yield b""
                return
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                yield mapped


class SlicedFile(io.RawIOBase):
    """A read-only view of a file from ``start`` on (for a PDF with junk before %PDF-)."""

    def __init__(self, file: BinaryIO, start: int) -> None:
        self._file = file
        self._start = start
        self._file.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = self._file.seek(self._start + max(0, offset))
        else:
            position = self._file.seek(offset, whence)
        if position < self._start:
            position = self._file.seek(self._start)
        return position - self._start

    def tell(self) -> int:
        return self._file.tell() - self._start

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()
