"""The German e-mails: subject and body from the templates, polite plain German, and no
personal details beyond the reference and the status link."""

from __future__ import annotations

import pytest

from mailroom.notify.messages import Composer, Kind, Sender, TemplateError, status_url

REFERENCE = "LIN-2026-7K3F-92QD"
SENDER = Sender(
    authority="Stadt Lindenau",
    phone="02999 120-0",
    email="info@lindenau.de",
    web="www.lindenau.de",
    opening_hours="Mo–Fr 8–12 Uhr",
)
# What the citizen told us: none of it may appear in an e-mail.
PERSONAL = ["Eva Musterfrau", "Geburtsurkunde für meine Tochter", "Lindenallee 1", "eva@"]
VALUES = {
    Kind.RECEIVED: {"received_on": "02.03.2026"},
    Kind.DEPARTMENT_ASSIGNED: {"department": "Standesamt", "reassigned": False},
    Kind.INFORMATION_REQUESTED: {"due_date": "16.03.2026"},
    Kind.DECIDED: {"outcome": "granted"},
    Kind.REOPENED: {},
}


@pytest.fixture
def composer() -> Composer:
    return Composer("https://buerger.lindenau.example/")


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_a_german_subject_and_body_with_reference_and_status_link(composer, kind):
    mail = composer.render(kind, REFERENCE, SENDER, **VALUES[kind])
    assert REFERENCE in mail.subject and "\n" not in mail.subject
    assert mail.body.startswith("Guten Tag,\n")
    assert REFERENCE in mail.body
    assert "https://buerger.lindenau.example/status?aktenzeichen=LIN-2026-7K3F-92QD" in mail.body
    assert "Mit freundlichen Grüßen\nStadt Lindenau" in mail.body
    assert "Telefon: 02999 120-0" in mail.body
    assert "Bitte antworten Sie nicht auf" in mail.body
    assert "{{" not in mail.body and "{%" not in mail.body
    assert all(len(line) <= 78 for line in mail.body.splitlines()), mail.body


@pytest.mark.parametrize("kind", list(Kind))
def test_no_personal_detail_and_no_access_code_is_ever_in_an_e_mail(composer, kind):
    mail = composer.render(kind, REFERENCE, SENDER, **VALUES[kind])
    text = mail.subject + "\n" + mail.body
    for detail in PERSONAL:
        assert detail not in text
    assert "Zugangscode:" not in text  # the code itself is never mailed


def test_the_eingangsbestaetigung_says_the_access_code_was_shown_when_submitting(composer):
    mail = composer.render(Kind.RECEIVED, REFERENCE, SENDER, received_on="02.03.2026")
    assert mail.subject == f"Eingangsbestätigung für Ihren Antrag {REFERENCE}"
    assert "am 02.03.2026 bei uns" in mail.body
    assert "Zugangscode, der Ihnen beim Absenden des Antrags" in mail.body
    assert "senden wir den Zugangscode nicht" in mail.body


def test_the_department_is_named_and_a_reassignment_says_so(composer):
    first = composer.render(
        Kind.DEPARTMENT_ASSIGNED, REFERENCE, SENDER, department="Standesamt", reassigned=False
    )
    assert first.subject == f"Ihr Anliegen {REFERENCE}: zuständig ist Standesamt"
    assert "    Standesamt\n" in first.body and "weitergegeben" not in first.body
    moved = composer.render(
        Kind.DEPARTMENT_ASSIGNED, REFERENCE, SENDER, department="Abfallwirtschaft", reassigned=True
    )
    assert "weitergegeben" in moved.body and "    Abfallwirtschaft\n" in moved.body


def test_an_information_request_gives_the_due_date_but_not_what_was_asked(composer):
    mail = composer.render(Kind.INFORMATION_REQUESTED, REFERENCE, SENDER, due_date="16.03.2026")
    assert mail.subject == f"Ihr Anliegen {REFERENCE}: Wir benötigen weitere Angaben"
    assert "bis zum 16.03.2026" in mail.body


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("granted", "Über das Ergebnis informieren wir Sie gesondert"),
        ("rejected", "Über das Ergebnis informieren wir Sie gesondert"),
        ("done", "Über das Ergebnis informieren wir Sie gesondert"),
        ("withdrawn", "zurückgenommen"),
        ("handed_over", "eine andere\nBehörde zuständig"),
        ("duplicate", "mehrfach"),
    ],
)
def test_a_decision_is_announced_without_saying_how_it_went(composer, outcome, words):
    mail = composer.render(Kind.DECIDED, REFERENCE, SENDER, outcome=outcome)
    assert mail.subject == f"Ihr Anliegen {REFERENCE}: Bearbeitung abgeschlossen"
    assert words in mail.body
    for verdict in ("bewilligt", "abgelehnt", "genehmigt", "stattgegeben"):
        assert verdict not in mail.body


def test_the_signature_leaves_out_what_the_city_does_not_have(composer):
    mail = composer.render(
        Kind.DECIDED, REFERENCE, Sender(authority="Stadt Lindenau"), outcome="done"
    )
    assert "So erreichen Sie uns" not in mail.body and "Telefon" not in mail.body


def test_a_template_without_a_subject_line_is_refused(tmp_path):
    (tmp_path / "received.txt").write_text("Guten Tag,\n\nkein Betreff.\n")
    with pytest.raises(TemplateError):
        Composer("https://x.example", tmp_path).render(Kind.RECEIVED, REFERENCE, SENDER)


def test_the_status_link_quotes_the_reference():
    assert status_url("https://x.example/", "LIN 1") == (
        "https://x.example/status?aktenzeichen=LIN%201"
    )
