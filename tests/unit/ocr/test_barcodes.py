"""QR codes on incoming pages (our letters carry their case reference on every page): read
from page images, and reported per page by the engine for scans and text-layer PDFs."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import segno
from PIL import Image, ImageDraw

from letters import TemplateLibrary
from ocr import OCR, TEXT_LAYER, OcrEngine, OcrOptions
from ocr.barcodes import _decode, read_pdf_page_codes, read_qr_codes
from ocr.document_worker import InspectJob, inspect
from ocr.page_pipeline import PageJob, read_page
from ocr.sniff import FileKind
from tests.fixtures import scans

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = "LIN-2026-H4TW-8M2G"
A4_300DPI = (2480, 3508)


def qr_code(payload: str, module_px: int, *, micro: bool = False) -> Image.Image:
    code = segno.make_micro(payload) if micro else segno.make_qr(payload, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=module_px, border=4)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def page_with_code(payload: str = REFERENCE, *, module_px: int = 7) -> Image.Image:
    """A 300-dpi A4 page with a few text lines and a QR code in the bottom-left margin."""
    page = scans.letter_page(font_px=60).resize(A4_300DPI)
    page.paste(qr_code(payload, module_px), (280, 3050))
    return page


def speckled(page: Image.Image, specks: int, *, seed: int = 3) -> Image.Image:
    """Dark toner specks of one to three pixels all over the page (a dirty scanner glass)."""
    dirty = page.copy()
    draw = ImageDraw.Draw(dirty)
    rng = random.Random(seed)
    for _ in range(specks):
        x, y, size = rng.randrange(page.width), rng.randrange(page.height), rng.randint(1, 3)
        draw.ellipse((x, y, x + size, y + size), fill=0)
    return dirty


@pytest.fixture(scope="module")
def rendered_letter() -> bytes:
    library = TemplateLibrary(ROOT / "mailroom" / "cities" / "lindenau" / "letters")
    return library.render_sample("bescheid").pdf  # two pages, QR code LIN-2026-H4TW-8M2G


def letter_scan(pdf: bytes, index: int, dpi: int = 300) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()


# ---- read_qr_codes ------------------------------------------------------------------------


def test_a_generated_qr_code_is_read() -> None:
    assert read_qr_codes(page_with_code()) == (REFERENCE,)


def test_a_page_without_a_qr_code_has_none() -> None:
    assert read_qr_codes(scans.dirtied(scans.letter_page())) == ()
    assert read_qr_codes(scans.blank_page()) == ()


def test_several_codes_come_top_to_bottom_each_once() -> None:
    page = Image.new("L", A4_300DPI, 255)
    page.paste(qr_code("LIN-2026-P9XB-3RVQ", 7), (1500, 2500))
    page.paste(qr_code(REFERENCE, 7), (300, 300))
    page.paste(qr_code(REFERENCE, 7), (300, 3000))

    assert read_qr_codes(page) == (REFERENCE, "LIN-2026-P9XB-3RVQ")


def test_micro_qr_codes_are_not_looked_for() -> None:
    assert qr_code("LIN-1", 12, micro=True).width < qr_code("LIN-1", 12).width
    page = Image.new("L", A4_300DPI, 255)
    page.paste(qr_code("LIN-1", 12, micro=True), (300, 300))

    assert read_qr_codes(page) == ()


def test_a_rotated_noisy_scan_of_our_letter_is_read(rendered_letter: bytes) -> None:
    """GIVEN page 2 of a rendered Bescheid, printed, scanned 4° askew, upside down, on grey
    paper with dust, and saved as JPEG WHEN read THEN the case reference comes back."""
    scan = scans.dirtied(letter_scan(rendered_letter, 1).rotate(4, fillcolor=255, expand=True))
    scan = scan.rotate(180)
    buffer = io.BytesIO()
    scan.save(buffer, format="JPEG", quality=60)

    assert read_qr_codes(Image.open(io.BytesIO(buffer.getvalue()))) == (REFERENCE,)


def test_a_heavily_speckled_low_contrast_scan_needs_and_gets_the_second_pass() -> None:
    faded = page_with_code().point(lambda value: 200 + value * 55 // 255)  # grey on grey
    scan = speckled(faded, 100_000)

    assert _decode(scan) == ()  # the first pass gives up
    assert read_qr_codes(scan) == (REFERENCE,)


def test_a_broken_image_gives_no_codes_instead_of_an_error() -> None:
    assert read_qr_codes(Image.new("L", (1, 1), 255)) == ()


# ---- text-layer PDFs ----------------------------------------------------------------------


def test_text_layer_pages_are_rendered_for_their_codes(
    rendered_letter: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "letter.pdf"
    source.write_bytes(rendered_letter)

    assert read_pdf_page_codes(source, [0, 1], dpi=150) == {0: (REFERENCE,), 1: (REFERENCE,)}
    assert read_pdf_page_codes(source, [], dpi=150) == {}


def test_the_inspection_reports_the_codes_of_text_layer_pages(
    rendered_letter: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "letter.pdf"
    source.write_bytes(rendered_letter)

    inspection = inspect(InspectJob(source, FileKind.PDF, OcrOptions()))
    switched_off = inspect(InspectJob(source, FileKind.PDF, OcrOptions(read_codes=False)))

    assert all(text is not None for text in inspection.text_layers)
    assert inspection.codes == ((0, (REFERENCE,)), (1, (REFERENCE,)))
    assert switched_off.codes == ()


# ---- OCR'd pages --------------------------------------------------------------------------


def test_the_page_pipeline_reads_the_code_of_a_scanned_page(tmp_path: Path) -> None:
    source = tmp_path / "scan.png"
    page_with_code().save(source, dpi=(300, 300))

    outcome = read_page(PageJob(source, FileKind.PNG, 0, OcrOptions(), tmp_path))

    assert outcome.failure is None
    assert outcome.result.codes == (REFERENCE,)
    assert "Lindenau" in outcome.result.text


def test_a_page_that_is_only_a_qr_code_still_reports_it(tmp_path: Path) -> None:
    source = tmp_path / "scan.png"
    page = Image.new("L", A4_300DPI, 255)
    page.paste(qr_code(REFERENCE, 7), (280, 3050))
    page.save(source, dpi=(300, 300))

    outcome = read_page(PageJob(source, FileKind.PNG, 0, OcrOptions(), tmp_path))

    assert outcome.blank
    assert outcome.result.codes == (REFERENCE,)


def test_the_engine_reports_codes_per_page_for_scans_and_text_layers(
    shared_engine: OcrEngine, rendered_letter: bytes
) -> None:
    """GIVEN our letter as born-digital PDF, and a scan of its first page beside a page
    without a code WHEN read THEN each page result carries the codes on that page."""
    digital = shared_engine.read(rendered_letter, searchable_pdf=False)
    scanned = shared_engine.read(
        scans.scan_pdf_bytes([letter_scan(rendered_letter, 0, dpi=150), scans.letter_page()]),
        searchable_pdf=False,
    )

    assert digital.method == TEXT_LAYER
    assert [page.codes for page in digital.pages] == [(REFERENCE,), (REFERENCE,)]
    assert scanned.method == OCR
    assert [page.codes for page in scanned.pages] == [(REFERENCE,), ()]


def test_qr_detection_costs_little_next_to_ocr() -> None:
    """A 300-dpi page without a code (both passes) takes well under a tenth of a second."""
    import time

    page = scans.dirtied(scans.letter_page().resize(A4_300DPI))
    read_qr_codes(page)  # warm up
    started = time.perf_counter()
    for _ in range(3):
        assert read_qr_codes(page) == ()
    assert (time.perf_counter() - started) / 3 < 0.25  # measured ~0.03 s; slack for CI


def test_reading_a_qr_code_leaves_nothing_for_nanobind_to_complain_about_at_exit(
    tmp_path: Path,
) -> None:
    """`mailroom ocr` on a page with a QR code ends without zxing-cpp's "leaked instance"
    lines (a BarcodeFormats set held by the module printed two dozen after the command)."""
    page = tmp_path / "qr.png"
    qr_code(REFERENCE, 8).save(page)
    done = subprocess.run(
        [sys.executable, "-m", "mailroom", "ocr", str(page)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr
