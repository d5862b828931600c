"""Plain value types of the OCR library: options in, results and quality flags out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

TEXT_LAYER = "text-layer"
OCR = "ocr"


@dataclass(frozen=True)
class OcrOptions:
    """How documents are read. Every limit is a setting, none is read from the environment."""

    languages: str = "deu+eng"
    dpi: int = 300
    min_confidence: float = 60.0
    page_timeout_s: float = 120.0
    jobs: int | None = None  # None = all cores
    max_pages: int = 100
    max_page_pixels: int = 100_000_000  # about A3 at 600 dpi
    min_page_pixels: int = 10_000  # smaller than this cannot hold a letter
    max_document_pixels: int = 600_000_000  # decoded for OCR per document; ~68 A4 at 300 dpi
    deskew: bool = True
    read_codes: bool = True  # look for QR codes on every page (PageResult.codes)
    codes_dpi: int = 150  # text-layer pages are rendered this fine for QR detection only


@dataclass(frozen=True)
class PageResult:
    """What was read from one page."""

    number: int  # 1-based
    text: str
    confidence: float  # mean word confidence 0..100; 100 for a text layer, 0 when nothing read
    rotation: int  # degrees the page was turned clockwise to read it (0, 90, 180, 270)
    method: str  # "text-layer" or "ocr"
    skew: float = 0.0  # degrees of deskew applied (counter-clockwise positive)
    words: int = 0
    seconds: float = 0.0
    codes: tuple[str, ...] = ()  # texts of the QR codes on the page, top to bottom


@dataclass(frozen=True)
class QualityFlag:
    """A reason to send an item to triage: a stable ``code`` and a German ``message``."""

    code: str
    message: str
    page: int | None = None


@dataclass(frozen=True)
class OcrResult:
    """The text of one document, page by page, with its quality flags and a searchable PDF."""

    method: str  # "text-layer" when every page had a real text layer, else "ocr"
    pages: tuple[PageResult, ...]
    flags: tuple[QualityFlag, ...] = ()
    searchable_pdf: bytes | None = field(default=None, repr=False)  # when no path was given
    searchable_pdf_path: Path | None = None  # the caller's ``searchable_pdf_to``, once written

    @property
    def text(self) -> str:
        return "\f".join(page.text for page in self.pages)

    @property
    def needs_triage(self) -> bool:
        return bool(self.flags)


class OcrError(Exception):
    """The file cannot be read at all. ``str(exc)`` names the problem in English."""

    def __init__(self, code: str, reason: str, german_message: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.german_message = german_message

    @property
    def flag(self) -> QualityFlag:
        """The error as a document-level quality flag, for items that go to triage."""
        return QualityFlag(code=self.code, message=self.german_message, page=None)

    def __reduce__(self) -> tuple[type[OcrError], tuple[str, str, str]]:
        # Exceptions pickle their ``args``; this one crosses process boundaries whole.
        return (OcrError, (self.code, self.reason, self.german_message))
