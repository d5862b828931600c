"""With a work directory, every temporary file of the engine and of its workers lives in it."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocr import OcrEngine, OcrOptions
from tests.fixtures import ocr_documents, scans


@contextmanager
def watching(folders: list[Path]) -> Iterator[dict[Path, set[str]]]:
    """Every name that appears in ``folders`` while the block runs (polled every ms)."""
    seen: dict[Path, set[str]] = {folder: set() for folder in folders}
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.001):
            for folder, names in seen.items():
                names.update(os.listdir(folder))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        done.set()
        watcher.join()


def test_the_engine_and_its_workers_write_only_inside_the_work_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN the system temp directory and the working directory redirected to traps WHEN
    an image (whose orientation needs Tesseract's OSD) and a scan PDF are read with a work
    directory THEN nothing appears in the traps, and the work directory is left empty."""
    system_temp, cwd, work = (tmp_path / name for name in ("system-temp", "cwd", "work"))
    for folder in (system_temp, cwd, work):
        folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_temp))  # inherited by the spawned workers
    monkeypatch.setattr(tempfile, "tempdir", None)  # forget the cached default
    monkeypatch.chdir(cwd)

    with (
        OcrEngine(OcrOptions(jobs=1, page_timeout_s=60), work_dir=work) as engine,
        watching([system_temp, cwd, work]) as seen,
    ):
        engine.read(ocr_documents.speck_png())
        engine.read(scans.scan_pdf_bytes([scans.letter_page()]))

    assert seen[system_temp] == set()
    assert seen[cwd] == set()
    assert any(name.startswith("mailroom-doc-") for name in seen[work])
    assert list(work.iterdir()) == []
