"""Polyglots (data hidden after a file's end marker) are refused as ``trailing_data``;
what real files carry after their end (incremental PDF updates, padding, a multi-picture
JPEG's further images) is accepted."""

from __future__ import annotations

import pytest

from mailroom.intake.inspection import RejectedFileError, TrailingDataError, inspect_file
from tests.fixtures.documents import tiff_pages, zip_bytes
from tests.fixtures.polyglots import HARMLESS, POLYGLOTS


@pytest.mark.parametrize("kind", POLYGLOTS)
def test_a_polyglot_is_refused_as_trailing_data(kind: str):
    with pytest.raises(RejectedFileError) as caught:
        inspect_file(POLYGLOTS[kind](), filename="antrag")
    assert isinstance(caught.value, TrailingDataError)
    assert caught.value.code == "trailing_data"
    assert caught.value.message.startswith("antrag: file has ")


@pytest.mark.parametrize("kind", HARMLESS)
def test_a_real_files_ending_is_accepted(kind: str):
    inspected = inspect_file(HARMLESS[kind]())
    assert inspected.pages == 1


@pytest.mark.parametrize(
    ("kind", "named"),
    [("pdf + zip", "a ZIP archive"), ("pdf + html", "an HTML page"), ("png + zip", "ZIP")],
)
def test_the_message_names_what_was_hidden(kind: str, named: str):
    with pytest.raises(TrailingDataError, match=named):
        inspect_file(POLYGLOTS[kind]())


def test_a_tiff_ending_in_a_zip_archive_is_refused():
    with pytest.raises(TrailingDataError, match="ZIP archive"):
        inspect_file(tiff_pages(1) + zip_bytes())


def test_a_spooled_polyglot_is_refused_like_one_in_memory(tmp_path):
    big = tmp_path / "scan.pdf"
    big.write_bytes(POLYGLOTS["pdf + zip"]() + b" " * (5 * 2**20))  # read piece by piece
    with pytest.raises(TrailingDataError):
        inspect_file(big)
