"""Letters benchmark: rendering speed, a print batch of 1,000 letters, QR detection cost.

    .venv/bin/python bench/letters.py [--letters 200] [--batch 1000] [--template bescheid]
                                      [--compare-pypdf] [--keep DIR]

1. Renders ``--letters`` letters of one template (the sample's data varied per letter:
   recipient, reference, length of the reasoning) in this process with one TemplateLibrary,
   after one warm-up letter (fonts, stylesheet), and prints letters per second; then a few
   letters the naive way (a new library, hence fonts and stylesheet, per letter).
2. Builds one duplex print batch of ``--batch`` letters (the rendered ones, cycled) and
   prints its time and memory: the peak of Python allocations during the build
   (tracemalloc, in a second run) and the process's peak RSS; with ``--compare-pypdf`` the
   same batch through pypdf's PdfWriter, for comparison.
3. Prints what QR detection costs the OCR: a text-layer page rendered at 150 dpi and
   searched, and a 300-dpi scan without a code (both passes).
"""

from __future__ import annotations

import argparse
import copy
import io
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from letters import RenderedLetter, TemplateLibrary  # noqa: E402
from letters.batch import BatchLetter, build_batch  # noqa: E402

TEMPLATES = PROJECT_ROOT / "mailroom" / "cities" / "lindenau" / "letters"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SURNAMES = ("Yılmaz", "Schmidt", "Müller", "Nowak", "Becker", "Hoffmann", "Öztürk", "Krüger")
STREETS = ("Lindenstraße", "Am Markt", "Bahnhofstraße", "Weidenweg", "Kirchplatz")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def reference(index: int) -> str:
    code = "".join(ALPHABET[(index * 7 + k * 13) % 32] for k in range(8))
    return f"LIN-2026-{code[:4]}-{code[4:]}"


def varied(sample: dict[str, Any], index: int) -> dict[str, Any]:
    data = copy.deepcopy(sample)
    surname = SURNAMES[index % len(SURNAMES)]
    data["recipient"]["name"] = f"Herr Max {surname}"
    data["recipient"]["lines"] = [
        f"{STREETS[index % len(STREETS)]} {index % 90 + 1}",
        "59999 Lindenau",
    ]
    data["salutation"] = f"Guten Tag Max {surname},"
    data["info"]["case_reference"] = reference(index)
    if "reasoning" in data:  # a Bescheid: a longer reasoning for every third (three pages)
        extra = "Ergänzend wird auf die Stellungnahme vom 20.11.2026 verwiesen. "
        data["reasoning"] += "\n\n" + extra * (3 + index % 7 + (25 if index % 3 == 2 else 0))
    return data


def bench_render(template: str, count: int) -> list[RenderedLetter]:
    started = time.perf_counter()
    library = TemplateLibrary(TEMPLATES)
    sample = library.info(template).sample
    first = library.render(template, varied(sample, 0), qr_payload=reference(0))
    warm_up = time.perf_counter() - started
    letters, seconds = [first], []
    for index in range(1, count):
        data = varied(sample, index)
        began = time.perf_counter()
        letters.append(library.render(template, data, qr_payload=reference(index)))
        seconds.append(time.perf_counter() - began)
    total = sum(seconds)
    pages = [letter.pages for letter in letters]
    print(f"== rendering: {count} letters of {template!r}, one process, one library")
    print(f"first letter (fonts, stylesheet, templates): {warm_up * 1000:.0f} ms")
    print(
        f"then {len(seconds)} letters in {total:.2f} s: {len(seconds) / total:.1f} letters/s, "
        f"mean {statistics.mean(seconds) * 1000:.0f} ms, "
        f"p95 {sorted(seconds)[int(len(seconds) * 0.95)] * 1000:.0f} ms, "
        f"pages {min(pages)}–{max(pages)} (mean {statistics.mean(pages):.1f}), "
        f"{statistics.mean(len(letter.pdf) for letter in letters) / 1024:.0f} KB each"
    )
    naive = []
    for index in range(5):
        began = time.perf_counter()
        fresh = TemplateLibrary(TEMPLATES)
        fresh.render(template, varied(sample, index), qr_payload=reference(index))
        naive.append(time.perf_counter() - began)
    print(
        f"naive (new library, fonts and stylesheet per letter): "
        f"mean {statistics.mean(naive) * 1000:.0f} ms per letter"
    )
    return letters


