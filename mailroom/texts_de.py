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


# -- citizen pages (status page, Bürgerkonto): plain language, "Sie", short sentences -------

# Where a request stands: (headline, explanation). {bei} is "beim Standesamt" / "bei der
# Abfallwirtschaft" (see ``bei``), {department} the department's name, {city} the city's.
CITIZEN_STAGES = {
    "received": (
        "Eingegangen",
        "Ihr Anliegen ist bei uns eingegangen. Wir geben es jetzt an die zuständige Stelle "
        "weiter. Sie müssen nichts tun.",
    ),
    "triage": (
        "Eingegangen – wird zugeordnet",
        "Ihr Anliegen ist bei uns eingegangen. Wir prüfen gerade, welche Stelle dafür zuständig "
        "ist. Sie müssen nichts tun.",
    ),
    "rescan": (
        "Eingegangen – wird noch einmal erfasst",
        "Ihr Schreiben ließ sich nicht gut lesen. Wir erfassen es noch einmal. Sie müssen "
        "nichts tun.",
    ),
    "misdirected": (
        "Nicht für uns bestimmt",
        "Ihr Schreiben betrifft nach unserer Prüfung keine Aufgabe der {city}. "
        "Bitte wenden Sie sich an die zuständige Stelle.",
    ),
    "in_progress": (
        "In Bearbeitung {bei}",
        "Ihr Anliegen wird {bei} bearbeitet. Sie müssen im Moment nichts tun.",
    ),
    "waiting": (
        "Wir brauchen Unterlagen von Ihnen",
        "Damit wir weitermachen können, brauchen wir noch etwas von Ihnen. "
        "Bis Ihre Antwort da ist, ruht die Bearbeitung.",
    ),
    "decided": (
        "Entschieden",
        "Wir haben über Ihr Anliegen entschieden. Den Bescheid bekommen Sie per Post oder – wenn "
        "Sie das gewählt haben – in Ihr Postfach im Bürgerkonto.",
    ),
    "done": ("Erledigt", "Wir haben Ihr Anliegen abschließend bearbeitet."),
    "withdrawn": (
        "Zurückgezogen",
        "Ihr Anliegen wurde zurückgezogen. Wir bearbeiten es nicht weiter.",
    ),
    "handed_over": (
        "An eine andere Behörde abgegeben",
        "Für Ihr Anliegen ist eine andere Behörde zuständig. Wir haben es dorthin abgegeben. "
        "Von dort hören Sie, wie es weitergeht.",
    ),
    "duplicate": (
        "Erledigt",
        "Ihr Anliegen wird schon in einem anderen Vorgang bearbeitet. Dort geht es weiter.",
    ),
}
CITIZEN_OUTCOME_STAGES = {
    "granted": "decided",
    "rejected": "decided",
    "done": "done",
    "withdrawn": "withdrawn",
    "handed_over": "handed_over",
    "duplicate": "duplicate",
}
# The three steps shown as a progress bar: the stage's step is the current one.
CITIZEN_STEPS = ("Eingegangen", "In Bearbeitung", "Abgeschlossen")
CITIZEN_STEP_OF_STAGE = {
    "received": 0,
    "triage": 0,
    "rescan": 0,
    "misdirected": 2,
    "in_progress": 1,
    "waiting": 1,
    "decided": 2,
    "done": 2,
    "withdrawn": 2,
    "handed_over": 2,
    "duplicate": 2,
}
CITIZEN_MISDIRECTED_TO = "Zuständig ist nach unserer Einschätzung: {addressee}."

# What happened, in the citizen's words (case events; the status view has its own sentences).
CITIZEN_TIMELINE = {
    "information_requested": "Wir haben Unterlagen bei Ihnen angefordert (Antwort bis {due}).",
    "information_received": "Ihre Antwort ist eingegangen. Die Bearbeitung geht weiter.",
    "deadline_extended": "Die Bearbeitung dauert länger als geplant.",
    "reopened": "Ihr Anliegen wird wieder bearbeitet.",
    "closed": "{stage}.",
}
# The clerk's case timeline: a note the citizen wrote with their answer.
CITIZEN_NOTE_TITLE = "Nachricht der Bürgerin / des Bürgers"

