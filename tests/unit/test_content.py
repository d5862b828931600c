"""Spooled uploads are searched chunk by chunk with the same answers as in memory."""

import random

import pytest

from mailroom.intake import content as content_module
from mailroom.intake.content import Content, SlicedFile


@pytest.mark.parametrize("seed", range(5))
def test_counting_and_searching_a_file_agrees_with_bytes(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    path = tmp_path / "upload"
    for round_ in range(60):
        data = bytes(rng.choice(b" objstarxef") for _ in range(rng.randint(0, 3000)))
        path.write_bytes(data)
        monkeypatch.setattr(content_module, "_CHUNK", rng.randint(1, 64))
        on_disk, in_memory = Content(path=path), Content(data=data)
        for needle in (b" obj", b"startxref"):
            assert on_disk.count(needle) == in_memory.count(needle) == data.count(needle), round_
            start = rng.randint(0, 50)
            assert on_disk.rfind(needle, start) == data.rfind(needle, start), round_


def test_a_sliced_file_hides_what_comes_before_the_pdf_header(tmp_path):
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"JUNK%PDF-1.4 rest")
    with SlicedFile(path.open("rb"), 4) as view:
        assert view.read(8) == b"%PDF-1.4"
        view.seek(0)
        assert view.tell() == 0 and view.read() == b"%PDF-1.4 rest"
