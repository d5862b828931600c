"""One OCR engine (two workers, PDF pages rendered at 150 dpi to stay fast) for the OCR tests
that need real Tesseract but no special options."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocr import OcrEngine, OcrOptions


@pytest.fixture(scope="session")
def shared_engine() -> Iterator[OcrEngine]:
    with OcrEngine(OcrOptions(jobs=2, page_timeout_s=60, dpi=150)) as engine:
        yield engine