CITIZEN_NOT_FOUND = (
    "Wir haben kein Anliegen mit diesem Aktenzeichen und diesem Zugangscode gefunden. "
    "Bitte prüfen Sie beide Angaben auf Ihrer Eingangsbestätigung."
)
CITIZEN_TOO_MANY_ATTEMPTS = (
    "Zu viele Versuche. Bitte warten Sie {minutes} Minuten und versuchen Sie es dann noch einmal."
)
CITIZEN_MISSING_REFERENCE = "Bitte geben Sie das Aktenzeichen ein."
CITIZEN_MISSING_CODE = "Bitte geben Sie den Zugangscode ein."

CITIZEN_ANSWER_REFUSED = {
    "no_open_request": (
        "Zu dieser Anforderung liegt uns schon eine Antwort vor, oder wir brauchen im Moment "
        "nichts von Ihnen. Es wurde nichts gespeichert."
    ),
    "case_closed": (
        "Ihr Anliegen ist bereits abgeschlossen. Eine Antwort ist hier nicht mehr möglich. "
        "Es wurde nichts gespeichert. Bei Fragen wenden Sie sich bitte an die unten genannte "
        "Stelle."
    ),
    "empty_answer": "Bitte schreiben Sie eine Nachricht oder wählen Sie mindestens eine Datei aus.",
    "invalid_text": (
        "Ihre Nachricht enthält Zeichen, die wir nicht annehmen können, oder ist zu lang "
        "(höchstens 4.000 Zeichen). Es wurde nichts gespeichert."
    ),
    "too_many_files": "Bitte wählen Sie höchstens {max_files} Dateien auf einmal aus.",
    "idempotency_conflict": (
        "Diese Antwort konnte nicht zugeordnet werden. Bitte laden Sie die Seite neu."
    ),
}
CITIZEN_ANSWER_RECEIVED = (
    "Vielen Dank! Ihre Antwort ist bei uns eingegangen. Die Bearbeitung geht jetzt weiter."
)
# A file that failed the content checks, by the check's code: "{name}: {text}".
CITIZEN_FILE_PROBLEMS = {
    "empty_file": "Die Datei ist leer.",
    "file_too_large": "Die Datei ist zu groß (höchstens {max_mb} MB je Datei).",
    "request_too_large": "Die Dateien sind zusammen zu groß (höchstens {max_request_mb} MB).",
    "unsupported_file_type": "Dieser Dateityp geht leider nicht. Bitte senden Sie PDF, JPG, "
    "PNG oder TIFF.",
    "zip_archive": "ZIP-Archive gehen leider nicht. Bitte senden Sie die Dateien einzeln als "
    "PDF, JPG, PNG oder TIFF.",
    "html_document": "Das ist eine Webseite, kein Dokument. Bitte senden Sie PDF, JPG, PNG "
    "oder TIFF.",
    "pdf_password_protected": "Das PDF ist mit einem Passwort geschützt. Bitte senden Sie es "
    "ohne Passwort.",
    "pdf_has_no_pages": "Das PDF enthält keine Seiten.",
    "too_many_pages": "Das Dokument hat zu viele Seiten (höchstens {max_pages}).",
    "image_too_large": "Das Bild ist zu groß. Bitte verkleinern Sie es oder senden Sie ein PDF.",
    "image_too_small": "Das Bild ist zu klein, um es zu lesen.",
    "trailing_data": "Hinter dem Ende der Datei sind weitere Daten versteckt (zum Beispiel ein "
    "Archiv oder eine Webseite). Bitte speichern oder scannen Sie das Dokument neu.",
}
CITIZEN_FILE_DAMAGED = "Die Datei ist beschädigt oder lässt sich nicht öffnen."
CITIZEN_FILE_NOT_STORED = "Es wurde nichts gespeichert. Bitte wählen Sie eine andere Datei."

