"""Receiving multipart uploads: streamed to disk, hashed and limited while they arrive.

Starlette's form parser would hold the whole form until the endpoint runs and leaves the
limits to the endpoint; a mailroom that accepts 100 MB requests cannot afford that. Here
the first megabyte of a request's files is kept in memory (most portal uploads are a few
pages: no spool file to create, read back and delete) and everything beyond it goes into a
spool file of this process, so memory per request stays bounded whatever the upload's
size. Each file's SHA-256 is computed on the way, and the per-file size, per-request size,
file count, field size and the client's pace (idle timeout and a minimum average rate) are
enforced as the bytes come in, so a request over a limit or a client that stalls is
refused at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from mailroom.intake.inspection import FileTooLargeError
from mailroom.outages import StorageFullError
from mailroom.ports import BlobRef, content_key
from mailroom.services.intake import TooManyFilesError, Upload

_MAX_FIELD_BYTES = 1024 * 1024
_IN_MEMORY_FILE_BYTES = 1024 * 1024  # per request, all files together; the rest is spooled
T = TypeVar("T")


class MalformedRequestError(ValueError):
    """The body is not the multipart/form-data it claims to be (HTTP 400)."""


class RequestBodyTooLargeError(ValueError):
    """All parts together exceed the request limit (HTTP 413)."""


class BodyTimeoutError(TimeoutError):
    """The client stopped sending, or sends too slowly (HTTP 408)."""


@dataclass(frozen=True)
class ReceiveLimits:
    max_file_bytes: int
    max_request_bytes: int
    max_files: int
    idle_timeout_s: float = 20.0
    min_rate_bytes_s: int = 1000


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    is_file: bool = False
    path: Path | None = None  # the spool file, once the part no longer fits in memory
    file: BinaryIO | None = None
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    value: bytearray = field(default_factory=bytearray)


@dataclass
class ReceivedForm:
    fields: dict[str, str]
    uploads: list[Upload]


class _FormReader:
    def __init__(self, spool: Path, limits: ReceiveLimits) -> None:
        self.spool = spool
        self.limits = limits
        self.fields: dict[str, str] = {}
        self.files: list[_Part] = []
        self.part = _Part()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self.received = 0
        self.in_memory = 0  # bytes of file parts held in memory
        self.error: Exception | None = None

    # -- python-multipart callbacks (errors are kept and raised after the chunk) ----------

    def on_part_begin(self) -> None:
        self.part = _Part()
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self.part.name = _decode(options.get(b"name", b""))
        if b"filename" not in options:
            return
        if len(self.files) >= self.limits.max_files:
            self._fail(
                TooManyFilesError(
                    f"too many files (more than the limit of {self.limits.max_files}) "
                    "in one request"
                )
            )
            return
        self.part.filename = _decode(options[b"filename"]) or None
        self.part.is_file = True
        self.files.append(self.part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        chunk = data[start:end]
        part = self.part
        if not part.is_file:
            part.value += chunk
            if len(part.value) > _MAX_FIELD_BYTES:
                self._fail(RequestBodyTooLargeError(f"form field {part.name!r} is too large"))
            return
        part.size += len(chunk)
        if part.size > self.limits.max_file_bytes:
            limit = f"{self.limits.max_file_bytes / 2**20:g} MB"
            self._fail(
                FileTooLargeError(
                    f"file is larger than the limit of {limit}", filename=part.filename
                )
            )
            return
        part.digest.update(chunk)
        if part.file is None and self.in_memory + len(chunk) <= _IN_MEMORY_FILE_BYTES:
            part.value += chunk
            self.in_memory += len(chunk)
            return
        if part.file is None:
            self._spill(part)
        if part.file is not None:
            self._guarded(lambda: part.file.write(chunk))  # type: ignore[union-attr]

    def _spill(self, part: _Part) -> None:
        """Move what the part holds in memory into a new spool file."""
        part.path = self.spool / f"upload-{uuid.uuid4().hex}"
        part.file = self._guarded(lambda: part.path.open("wb"))  # type: ignore[union-attr]
        if part.file is not None:
            self._guarded(lambda: part.file.write(part.value))  # type: ignore[union-attr]
        self.in_memory -= len(part.value)
        part.value = bytearray()

    def on_part_end(self) -> None:
        part = self.part
        if part.file is not None:
            self._guarded(part.file.close)
        elif not part.is_file and part.name:
            self.fields[part.name] = part.value.decode("utf-8", errors="replace")

    # ----------------------------------------------------------------------------------

    def _guarded(self, operation: Callable[[], T]) -> T | None:
        """Run a spool file operation; a full disk becomes StorageFullError (HTTP 507)."""
        try:
            return operation()
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            self._fail(StorageFullError("spool", exc.strerror or "") if full else exc)
            return None

    def _fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error

    def uploads(self) -> list[Upload]:
        return [
            Upload(
                part.filename,
                part.path if part.path is not None else bytes(part.value),
                BlobRef(content_key(part.digest.hexdigest()), part.digest.hexdigest(), part.size),
            )
            for part in self.files
        ]

    def discard(self) -> None:
        for part in self.files:
            if part.file is not None and not part.file.closed:
                part.file.close()
            if part.path is not None:
                part.path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def received_form(
    request: Request, spool: Path, limits: ReceiveLimits
) -> AsyncIterator[ReceivedForm]:
    """Read a multipart/form-data body into spool files; delete them when the block ends.

    A form without files may also come URL-encoded (at most 1 MB)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type in (b"application/x-www-form-urlencoded", b""):
        fields = await _urlencoded_fields(request, limits)
        if content_type == b"" and fields:
            raise MalformedRequestError("the body must be multipart/form-data")
        yield ReceivedForm(fields, [])
        return
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise MalformedRequestError("the body must be multipart/form-data")
    reader = _FormReader(spool, limits)
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(options[b"boundary"], callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in _paced(request, limits):
            reader.received += len(chunk)
            if reader.received > limits.max_request_bytes:
                limit = f"{limits.max_request_bytes / 2**20:g} MB"
                raise RequestBodyTooLargeError(f"request body is larger than the limit of {limit}")
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise MalformedRequestError(f"the multipart body is malformed ({exc})") from None
            if reader.error is not None:
                raise reader.error
        parser.finalize()
        if reader.error is not None:
            raise reader.error
        yield ReceivedForm(reader.fields, reader.uploads())
    finally:
        reader.discard()


async def _urlencoded_fields(request: Request, limits: ReceiveLimits) -> dict[str, str]:
    body = bytearray()
    async for chunk in _paced(request, limits):
        body += chunk
        if len(body) > _MAX_FIELD_BYTES:
            raise RequestBodyTooLargeError("a form without files may have at most 1 MB")
    pairs = urllib.parse.parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return dict(pairs)


async def _paced(request: Request, limits: ReceiveLimits) -> AsyncIterator[bytes]:
    """The body's chunks; raises BodyTimeoutError when the client goes idle or too slow.

    The allowance grows with what has arrived (like Apache's mod_reqtimeout MinRate): a
    slow but honest uplink gets through, a client dripping a byte every few seconds not.
    """
    started = time.monotonic()
    received = 0
    stream = request.stream().__aiter__()
    while True:
        deadline = started + limits.idle_timeout_s + received / limits.min_rate_bytes_s
        wait = min(limits.idle_timeout_s, deadline - time.monotonic())
        if wait <= 0:
            raise BodyTimeoutError("the request body arrives too slowly")
        try:
            # asyncio.timeout, not wait_for: no task per chunk (Python 3.11's wait_for
            # wraps every awaited chunk in a task of its own).
            async with asyncio.timeout(wait):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise BodyTimeoutError("the request body did not arrive in time") from None
        except ClientDisconnect:
            raise MalformedRequestError(
                "the client went away before the body was complete"
            ) from None
        received += len(chunk)
        if chunk:
            yield chunk


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")
