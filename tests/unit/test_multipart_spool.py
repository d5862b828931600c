"""The multipart receiver keeps the first megabyte of a request's files in memory and
spools the rest: small uploads need no spool file, large ones never sit in memory."""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from starlette.requests import Request

from mailroom.api.multipart import ReceiveLimits, received_form

BOUNDARY = "grenze"
LIMITS = ReceiveLimits(max_file_bytes=8 * 2**20, max_request_bytes=16 * 2**20, max_files=5)


def _body(files: list[bytes]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{{}}\r\n'.encode()
    ]
    for number, content in enumerate(files):
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="seite{number}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _request(body: bytes, chunk: int = 64 * 1024) -> Request:
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]

    async def receive() -> dict[str, object]:
        data = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": data, "more_body": bool(chunks)}

    content_type = f"multipart/form-data; boundary={BOUNDARY}".encode()
    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type)]}
    return Request(scope, receive)


def _receive(spool: Path, files: list[bytes]) -> list[tuple[str, bool, bool]]:
    """(sha256 as reported, content held in memory, spool file exists) per upload,
    observed inside the block; the block's end must leave the spool empty."""

    async def read() -> list[tuple[str, bool, bool]]:
        async with received_form(_request(_body(files)), spool, LIMITS) as form:
            seen = []
            for upload in form.uploads:
                content = upload.content
                data = content if isinstance(content, bytes) else content.read_bytes()
                assert hashlib.sha256(data).hexdigest() == upload.ref.sha256  # type: ignore[union-attr]
                assert upload.ref.size == len(data)  # type: ignore[union-attr]
                on_disk = isinstance(content, Path) and content.exists()
                seen.append((upload.ref.sha256, isinstance(content, bytes), on_disk))  # type: ignore[union-attr]
            assert [s[0] for s in seen] == [hashlib.sha256(f).hexdigest() for f in files]
            return seen

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread of a test process.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, read()).result()
    assert not list(spool.iterdir()), "spool files were left behind"
    return seen


def test_a_small_upload_is_held_in_memory_without_a_spool_file(tmp_path: Path) -> None:
    seen = _receive(tmp_path, [b"%PDF-1.4\n" + b"a" * 40_000])
    assert [(memory, disk) for _, memory, disk in seen] == [(True, False)]


def test_files_beyond_the_first_megabyte_of_a_request_go_to_spool_files(tmp_path: Path) -> None:
    first, second = b"%PDF-1.4\n" + b"b" * 700_000, b"%PDF-1.4\n" + b"c" * 700_000
    big = b"%PDF-1.4\n" + b"d" * 3 * 2**20
    seen = _receive(tmp_path, [first, second, big])
    assert [(memory, disk) for _, memory, disk in seen] == [
        (True, False),  # fits the request's first megabyte
        (False, True),  # would exceed it: spilled to disk, what arrived before included
        (False, True),
    ]