CITIZEN_SIGN_IN_FAILED = (
    "Die Anmeldung mit dem Bürgerkonto hat nicht geklappt. Es wurde nichts gespeichert. "
    "Bitte versuchen Sie es noch einmal."
)
CITIZEN_SIGN_IN_UNAVAILABLE = (
    "Die Anmeldung mit dem Bürgerkonto ist gerade nicht erreichbar. "
    "Bitte versuchen Sie es später noch einmal."
)
CITIZEN_ACCOUNT_OFF = (
    "Das Bürgerkonto ist für diese Stadt noch nicht eingerichtet. Den Stand Ihres Anliegens "
    "sehen Sie mit Aktenzeichen und Zugangscode."
)
CITIZEN_DELIVERY_SAVED = {
    True: "Gespeichert: Bescheide und Schreiben kommen ab jetzt digital in Ihr Postfach.",
    False: "Gespeichert: Bescheide und Schreiben kommen ab jetzt per Post.",
}
CITIZEN_INVALID_EMAIL = "Bitte geben Sie eine gültige E-Mail-Adresse ein (z. B. name@beispiel.de)."
CITIZEN_SIGNED_OUT = "Sie sind vom Bürgerkonto abgemeldet."

_FEMININE_ENDINGS = ("ung", "schaft", "sicht", "kasse", "stelle", "behörde", "verwaltung")
_NEUTER_OR_MASCULINE_ENDINGS = ("amt", "büro", "bau", "dienst", "bereich", "referat", "zentrum")


def bei(department_name: str) -> str:
    """The name with "bei" and its article: "beim Standesamt", "bei der Abfallwirtschaft"
    (from the ending of the part before " / "); other names without one ("bei Jugend & Co")."""
    head = department_name.split(" / ")[0].split()[-1].lower() if department_name else ""
    if head.endswith(_FEMININE_ENDINGS):
        return f"bei der {department_name}"
    if head.endswith(_NEUTER_OR_MASCULINE_ENDINGS):
        return f"beim {department_name}"
    return f"bei {department_name}"


def citizen_stage(stage: str) -> tuple[str, str]:
    return CITIZEN_STAGES.get(stage, CITIZEN_STAGES["received"])


# -- outgoing letters, staff side (case page "Schreiben", Poststelle "Postausgang") ----------
# Codes: aggregates.outgoing_document (DocumentState, PrintReason, ReturnReason).

DOCUMENT_STATES = {
    "draft": "Entwurf",
    "approved": "Freigegeben – wird erstellt",
    "rendered": "Erstellt – wird zugestellt",
    "in_inbox": "Im Postfach",
    "read": "Im Postfach gelesen",
    "print_queued": "Wartet auf Druck",
    "batched": "Im Druckstapel",
    "printed": "Gedruckt",
    "returned": "Unzustellbar zurück",
    "discarded": "Verworfen",
    "failed": "Konnte nicht erstellt werden – nicht versandt",
}
# The badge colour of each state (macros.badge kinds); the words say it, colour only helps.
DOCUMENT_STATE_KINDS = {
    "draft": "neutral",
    "approved": "info",
    "rendered": "info",
    "in_inbox": "ok",
    "read": "ok",
    "print_queued": "waiting",
    "batched": "waiting",
    "printed": "ok",
    "returned": "danger",
    "discarded": "neutral",
    "failed": "danger",
}
PRINT_REASONS = {
    "no_account": "Kein Bürgerkonto verknüpft",
    "no_consent": "Keine Zustimmung zur digitalen Zustellung",
    "inbox_unread": "Im Postfach nicht rechtzeitig geöffnet",
}
RETURN_REASONS = {
    "addressee_unknown": "Empfänger/in unbekannt",
    "moved": "Empfänger/in verzogen",
    "address_incomplete": "Anschrift unvollständig",
    "refused": "Annahme verweigert",
    "deceased": "Empfänger/in verstorben",
    "other": "Anderer Grund",
}
DELIVERY_CHANNELS = {"inbox": "Postfach im Bürgerkonto", "print": "Post"}
# The case timeline's lines for a letter ({title}: the template's title, e.g. "Bescheid").
LETTER_TIMELINE = {
    "drafted": "{title}: Entwurf angelegt",
    "approved": "{title} freigegeben",
    "in_inbox": "{title} ins Postfach zugestellt",
    "print_queued": "{title} geht per Post",
    "printed": "{title} gedruckt",
    "read": "{title} im Postfach geöffnet",
    "returned": "{title} unzustellbar zurück",
}

