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

TRIAGE_REASONS = {
    "rescan": "Bitte neu scannen oder von Hand erfassen",
    "routing_failed": "Automatische Zuordnung fehlgeschlagen – bitte von Hand zuordnen",
    "uncertain": "Zuständigkeit unsicher – bitte Fachdienst wählen",
    "misdirected": "Vermutlich nicht für die Stadtverwaltung bestimmt",
    "unknown_service": "Unbekannte Leistung im Portalantrag – bitte Fachdienst wählen",
}

QUALITY_ISSUES = {
    "blank_page": "Seite ist leer",
    "no_text": "Kein Text gefunden",
    "low_confidence": "Text schlecht lesbar",
    "processing_failed": "Text konnte nicht gelesen werden",
    "page_timeout": "Seite konnte nicht rechtzeitig gelesen werden",
    "page_unreadable": "Seite konnte nicht gelesen werden",
}

CASE_STATUSES = {
    "open": "Neu",
    "in_progress": "In Bearbeitung",
    "waiting": "Wartet auf Bürger/in",
    "closed": "Abgeschlossen",
}

OUTCOMES = {
    "granted": "Bewilligt",
    "rejected": "Abgelehnt",
    "done": "Erledigt",
    "withdrawn": "Zurückgezogen",
    "handed_over": "An andere Behörde abgegeben",
    "duplicate": "Doppelt erfasst",
}

EXTENSION_REASONS = {
    "complex": "Umfangreiche Prüfung",
    "third_party": "Stellungnahme Dritter steht aus",
    "workload": "Hohes Arbeitsaufkommen",
    "citizen_request": "Auf Wunsch der Bürgerin / des Bürgers",
}

DEADLINE_FLAGS = {
    "on_track": "im Plan",
    "at_risk": "gefährdet",
    "overdue": "überfällig",
    "paused": "wartet auf Bürger/in",
}

ROLES = {
    "clerk": "Sachbearbeitung",
    "mailroom": "Poststelle",
    "lead": "Fachdienstleitung",
    "admin": "Administration",
}

CHANNELS = {"portal": "Online-Antrag", "scan": "Brief (Scan)"}

TIMELINE = {
    "opened": "Vorgang eröffnet",
    "item_attached": "Schriftstück zugeordnet",
    "assigned": "Zugewiesen an {name}",
    "taken": "Übernommen von {name}",
    "note": "Notiz",
    "reassigned": "Weitergeleitet an {department}",
    "information_requested": "Unterlagen angefordert (Frist {due})",
    "information_received": "Antwort eingegangen",
    "deadline_extended": "Frist um {days} Arbeitstage verlängert: {reason}",
    "closed": "Abgeschlossen: {outcome}",
    "reopened": "Wieder eröffnet",
}


def label(table: dict[str, str], code: str | None) -> str:
    """The German words for ``code``; an unknown code is shown as itself, never hidden."""
    if code is None:
        return ""
    return table.get(code, code)


def triage_reason(code: str | None) -> str:
    return label(TRIAGE_REASONS, code)


def quality_issue(code: str, page: int | None = None) -> str:
    text = QUALITY_ISSUES.get(code) or _UNREADABLE_FILE.get(code) or code
    return f"{text} (Seite {page})" if page else text


def extraction_failure(code: str) -> str:
    """Why a document could not be read, for the triage queue."""
    reason = _UNREADABLE_FILE.get(code, "Text konnte nicht gelesen werden")
    return f"{reason} – {_RESCAN}"


# -- web forms: what a refused command means, standard texts (triage and case pages) --------

SERVICE_ERRORS = {
    "stale": (
        "Jemand anderes hat den Vorgang inzwischen geändert. "
        "Bitte prüfen Sie den aktuellen Stand. Es wurde nichts gespeichert."
    ),
    "not_found": "Der Vorgang existiert nicht oder ist für Sie nicht sichtbar.",
    "forbidden": "Sie haben keine Berechtigung für diese Aktion.",
    "case_closed": "Der Vorgang ist abgeschlossen. Öffnen Sie ihn zuerst wieder.",
    "invalid_state": "Diese Aktion passt nicht zum aktuellen Stand des Vorgangs.",
    "unknown_assignee": "Diese Person arbeitet nicht in dem Fachdienst des Vorgangs.",
    "unknown_department": "Bitte wählen Sie einen Fachdienst aus der Liste.",
    "unchanged": "Der Vorgang liegt bereits bei diesem Fachdienst.",
    "empty_text": "Bitte geben Sie einen Text ein.",
    "invalid_text": "Der Text enthält unzulässige Zeichen oder ist zu lang.",
    "invalid_cursor": "Der Link zur Seite ist nicht mehr gültig. Die Liste beginnt von vorn.",
}
TRIAGE_STALE = (
    "Jemand anderes hat dieses Schriftstück inzwischen bearbeitet. Es wurde nichts geändert."
)
_SERVICE_ERROR_FALLBACK = (
    "Die Aktion konnte nicht ausgeführt werden. Bitte prüfen Sie Ihre Eingaben."
)

INFORMATION_REQUEST_TEXTS = (
    (
        "Unterlagen nachreichen",
        "Für die Bearbeitung Ihres Anliegens benötigen wir noch weitere Unterlagen: [bitte "
        "ergänzen]. Bitte reichen Sie diese bis zum genannten Datum ein und geben Sie dabei das "
        "Aktenzeichen an.",
    ),
    (
        "Kopie des Ausweises",
        "Bitte senden Sie uns eine Kopie Ihres Personalausweises oder Reisepasses (Vorder- und "
        "Rückseite). Bitte geben Sie dabei das Aktenzeichen an.",
    ),
    (
        "Rückfrage",
        "Zu Ihrem Anliegen haben wir eine Rückfrage: [bitte ergänzen]. Bitte antworten Sie uns "
        "schriftlich oder telefonisch und geben Sie dabei das Aktenzeichen an.",
    ),
)


def service_error(code: str) -> str:
    """The German sentence for a refused command (``ServiceError.code``)."""
    return SERVICE_ERRORS.get(code, _SERVICE_ERROR_FALLBACK)


# -- list pages (Arbeitskorb, Fachdienst, Statistik) ------------------------------------------

AGE_BUCKETS = {
    "0-5": "0–5 Tage",
    "6-10": "6–10 Tage",
    "11-20": "11–20 Tage",
    "21+": "über 20 Tage",
}
