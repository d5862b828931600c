"""Unreadable files: one factory per problem, each with a stable code and a German message."""

from __future__ import annotations

from ocr.models import OcrError

_RESCAN = "bitte neu scannen oder von Hand erfassen"


def empty_file() -> OcrError:
    return OcrError("empty_file", "empty file", f"Die Datei ist leer – {_RESCAN}.")


def zip_archive() -> OcrError:
    return OcrError(
        "zip_archive",
        "file is a ZIP archive, not a PDF or image",
        "Die Datei ist ein ZIP-Archiv, kein PDF oder Bild – bitte Dokumente einzeln einreichen.",
    )


def html_file() -> OcrError:
    return OcrError(
        "html_file",
        "file is HTML, not a PDF or image",
        "Die Datei ist eine HTML-Seite, kein PDF oder Bild – bitte das Dokument erneut hochladen.",
    )


def not_a_pdf() -> OcrError:
    return OcrError(
        "not_a_pdf",
        "not a PDF (missing %PDF- signature)",
        f"Die Datei ist kein gültiges PDF (Kennung %PDF- fehlt) – {_RESCAN}.",
    )


def unsupported_type(kind: str) -> OcrError:
    return OcrError(
        "unsupported_type",
        f"unsupported file type ({kind}); expected PDF, TIFF, PNG or JPEG",
        "Dateityp wird nicht unterstützt – erwartet werden PDF, TIFF, PNG oder JPEG.",
    )


def damaged_pdf() -> OcrError:
    return OcrError(
        "damaged_pdf",
        "PDF is damaged or truncated",
        f"Das PDF ist beschädigt oder unvollständig – {_RESCAN}.",
    )


def password_protected() -> OcrError:
    return OcrError(
        "password_protected",
        "PDF is password-protected",
        "Das PDF ist mit einem Passwort geschützt – bitte ungeschützt einreichen lassen.",
    )


def no_pages() -> OcrError:
    return OcrError("no_pages", "PDF has no pages", f"Das PDF enthält keine Seiten – {_RESCAN}.")


def too_many_pages(count: int, limit: int) -> OcrError:
    return OcrError(
        "too_many_pages",
        f"too many pages ({count} > limit {limit})",
        f"Zu viele Seiten ({count}, höchstens {limit}) – wurde ein Stapel nicht getrennt?",
    )


def image_too_large(width: int, height: int, limit: int) -> OcrError:
    return OcrError(
        "image_too_large",
        f"image too large ({width}×{height} px, limit {limit // 1_000_000} MP)",
        f"Das Bild ist zu groß ({width}×{height} Pixel) – bitte mit 300 dpi neu scannen.",
    )


def image_too_small(width: int, height: int) -> OcrError:
    return OcrError(
        "image_too_small",
        f"image too small to contain a letter ({width}×{height} px)",
        f"Das Bild ist zu klein für ein Schriftstück ({width}×{height} Pixel) – {_RESCAN}.",
    )


def image_damaged(detail: str) -> OcrError:
    return OcrError(
        "image_damaged",
        f"image is damaged or truncated ({detail})",
        f"Das Bild ist beschädigt oder unvollständig – {_RESCAN}.",
    )


def pixel_budget_exceeded(pixels: int, budget: int) -> OcrError:
    return OcrError(
        "pixel_budget_exceeded",
        f"document too large to read (first page alone {pixels // 1_000_000} MP, "
        f"budget {budget // 1_000_000} MP)",
        "Das Dokument ist zu groß, um automatisch gelesen zu werden – bitte von Hand erfassen.",
    )


def document_unreadable(detail: str) -> OcrError:
    """A problem in the file that none of the checks above names (the cause is logged)."""
    return OcrError(
        "document_unreadable",
        f"document cannot be read ({detail})",
        f"Das Dokument konnte nicht gelesen werden – {_RESCAN}.",
    )
