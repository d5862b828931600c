"""Print batches: one PDF, every letter on a front side, a manifest that says where."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from letters import LetterError, RenderedLetter, TemplateLibrary
from letters.batch import BatchLetter, ManifestEntry, build_batch
from tests.unit.letters.conftest import letter_of_pages
from tests.unit.letters.helpers import page_codes, page_texts

REFERENCES = ("LIN-2026-P9XB-3RVQ", "LIN-2026-H4TW-8M2G", "LIN-2026-7K3F-92QX")


@pytest.fixture(scope="module")
def one_two_three(library: TemplateLibrary) -> list[RenderedLetter]:
    """Letters of one, two and three pages."""
    return [letter_of_pages(library, pages, REFERENCES[pages - 1]) for pages in (1, 2, 3)]


def batch_letters(letters: list[RenderedLetter]) -> list[BatchLetter]:
    return [
        BatchLetter(f"letter-{i}", REFERENCES[i], f"Empfänger {i}, 59999 Lindenau", letter.pdf)
        for i, letter in enumerate(letters)
    ]


def is_blank(pdf: bytes, index: int) -> bool:
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[index].render(scale=0.3, grayscale=True).to_pil()
        return image.getextrema() == (255, 255)
    finally:
        document.close()


def test_duplex_every_letter_starts_on_a_front_side(
    one_two_three: list[RenderedLetter], tmp_path: Path
) -> None:
    out = tmp_path / "batch.pdf"

    manifest = build_batch(batch_letters(one_two_three), out)

    assert manifest == [
        ManifestEntry("letter-0", REFERENCES[0], 1, 1, 1, "Empfänger 0, 59999 Lindenau"),
        ManifestEntry("letter-1", REFERENCES[1], 2, 1, 3, "Empfänger 1, 59999 Lindenau"),
        ManifestEntry("letter-2", REFERENCES[2], 3, 2, 5, "Empfänger 2, 59999 Lindenau"),
    ]
    pdf = out.read_bytes()
    texts = page_texts(pdf)
    assert len(texts) == 8  # 1 + blank, 2, 3 + blank
    blanks = [index + 1 for index in range(8) if is_blank(pdf, index)]
    assert blanks == [2, 8]
    for entry in manifest:
        first = entry.first_page - 1
        assert f"Seite 1 von {entry.pages}" in texts[first]
        for offset in range(entry.pages):
            assert [c.text for c in page_codes(pdf, first + offset)] == [entry.case_reference]
    assert not list(tmp_path.glob(".*partial"))


def test_simplex_has_no_blank_pages(one_two_three: list[RenderedLetter], tmp_path: Path) -> None:
    out = tmp_path / "simplex.pdf"

    manifest = build_batch(batch_letters(one_two_three), out, duplex=False)

    assert [(m.pages, m.sheets, m.first_page) for m in manifest] == [
        (1, 1, 1),
        (2, 2, 2),
        (3, 3, 4),
    ]
    assert len(page_texts(out.read_bytes())) == 6


def test_the_batch_is_a_valid_pdf_with_a_bookmark_per_letter(
    one_two_three: list[RenderedLetter], tmp_path: Path
) -> None:
    out = tmp_path / "batch.pdf"
    build_batch(iter(batch_letters(one_two_three)), out)  # any iterable, consumed once

    reader = PdfReader(io.BytesIO(out.read_bytes()), strict=True)

    assert len(reader.pages) == 8
    titles = [item.title for item in reader.outline]
    assert titles == [f"{REFERENCES[i]} – Empfänger {i}, 59999 Lindenau" for i in range(3)]
    assert [reader.get_destination_page_number(item) for item in reader.outline] == [0, 2, 4]
    assert "Sparkasse Lindenau" in reader.pages[4].extract_text()
    sizes = {
        (round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages
    }
    assert sizes == {(595, 842)}  # A4, the blank backs too


def test_an_unreadable_letter_is_named_and_nothing_is_written(
    one_two_three: list[RenderedLetter], tmp_path: Path
) -> None:
    out = tmp_path / "batch.pdf"
    letters = [*batch_letters(one_two_three[:1]), BatchLetter("broken", "X", "Y", b"not a pdf")]

    with pytest.raises(LetterError, match="broken"):
        build_batch(letters, out)

    assert list(tmp_path.iterdir()) == []


def test_an_empty_batch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LetterError):
        build_batch([], tmp_path / "batch.pdf")
    assert list(tmp_path.iterdir()) == []


def test_a_large_batch_keeps_memory_flat(
    one_two_three: list[RenderedLetter], tmp_path: Path
) -> None:
    """120 letters: the writer keeps offsets, not pages (bench/letters.py measures 1,000)."""
    import tracemalloc

    def letters() -> Iterator[BatchLetter]:
        for index in range(120):
            letter = one_two_three[index % 3]
            yield BatchLetter(str(index), REFERENCES[index % 3], "R", letter.pdf)

    tracemalloc.start()
    try:
        manifest = build_batch(letters(), tmp_path / "large.pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(manifest) == 120
    assert manifest[-1].first_page == 1 + 39 * (2 + 2 + 4) + 2 + 2
    assert peak < 10 * 2**20, f"{peak / 2**20:.0f} MB"  # pypdf's PdfWriter: about 25 MB
    assert len(PdfReader(tmp_path / "large.pdf").pages) == 40 * 8