LETTER_ERRORS = {
    "stale": (
        "Jemand anderes hat das Schreiben inzwischen geändert. "
        "Bitte prüfen Sie den aktuellen Stand. Es wurde nichts gespeichert."
    ),
    "not_found": "Das Schreiben existiert nicht oder ist für Sie nicht sichtbar.",
    "invalid_state": (
        "Das passt nicht zum aktuellen Stand des Schreibens. Es wurde nichts geändert."
    ),
    "unknown_template": "Bitte wählen Sie eine Vorlage aus der Liste.",
    "unknown_field": "Das Formular passt nicht zur Vorlage. Bitte laden Sie die Seite neu.",
    "invalid_text": (
        "Ein Text enthält unzulässige Zeichen oder ist zu lang (höchstens 5.000 Zeichen)."
    ),
    "letter_failed": (
        "Das Schreiben konnte nicht erstellt werden. Bitte prüfen Sie die Angaben oder "
        "informieren Sie den IT-Betrieb."
    ),
    "not_rendered": (
        "Das Schreiben ist noch nicht erstellt. Bitte versuchen Sie es gleich noch einmal."
    ),
    "print_queue_empty": "Es warten keine Briefe auf den Druck.",
    "unknown_account": (
        "Ein Bürgerkonto mit dieser Nummer ist nicht bekannt. Bitte prüfen Sie die Nummer. "
        "Es wurde nichts gespeichert."
    ),
    "no_item": "Zu diesem Vorgang gibt es kein Schriftstück, das verknüpft werden kann.",
}
LETTER_MISSING_FIELDS = "Es fehlen Angaben: {labels}. Es wurde nichts gespeichert."
LETTER_MISSING_FIELD = "Bitte ausfüllen."
LETTER_SECOND_APPROVAL = "Freigabe durch eine zweite Person erforderlich"
LETTER_SECOND_APPROVAL_DETAIL = (
    "Sie haben diesen Entwurf selbst geschrieben. Eine Kollegin oder ein Kollege prüft ihn "
    "und gibt ihn frei (Vier-Augen-Prinzip)."
)
LETTER_UNSAVED_CHANGES = (
    "Der Entwurf hat ungespeicherte Änderungen. Bitte speichern Sie ihn zuerst und prüfen Sie "
    "die Vorschau – freigegeben wird nur, was gespeichert ist."
)
LETTER_FLASH = {
    "drafted": "Der Entwurf „{title}“ ist gespeichert.",
    "edited": "Die Änderungen am Entwurf sind gespeichert.",
    "approved": "„{title}“ ist freigegeben. Das Schreiben wird jetzt erstellt und zugestellt.",
    "discarded": "Der Entwurf „{title}“ ist verworfen.",
    "linked": "Der Vorgang ist mit dem Bürgerkonto {account} verknüpft.",
}
ACCOUNT_MISSING = "Bitte geben Sie die Nummer des Bürgerkontos ein."

PRINT_BATCH_BUILT = (
    "Druckstapel erstellt: {letters} auf {sheets} ({pages}). Bitte laden Sie das PDF herunter "
    "und drucken Sie es beidseitig."
)
PRINT_BATCH_PRINTED = "Der Druckstapel ist als gedruckt vermerkt ({letters})."
RETURN_RECORDED = "Rücklauf erfasst: {title} zu {reference} – {reason}."
RETURN_ERRORS = {
    "missing": "Bitte geben Sie die Brief-Nummer oder das Aktenzeichen an.",
    "reason": "Bitte wählen Sie einen Grund aus der Liste.",
    "unknown": "Dazu gibt es keinen gedruckten Brief. Bitte prüfen Sie die Angabe.",
    "several": (
        "Zu {reference} gibt es mehrere gedruckte Briefe. Bitte geben Sie die Brief-Nummer an: "
        "{choices}."
    ),
    "invalid_state": "Nur gedruckte Briefe können als Rücklauf erfasst werden.",
}


def anzahl(count: int, one: str, many: str) -> str:
    """ "1 Brief", "3 Briefe" (German thousands separator)."""
    return f"{count:,}".replace(",", ".") + " " + (one if count == 1 else many)
