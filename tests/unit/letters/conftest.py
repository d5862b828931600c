"""The sample city's letter templates, rendered once per session."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from letters import RenderedLetter, TemplateLibrary

ROOT = Path(__file__).resolve().parents[3]
LINDENAU_LETTERS = ROOT / "mailroom" / "cities" / "lindenau" / "letters"
TEMPLATES = ("anforderung_unterlagen", "begleitschreiben", "bescheid", "eingangsbestaetigung")


@pytest.fixture(scope="session")
def library() -> TemplateLibrary:
    return TemplateLibrary(LINDENAU_LETTERS)


@pytest.fixture(scope="session")
def samples(library: TemplateLibrary) -> dict[str, RenderedLetter]:
    return {name: library.render_sample(name) for name in TEMPLATES}


def sample_data(library: TemplateLibrary, name: str) -> dict[str, Any]:
    return copy.deepcopy(library.info(name).sample)


_PARAGRAPHS_FOR_PAGES = {1: 1, 2: 12, 3: 30}  # with the sample's closing and enclosures


def letter_of_pages(library: TemplateLibrary, pages: int, reference: str) -> RenderedLetter:
    """A Begleitschreiben of exactly ``pages`` pages (1 to 3): a body of so many paragraphs,
    adjusted should the layout change."""
    data = sample_data(library, "begleitschreiben")
    data["info"]["case_reference"] = reference
    paragraph = (
        "Dieser Absatz füllt den Brief, damit er die gewünschte Zahl von Seiten erreicht; "
        "er enthält sonst nichts, was für die Prüfung von Belang wäre."
    )
    count = _PARAGRAPHS_FOR_PAGES[pages]
    for _ in range(40):
        data["body"] = "\n\n".join([paragraph] * count)
        letter = library.render("begleitschreiben", data, qr_payload=reference)
        if letter.pages == pages:
            return letter
        count += 1 if letter.pages < pages else -1
        count = max(count, 1)
    raise AssertionError(f"no body gives exactly {pages} pages")
