"""Legacy file-number formats: tolerant of sloppy writing, strict where a format has no anchor."""

import pytest

from routing.reference_formats import ReferenceFormatError, compile_format


def found(pattern: str, text: str) -> list[tuple[str, str]]:
    return [(m.text, m.canonical) for m in compile_format(pattern).find(text)]


@pytest.mark.parametrize(
    "written",
    [
        "STA-2026-00412",
        "sta 2026 412",
        "STA2026-00412",
        "STA-26-00412",
        "STA-00412/2026",
        "Sta - 2026 - 00412",
    ],
)
def test_sloppy_writing_of_an_anchored_format_gives_the_canonical_reference(written):
    assert found("STA-YYYY-NNNNN", f"Ihr Zeichen: {written}, danke") == [
        (written, "STA-2026-00412")
    ]


def test_a_dropped_office_code_and_a_slash_year_are_tolerated():
    assert found("36.2-FE-NNNN/YY", "FE 193/2026") == [("FE 193/2026", "36.2-FE-0193/26")]
    assert found("63-BA-YYYY-NNNN", "BA-0234/2026") == [("BA-0234/2026", "63-BA-2026-0234")]


def test_letter_literals_keep_the_spelling_of_the_format():
    assert found("32.3-OWi-YYYY-NNNNNN", "32.3 OWI 2026 4512") == [
        ("32.3 OWI 2026 4512", "32.3-OWi-2026-004512")
    ]


def test_look_alike_letters_inside_numbers_are_read_as_digits():
    assert found("SP-YY-NNNNN", "Auftrag SP-26-O7731") == [("SP-26-O7731", "SP-26-07731")]


def test_a_format_of_digits_only_needs_its_exact_shape():
    pattern = "22.NNNN.NNNN.N"
    assert found(pattern, "Kassenzeichen 22.1000.4471.9.") == [("22.1000.4471.9", "22.1000.4471.9")]
    assert found(pattern, "am 22.12.2025 und 22.1000.447.9") == []
    assert found(pattern, "22.1000.4471.99") == []


def test_behind_a_label_the_office_code_may_be_dropped_even_from_digit_formats():
    reference_format = compile_format("22.NNNN.NNNN.N")
    assert [m.canonical for m in reference_format.find("1000.4471.9", relaxed=True)] == [
        "22.1000.4471.9"
    ]
    assert reference_format.find("1000.4471.9") == []


def test_licence_plates_are_not_portal_references():
    assert found("LIN-XXXX-XXXX", "Kennzeichen LIN-TO 290E und LIN-CE 505") == []
    assert found("LIN-XXXX-XXXX", "Meldung lin q2m8 4tta") == [("lin q2m8 4tta", "LIN-Q2M8-4TTA")]


@pytest.mark.parametrize("pattern", ["STA", "STA-YYY-NN", "ST%-NN"])
def test_a_format_without_placeholders_or_with_a_bad_year_is_refused(pattern):
    with pytest.raises(ReferenceFormatError):
        compile_format(pattern)