def one_page_letters(count: int) -> list[RenderedLetter]:
    """Eingangsbestätigungen (one page each), so that the batch needs blank backs."""
    library = TemplateLibrary(TEMPLATES)
    sample = library.info("eingangsbestaetigung").sample
    return [
        library.render("eingangsbestaetigung", varied(sample, i), qr_payload=reference(i))
        for i in range(count)
    ]


def batch_letters(letters: list[RenderedLetter], count: int) -> Iterator[BatchLetter]:
    for index in range(count):
        letter = letters[index % len(letters)]
        yield BatchLetter(str(index), reference(index), f"Empfänger {index}", letter.pdf)


def bench_batch(letters: list[RenderedLetter], count: int, out: Path, compare: bool) -> None:
    print(f"\n== print batch: {count} letters, duplex (cycling {len(letters)} rendered ones)")
    before = rss_mb()
    started = time.perf_counter()
    manifest = build_batch(batch_letters(letters, count), out)
    seconds = time.perf_counter() - started
    pages = sum(entry.sheets * 2 for entry in manifest)
    print(
        f"built in {seconds:.2f} s ({count / seconds:.0f} letters/s): {len(manifest)} letters, "
        f"{sum(e.pages for e in manifest)} letter pages + {pages - sum(e.pages for e in manifest)}"
        f" blank backs = {pages} pages on {sum(e.sheets for e in manifest)} sheets, "
        f"{out.stat().st_size / 2**20:.1f} MB"
    )
    tracemalloc.start()
    build_batch(batch_letters(letters, count), out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak Python allocations while building: {peak / 2**20:.1f} MB (tracemalloc); "
        f"process peak RSS {rss_mb():.0f} MB (before the batch: {before:.0f} MB)"
    )
    if compare:
        from pypdf import PdfReader, PdfWriter

        tracemalloc.start()
        started = time.perf_counter()
        writer = PdfWriter()
        for letter in batch_letters(letters, count):
            reader = PdfReader(io.BytesIO(letter.pdf))
            writer.append(reader)
            if len(reader.pages) % 2:
                writer.add_blank_page()
        with (out.parent / "pypdf.pdf").open("wb") as file:
            writer.write(file)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"pypdf PdfWriter, same batch: {seconds:.2f} s (under tracemalloc), "
            f"peak {peak / 2**20:.0f} MB"
        )


def bench_qr(letter: RenderedLetter) -> None:
    import pypdfium2 as pdfium

    from ocr.barcodes import read_qr_codes
    from tests.fixtures import scans

    print("\n== QR detection (what ocr pays per page)")
    document = pdfium.PdfDocument(letter.pdf)
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        image = document[0].render(scale=150 / 72, grayscale=True).to_pil()
        found = read_qr_codes(image)
    text_page = (time.perf_counter() - started) / rounds
    document.close()
    scan = scans.dirtied(scans.letter_page().resize((2480, 3508)))
    started = time.perf_counter()
    for _ in range(rounds):
        assert read_qr_codes(scan) == ()
    no_code = (time.perf_counter() - started) / rounds
    print(
        f"text-layer page, rendered at 150 dpi and searched: {text_page * 1000:.1f} ms "
        f"(found {found})"
    )
    print(f"300-dpi scan without a code (first pass + second pass): {no_code * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=200, help="letters to render")
    parser.add_argument("--batch", type=int, default=1000, help="letters in the print batch")
    parser.add_argument("--template", default="bescheid")
    parser.add_argument("--compare-pypdf", action="store_true", help="also time pypdf's writer")
    parser.add_argument("--keep", type=Path, help="write the batch PDF into this folder")
    args = parser.parse_args()

    letters = bench_render(args.template, max(2, args.letters))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        mixed = [*letters, *one_page_letters(max(1, len(letters) // 2))]
        bench_batch(mixed, args.batch, folder / "batch.pdf", args.compare_pypdf)
    bench_qr(letters[0])


if __name__ == "__main__":
    main()
