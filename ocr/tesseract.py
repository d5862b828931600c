"""Tesseract through pytesseract: one recognition pass per page, OSD only when asked.

The recognition pass writes the plain text, a TSV of word boxes and confidences and a
text-only PDF (for the searchable PDF) in one go. Orientation and script detection
(``--psm 0``) costs about half a page's recognition time, so the page pipeline calls it only
when its own cheap estimate is unsure.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from pytesseract import pytesseract

_PSM_AUTO = "3"  # fully automatic page segmentation, no OSD (the page arrives upright)
_TSV_WORD_LEVEL = "5"
_OSD_ROTATE = re.compile(r"^Rotate: (\d+)", re.MULTILINE)


class TesseractTimeoutError(Exception):
    """Tesseract did not finish within its time limit (its process was killed)."""


class TesseractFailedError(Exception):
    """Tesseract exited with an error for this page."""


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int
    line: tuple[int, int, int]  # block, paragraph, line


@dataclass(frozen=True)
class TesseractOutput:
    text: str
    words: tuple[Word, ...]
    text_only_pdf: bytes


def recognise(
    image_path: Path, *, languages: str, dpi: int | None, timeout_s: float
) -> TesseractOutput:
    """Run Tesseract on an image file once and collect its outputs from a work folder."""
    output_base = image_path.with_suffix("")
    config = ["--psm", _PSM_AUTO, "-c", "tessedit_create_tsv=1", "-c", "textonly_pdf=1"]
    if dpi:
        config += ["--dpi", str(dpi)]
    _run(image_path, output_base, "txt pdf", languages, " ".join(config), timeout_s)
    try:
        text = output_base.with_suffix(".txt").read_text(encoding="utf-8")
        words = parse_tsv(output_base.with_suffix(".tsv").read_text(encoding="utf-8"))
        text_only_pdf = output_base.with_suffix(".pdf").read_bytes()
    except FileNotFoundError as exc:  # Tesseract exited 0 but wrote nothing for this image
        raise TesseractFailedError(f"no output: {exc.filename}") from exc
    return TesseractOutput(text=text, words=words, text_only_pdf=text_only_pdf)


def detect_rotation(image_path: Path, *, dpi: int | None, timeout_s: float) -> int | None:
    """Tesseract's OSD verdict: clockwise degrees that make the page upright, None if unsure.

    Runs Tesseract directly rather than through ``image_to_osd``, which would put its output
    in the system temp directory instead of beside the image (the engine's work directory).
    """
    output_base = image_path.with_name(f"{image_path.stem}-osd")
    config = ["--psm", "0"] + (["--dpi", str(dpi)] if dpi else [])
    try:
        _run(image_path, output_base, "osd", "osd", " ".join(config), timeout_s)
        report = output_base.with_suffix(".osd").read_text(encoding="utf-8")
    except (TesseractFailedError, FileNotFoundError):  # e.g. "Too few characters", blank page
        return None
    match = _OSD_ROTATE.search(report)
    return int(match.group(1)) % 360 if match else None


def _run(
    image_path: Path, output_base: Path, extension: str, lang: str, config: str, timeout_s: float
) -> None:
    """One Tesseract process; its errors as TesseractFailedError or TesseractTimeoutError.

    ``TesseractError`` is a subclass of ``RuntimeError``, the class pytesseract also uses for
    its own timeout, so it must be caught first. A missing binary (``TesseractNotFoundError``,
    an OSError) is not caught: that is the machine's problem, not the page's.
    """
    try:
        pytesseract.run_tesseract(
            str(image_path),
            str(output_base),
            extension=extension,
            lang=lang,
            config=config,
            timeout=max(1.0, timeout_s),
        )
    except pytesseract.TesseractError as exc:
        raise TesseractFailedError(str(exc)) from exc
    except RuntimeError as exc:  # pytesseract signals its own timeout this way
        if "timeout" in str(exc).lower():
            raise TesseractTimeoutError(str(exc)) from exc
        raise


def parse_tsv(tsv: str) -> tuple[Word, ...]:
    """Words (level 5 rows with text) from Tesseract's TSV output."""
    rows = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    words = []
    for row in rows:
        text = (row.get("text") or "").strip()
        if row.get("level") != _TSV_WORD_LEVEL or not text:
            continue
        words.append(
            Word(
                text=text,
                confidence=float(row["conf"]),
                left=int(row["left"]),
                top=int(row["top"]),
                width=int(row["width"]),
                height=int(row["height"]),
                line=(int(row["block_num"]), int(row["par_num"]), int(row["line_num"])),
            )
        )
    return tuple(words)
