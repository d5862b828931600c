"""German wording for the codes that events carry (one place for API, web and letters).

Events keep codes so that the wording can improve without rewriting history; this module
turns them into sentences for clerks and citizens at display time.
"""

from __future__ import annotations

_RESCAN = "bitte neu scannen oder von Hand erfassen"

_UNREADABLE_FILE = {
    "empty_file": "Die Datei ist leer",
    "zip_archive": "Die Datei ist ein ZIP-Archiv, kein PDF oder Bild",
    "html_file": "Die Datei ist eine HTML-Seite, kein PDF oder Bild",
    "not_a_pdf": "Die Datei ist kein gültiges PDF",
    "unsupported_type": "Der Dateityp wird nicht unterstützt",
    "damaged_pdf": "Das PDF ist beschädigt oder unvollständig",
    "image_damaged": "Das Bild ist beschädigt oder unvollständig",
    "password_protected": "Das PDF ist mit einem Passwort geschützt",
    "no_pages": "Das PDF enthält keine Seiten",
    "too_many_pages": "Das Dokument hat zu viele Seiten – wurde ein Stapel nicht getrennt?",
    "image_too_large": "Das Bild ist zu groß, um automatisch gelesen zu werden",
    "image_too_small": "Das Bild ist zu klein für ein Schriftstück",
    "pixel_budget_exceeded": "Das Dokument ist zu groß, um automatisch gelesen zu werden",
    "document_unreadable": "Das Dokument konnte nicht gelesen werden",
    "blob_missing": "Die Datei wurde im Dokumentenspeicher nicht gefunden",
}

TRIAGE_RESCAN = "Bitte neu scannen oder von Hand erfassen"
TRIAGE_ROUTING_FAILED = "Automatische Zuordnung fehlgeschlagen – bitte von Hand zuordnen"


def extraction_failure(code: str) -> str:
    """Why a document could not be read, for the triage queue."""
    reason = _UNREADABLE_FILE.get(code, "Text konnte nicht gelesen werden")
    return f"{reason} – {_RESCAN}"
