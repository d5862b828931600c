"""The steps that read one page, run inside a worker process.

load → read QR codes → binarise → measure skew → deskew → orient (Tesseract OSD only when the
cheap estimate is unsure) → turn upright → recognise (one Tesseract pass) → assess.

Whatever goes wrong with a page comes back as that page's outcome (unreadable, timed out), so
the document's other pages are still read; only failures of the machine itself propagate.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ocr.barcodes import read_qr_codes
from ocr.binarise import binarise
from ocr.deskew import SkewEstimate, deskew, estimate_skew
from ocr.environment import is_environment_error, portable
from ocr.models import OCR, OcrError, OcrOptions, PageResult
from ocr.orientation import detect_orientation
from ocr.pipeline import PipelineDoneError, run_pipeline
from ocr.raster import PageRaster, Placement, load_page
from ocr.reading_order import reading_order_text
from ocr.sniff import FileKind
from ocr.tesseract import (
    TesseractOutput,
    TesseractTimeoutError,
    Word,
    detect_rotation,
    recognise,
)

_TURN_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}

_MAX_CAUSE_CHARS = 300  # Tesseract's stderr can be long
_CONFIDENT_WORD = 50.0  # words below this confidence do not count as text on a blank page
_MIN_CONFIDENT_CHARACTERS = 6  # fewer letters and digits than this: the page is blank


@dataclass(frozen=True)
class PageJob:
    """One page to read: a file written by the engine, which page, and how."""

    source: Path
    kind: FileKind
    index: int  # 0-based
    options: OcrOptions
    work_dir: Path | None = None  # where the page's temp files go; None = system temp

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def timeout_s(self) -> float:
        return self.options.page_timeout_s

    @property
    def label(self) -> str:
        return f"page {self.number}"


@dataclass(frozen=True)
class PageOutcome:
    """What a worker sends back for one page."""

    result: PageResult
    text_only_pdf: bytes | None = None
    placement: Placement | None = None
    raster_size: tuple[int, int] = (0, 0)
    blank: bool = False
    timed_out: bool = False
    failure: OcrError | None = None


@dataclass
class PageContext:
    job: PageJob
    workdir: Path
    started: float = field(default_factory=time.monotonic)
    raster: PageRaster | None = None
    image: Image.Image | None = None
    skew: SkewEstimate | None = None
    rotation: int = 0
    tesseract: TesseractOutput | None = None
    codes: tuple[str, ...] = ()
    outcome: PageOutcome | None = None

    def seconds_left(self) -> float:
        left = self.job.options.page_timeout_s - (time.monotonic() - self.started)
        if left <= 0:
            raise TesseractTimeoutError("page time limit reached")
        return left

    @property
    def dpi(self) -> int | None:
        return round(self.raster.dpi) if self.raster and self.raster.dpi else None

    def write_image(self, name: str) -> Path:
        """The page as a file for Tesseract: TIFF, G4 when bilevel.

        Not PBM/PGM: Leptonica's PNM reader skips whitespace after the header, so a raster
        whose first byte reads as whitespace (a black pixel at x=2 is 0x20) fails to load.
        G4 costs about 3 ms more per 300-dpi page to write and is 1/70 of the size.
        """
        assert self.image is not None
        path = self.workdir / f"{name}.tiff"
        compression = "group4" if self.image.mode == "1" else "raw"
        self.image.save(path, format="TIFF", compression=compression)
        return path


class LoadPage:
    name = "load-page"

    def applies(self, context: PageContext) -> bool:
        return context.raster is None

    def run(self, context: PageContext) -> None:
        job = context.job
        options = job.options
        context.raster = load_page(
            job.source, job.kind, job.index, dpi=options.dpi, max_pixels=options.max_page_pixels
        )
        context.image = context.raster.image


class ReadCodes:
    """QR codes (our letters' case reference) from the page as loaded: zxing-cpp does its own
    binarising and finds codes in any orientation, so this needs no deskew or turn."""

    name = "read-codes"

    def applies(self, context: PageContext) -> bool:
        return context.raster is not None and context.job.options.read_codes

    def run(self, context: PageContext) -> None:
        assert context.raster is not None
        context.codes = read_qr_codes(context.raster.image)


class Binarise:
    name = "binarise"

    def applies(self, context: PageContext) -> bool:
        return context.image is not None

    def run(self, context: PageContext) -> None:
        assert context.image is not None
        context.image = binarise(context.image)


class Deskew:
    name = "deskew"

    def applies(self, context: PageContext) -> bool:
        return context.image is not None

    def run(self, context: PageContext) -> None:
        assert context.image is not None
        context.skew = estimate_skew(context.image)
        if context.job.options.deskew:
            context.image = deskew(context.image, context.skew.angle)


class Orient:
    """Turn the page upright: own estimate when it is sure, else one Tesseract OSD pass."""

    name = "orient"

    def applies(self, context: PageContext) -> bool:
        return context.image is not None and context.skew is not None

    def run(self, context: PageContext) -> None:
        assert context.image is not None and context.skew is not None
        estimate = detect_orientation(context.image, lines_vertical=context.skew.lines_vertical)
        rotation: int | None = estimate.rotation
        if not (estimate.certain and context.skew.axis_certain):
            osd_image = context.write_image("osd")
            rotation = detect_rotation(osd_image, dpi=context.dpi, timeout_s=context.seconds_left())
        context.rotation = rotation if rotation is not None else estimate.rotation
        if context.rotation in _TURN_CLOCKWISE:
            context.image = context.image.transpose(_TURN_CLOCKWISE[context.rotation])


class Recognise:
    name = "recognise"

    def applies(self, context: PageContext) -> bool:
        return context.image is not None

    def run(self, context: PageContext) -> None:
        image_path = context.write_image("page")
        context.tesseract = recognise(
            image_path,
            languages=context.job.options.languages,
            dpi=context.dpi,
            timeout_s=context.seconds_left(),
        )


class Assess:
    name = "assess"

    def applies(self, context: PageContext) -> bool:
        return context.tesseract is not None

    def run(self, context: PageContext) -> None:
        assert context.tesseract is not None and context.raster is not None
        assert context.image is not None
        words = context.tesseract.words
        blank = is_blank(words)
        if blank:  # nothing to turn or to overlay; noise must not become text
            context.rotation = 0
        result = PageResult(
            number=context.job.number,
            text="" if blank else reading_order_text(words, *context.image.size).strip(),
            confidence=mean_confidence(words),
            rotation=context.rotation,
            method=OCR,
            skew=context.skew.angle if context.skew and context.job.options.deskew else 0.0,
            words=len(words),
            seconds=time.monotonic() - context.started,
            codes=context.codes,
        )
        context.outcome = PageOutcome(
            result=result,
            text_only_pdf=None if blank else context.tesseract.text_only_pdf,
            placement=context.raster.placement,
            raster_size=context.raster.image.size,
            blank=blank,
        )
        raise PipelineDoneError


PAGE_STEPS = (LoadPage(), ReadCodes(), Binarise(), Deskew(), Orient(), Recognise(), Assess())


def read_page(job: PageJob) -> PageOutcome:
    """Read one page; its failures come back as an outcome, never as an exception.

    Environment failures (see :mod:`ocr.environment`) propagate, in a form that crosses the
    process boundary.
    """
    with tempfile.TemporaryDirectory(prefix="mailroom-ocr-", dir=job.work_dir) as workdir:
        context = PageContext(job=job, workdir=Path(workdir))
        try:
            run_pipeline(PAGE_STEPS, context)
        except TesseractTimeoutError:
            return _empty_outcome(context, timed_out=True)
        except OcrError as exc:
            return _empty_outcome(context, failure=exc)
        except Exception as exc:  # pdfium, Pillow, numpy, Tesseract: this page is unreadable
            if is_environment_error(exc):
                carrier = portable(exc)
                if carrier is exc:
                    raise
                raise carrier from None
            cause = f"{type(exc).__name__}: {str(exc)[:_MAX_CAUSE_CHARS]}"  # logged by the caller
            return _empty_outcome(context, failure=_unreadable_page(job.number, cause))
    if context.outcome is None:
        return _empty_outcome(context, failure=_unreadable_page(job.number, "no outcome"))
    return context.outcome


def mean_confidence(words: tuple[Word, ...]) -> float:
    scored = [word.confidence for word in words if word.confidence >= 0]
    return round(sum(scored) / len(scored), 1) if scored else 0.0


def is_blank(words: tuple[Word, ...]) -> bool:
    """No text worth the name: only a few characters, and only in words Tesseract doubts."""
    confident = sum(
        sum(char.isalnum() for char in word.text)
        for word in words
        if word.confidence >= _CONFIDENT_WORD
    )
    return confident < _MIN_CONFIDENT_CHARACTERS


def _empty_outcome(
    context: PageContext, *, timed_out: bool = False, failure: OcrError | None = None
) -> PageOutcome:
    result = PageResult(
        number=context.job.number,
        text="",
        confidence=0.0,
        rotation=context.rotation,
        method=OCR,
        seconds=time.monotonic() - context.started,
        codes=context.codes,  # read before what failed: the page still names its case
    )
    return PageOutcome(result=result, timed_out=timed_out, failure=failure)


def _unreadable_page(number: int, cause: object) -> OcrError:
    return OcrError(
        "page_unreadable",
        f"page {number} cannot be read ({cause})",
        f"Seite {number} konnte nicht gelesen werden – bitte neu scannen oder von Hand erfassen",
    )
