"""The quality gate: pages a clerk should check, each with a stable code and a German message."""

from __future__ import annotations

from collections.abc import Sequence

from ocr.models import OCR, PageResult, QualityFlag

_RESCAN = "bitte neu scannen oder von Hand erfassen"


def low_confidence(page: int, confidence: float) -> QualityFlag:
    return QualityFlag(
        "low_confidence",
        f"Seite {page} schwer lesbar (Erkennungsgüte {confidence:.0f} %) – {_RESCAN}",
        page,
    )


def blank_page(page: int) -> QualityFlag:
    return QualityFlag("blank_page", f"Seite {page} ist leer (kein Text gefunden)", page)


def no_text() -> QualityFlag:
    return QualityFlag("no_text", f"Im Dokument wurde kein Text gefunden – {_RESCAN}", None)


def page_timeout(page: int, seconds: float) -> QualityFlag:
    return QualityFlag(
        "page_timeout",
        f"Seite {page} konnte nicht in {seconds:.0f} s gelesen werden – bitte von Hand erfassen",
        page,
    )


def page_unreadable(page: int) -> QualityFlag:
    return QualityFlag(
        "page_unreadable", f"Seite {page} konnte nicht gelesen werden – {_RESCAN}", page
    )


def pixel_budget_exceeded(first_unread_page: int) -> QualityFlag:
    return QualityFlag(
        "pixel_budget_exceeded",
        "Das Dokument ist zu groß, um automatisch gelesen zu werden "
        f"(ab Seite {first_unread_page} nicht gelesen) – bitte von Hand erfassen",
        None,
    )


def judge(
    pages: Sequence[PageResult],
    *,
    min_confidence: float,
    blank: frozenset[int],
    failed: dict[int, QualityFlag],
) -> tuple[QualityFlag, ...]:
    """Flag blank, failed and hard-to-read OCR pages, and a document without any text."""
    flags: list[QualityFlag] = []
    for page in pages:
        if page.number in failed:
            flags.append(failed[page.number])
        elif page.number in blank:
            flags.append(blank_page(page.number))
        elif page.method == OCR and page.confidence < min_confidence:
            flags.append(low_confidence(page.number, page.confidence))
    if not any(page.text.strip() for page in pages):
        flags.append(no_text())
    return tuple(flags)
