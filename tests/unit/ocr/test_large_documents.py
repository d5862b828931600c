"""A large scan costs the calling process no memory: every step that opens the document runs
in a worker process, and the searchable PDF goes straight to the caller's file."""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest
from pypdf import PdfReader

from ocr import OCR, OcrEngine
from tests.fixtures import scans
from tests.fixtures.ocr_documents import A4_POINTS

MEGABYTES = 100
PAGES = 20  # of random "JPEG" bytes, after one real letter page
MAX_GROWTH_MB = 20.0


def rss_anon_mb() -> float:
    """Anonymous resident memory of this process (the heap, not mapped files or libraries)."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    match = re.search(r"^RssAnon:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1)) / 1024


@contextmanager
def peak_rss_anon_mb() -> Iterator[list[float]]:
    """The highest RssAnon seen while the block runs (sampled every 5 ms), in a list."""
    peak = [rss_anon_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss_anon_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
        peak[0] = max(peak[0], rss_anon_mb())


@pytest.fixture(scope="module")
def large_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_large_scan_pdf(tmp_path_factory.mktemp("large") / "scan.pdf", MEGABYTES, PAGES)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_reading_a_100_mb_scan_does_not_grow_the_calling_process(
    shared_engine: OcrEngine, large_scan: Path, tmp_path: Path
) -> None:
    """GIVEN a 100 MB scan PDF (a letter page and 20 pages of 5 MB image streams) read from a
    stream WHEN read with a searchable PDF to a file THEN this process's anonymous memory
    grows by less than 20 MB (it was about 500 MB), and the PDF has every page."""
    shared_engine.read(scans.scan_pdf_bytes([scans.letter_page()]))  # workers up, both pools
    target = tmp_path / "searchable.pdf"
    before = rss_anon_mb()

    with large_scan.open("rb") as stream, peak_rss_anon_mb() as peak:
        result = shared_engine.read(stream, searchable_pdf_to=target)

    assert peak[0] - before < MAX_GROWTH_MB, f"grew from {before:.0f} to {peak[0]:.0f} MB"
    assert result.method == OCR
    assert len(result.pages) == PAGES + 1
    assert "Personalausweis" in result.pages[0].text
    assert result.searchable_pdf is None
    assert result.searchable_pdf_path == target
    assert target.stat().st_size > MEGABYTES * 2**20
    assert len(PdfReader(target).pages) == PAGES + 1


# --- a large scan, written to disk piece by piece ---


def write_large_scan_pdf(path: Path, megabytes: int, pages: int = 20) -> Path:
    """A scan-like PDF of about ``megabytes`` MB: page 1 a real letter (Flate, 150 dpi), then
    ``pages`` pages of one full-page "JPEG" image of random bytes each (valid structure,
    not decodable: blank or unreadable pages). Written piece by piece, never held whole."""
    letter = scans.letter_page()
    per_page = megabytes * 2**20 // pages
    offsets: dict[int, int] = {}
    with path.open("wb") as out:

        def write_object(number: int, body: bytes, data: bytes | int = b"") -> None:
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n" % number + body)
            if isinstance(data, bytes):
                out.write(data)
            else:  # that many random bytes, a MB at a time
                for start in range(0, data, 2**20):
                    out.write(os.urandom(min(2**20, data - start)))
            out.write(b"\nendstream\nendobj\n" if data else b"\nendobj\n")

        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        kids = []
        for index in range(pages + 1):
            image, content, page = 3 + 3 * index, 4 + 3 * index, 5 + 3 * index
            if index == 0:
                pixels = zlib.compress(letter.tobytes())
                write_object(image, _image_header(letter.size, b"FlateDecode", len(pixels)), pixels)
            else:
                write_object(image, _image_header((2480, 3508), b"DCTDecode", per_page), per_page)
            draw = b"q %d 0 0 %d 0 0 cm /Im0 Do Q" % A4_POINTS
            write_object(content, b"<< /Length %d >>\nstream\n" % len(draw), draw)
            write_object(page, _scan_page(image, content))
            kids.append(b"%d 0 R" % page)
        write_object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        write_object(2, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(kids), b" ".join(kids)))
        _write_xref(out, offsets)
    return path


def _image_header(size: tuple[int, int], codec: bytes, length: int) -> bytes:
    return (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /%s /Length %d >>\nstream\n" % (*size, codec, length)
    )


def _scan_page(image: int, content: int) -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
        % (*A4_POINTS, image, content)
    )


def _write_xref(out: BinaryIO, offsets: dict[int, int]) -> None:
    size = max(offsets) + 1
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
