"""What may be stored in an event: normalised, refused, or repaired text."""

import pytest

from aggregates.safe_text import first_forbidden, normalise, safe_filename, view_text
from aggregates.values import Applicant, Submission
from mailroom.intake.clean_text import InvalidTextError, clean_submission


def submission(**overrides) -> Submission:
    fields = {
        "service_key": "trauung",
        "applicant": Applicant(name="Eva Weiß", email="eva@example.org"),
        "subject": "Antrag",
    }
    return Submission(**{**fields, **overrides})


def test_text_is_composed_to_nfc_and_invisible_direction_overrides_are_removed():
    assert normalise("Mu\u0308ller \u202eAntrag\u202c") == "Müller Antrag"


def test_line_breaks_become_spaces_in_a_single_line_but_stay_in_a_block():
    assert normalise("eins\r\nzwei\rdrei\tvier") == "eins zwei drei vier"
    assert normalise("Hauptstr. 1\r\n47131 Lindenau", multiline=True) == (
        "Hauptstr. 1\n47131 Lindenau"
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Antrag\x00NUL", "U+0000"),
        ("a\x1bb", "U+001B"),
        ("\ud800", "U+D800"),
        ("x\uffff", "U+FFFF"),
    ],
)
def test_control_characters_surrogates_and_non_characters_are_found(text, found):
    assert first_forbidden(text) == found


def test_a_subject_with_a_nul_is_refused_naming_the_field():
    with pytest.raises(InvalidTextError) as refused:
        clean_submission(submission(subject="Antrag\u0000NUL"))
    assert refused.value.field == "subject"
    assert "U+0000" in str(refused.value)


def test_form_fields_are_checked_by_name_and_limited_in_number():
    with pytest.raises(InvalidTextError) as refused:
        clean_submission(submission(form_fields={"iban": "DE12\x07"}))
    assert refused.value.field == "form_fields.iban"
    with pytest.raises(InvalidTextError):
        clean_submission(submission(form_fields={f"f{i}": "x" for i in range(101)}))


def test_a_clean_submission_keeps_its_meaning():
    cleaned = clean_submission(
        submission(subject="  Antrag\u202e auf\tTrauung ", applicant=Applicant("Eva", phone="1"))
    )
    assert cleaned.subject == "Antrag auf Trauung"
    assert cleaned.applicant.email is None and cleaned.applicant.phone == "1"


def test_a_subject_that_is_only_invisible_characters_is_empty_and_refused():
    with pytest.raises(InvalidTextError, match="empty"):
        clean_submission(submission(subject="\u200b\u202e "))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("rechnung\u202efdp.exe", "rechnungfdp.exe"),
        ("brief\x00.pdf", "brief.pdf"),
        ("zeile\r\nzwei.pdf", "zeile zwei.pdf"),
        ("C:\\Users\\eva\\scan.pdf", "scan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("\x00\x01", None),
        ("Ã¼ber.pdf", "Ã¼ber.pdf"),  # invalid UTF-8 that arrived as Latin-1: kept as text
    ],
)
def test_file_names_are_repaired_not_refused(name, shown):
    assert safe_filename(name) == shown


def test_a_long_file_name_keeps_its_extension():
    name = safe_filename("a" * 400 + ".pdf")
    assert name is not None and len(name) == 255 and name.endswith(".pdf")


def test_view_text_fits_any_backend():
    assert view_text("Antrag\x00NUL" + "x" * 600, 20) == "AntragNUL" + "x" * 11
    assert view_text(None, 10) is None
