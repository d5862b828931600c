"""Attaching follow-ups to their case — and never to another citizen's case."""

import pytest

from routing import Catalog, Letter, Router
from tests.unit.routing.builders import EXAMPLES, case, catalog, directory, letter

KRUEGER = case(
    "STA-2026-00988",
    "standesamt",
    "Daniela Krüger",
    "Weberstraße 22, 12345 Testhausen",
    "Eheschließung Krüger / Brandt",
)
KRUEGER_LOOKALIKE = case(
    "STA-2026-00898",
    "standesamt",
    "Daniel Krüger",
    "Weberstraße 2, 12345 Testhausen",
    "Geburt Mia Krüger",
)
STERNBERG = case(
    "22.4000.0618.2",
    "steueramt",
    "Olaf Sternberg",
    "Schillerstraße 70, 12345 Testhausen",
    "Hundesteuer I/2026 – Mahnung",
)
STEINBERG = case(
    "22.4000.0618.3",
    "steueramt",
    "Ulrike Steinberg",
    "Schillerstraße 7, 12345 Testhausen",
    "Hundesteuer Steinberg",
)
CLOSED = case(
    "STA-2025-01877",
    "standesamt",
    "Hildegard Brenner",
    "Kastanienallee 14, 12345 Testhausen",
    "Sterbefall Friedrich Brenner",
    status="closed",
)
CASES = directory(KRUEGER, KRUEGER_LOOKALIKE, STERNBERG, STEINBERG, CLOSED)


def router(tmp_path):
    return Router(catalog(tmp_path), EXAMPLES)


def test_a_cited_reference_from_the_cases_party_attaches_the_letter(tmp_path):
    text = letter(
        "Daniela Krüger",
        "Weberstraße 22",
        "Ihr Zeichen: STA 2026 988",
        "anbei die fehlende Geburtsurkunde für die Anmeldung zur Eheschließung.",
    )
    decision = router(tmp_path).decide(Letter(text), CASES)
    assert (decision.case, decision.department, decision.triage) == (
        KRUEGER.case_id,
        "standesamt",
        False,
    )
    assert decision.explanation.method == "case"


def test_a_look_alike_case_cited_by_another_citizen_is_never_attached(tmp_path):
    # Daniela transposes two digits and cites Daniel Krüger's case.
    text = letter(
        "Daniela Krüger",
        "Weberstraße 22",
        "Ihr Zeichen: STA-2026-00898",
        "anbei die fehlende Geburtsurkunde für die Eheschließung.",
    )
    decision = router(tmp_path).decide(Letter(text), CASES)
    assert decision.case is None
    assert decision.triage
    assert any("STA-2026-00898" in w for w in decision.warnings)


def test_a_one_digit_slip_is_not_resolved_to_a_neighbours_case(tmp_path):
    # Sternberg cites his Kassenzeichen with the look-alike's check digit.
    text = letter(
        "Olaf Sternberg",
        "Schillerstraße 70",
        "Mahnung, Kassenzeichen 22.4000.0618.3",
        "die Hundesteuer habe ich längst bezahlt.",
    )
    decision = router(tmp_path).decide(Letter(text), CASES)
    assert decision.case is None and decision.triage
    assert decision.warnings


def test_a_sender_who_is_not_the_party_goes_to_triage_with_a_warning(tmp_path):
    text = letter(
        "Peter Fremd",
        "Goethestraße 5",
        "Kassenzeichen 22.4000.0618.2",
        "ich möchte wissen, wie weit die Sache ist.",
    )
    decision = router(tmp_path).decide(Letter(text), CASES)
    assert (decision.case, decision.department, decision.triage) == (None, None, True)
    assert decision.warnings == (
        "cites 22.4000.0618.2, but the sender does not match its party; not attached",
    )


def test_a_reference_one_slip_from_a_case_attaches_only_with_name_and_address(tmp_path):
    # "22.4000.0681.2" exists nowhere; Sternberg's own case is one transposition away.
    cases = directory(STERNBERG, CLOSED)
    text = letter(
        "Olaf Sternberg",
        "Schillerstraße 70",
        "Kassenzeichen 22.4000.0681.2",
        "die Mahnung zur Hundesteuer ist ein Irrtum.",
    )
    decision = router(tmp_path).decide(Letter(text), cases)
    assert decision.case == STERNBERG.case_id
    stranger = letter(
        "Karl Anders", "Am Markt 1", "Kassenzeichen 22.4000.0681.2", "Frage zur Mahnung."
    )
    assert router(tmp_path).decide(Letter(stranger), cases).case is None


def test_without_a_reference_only_an_open_case_matching_name_address_and_subject_attaches(tmp_path):
    r = router(tmp_path)
    follow_up = letter(
        "Olaf Sternberg",
        "Schillerstraße 70",
        "Hundesteuer I/2026 – Mahnung",
        "zu Ihrer Mahnung der Hundesteuer: ich habe bezahlt.",
    )
    assert r.decide(Letter(follow_up), CASES).case == STERNBERG.case_id
    closed = letter(
        "Hildegard Brenner",
        "Kastanienallee 14",
        "Sterbefall Friedrich Brenner",
        "ich brauche drei weitere Sterbeurkunden.",
    )
    assert r.decide(Letter(closed), CASES).case is None
    unrelated = letter(
        "Olaf Sternberg", "Schillerstraße 70", "Sperrmüll", "bitte holen Sie ein altes Sofa ab."
    )
    assert r.decide(Letter(unrelated), CASES).case is None


def test_without_a_directory_no_case_is_attached(tmp_path):
    text = letter("Daniela Krüger", "Weberstraße 22", "STA-2026-00988", "Geburtsurkunde anbei.")
    decision = router(tmp_path).decide(Letter(text))
    assert decision.case is None
    assert decision.department == "standesamt"


# -- references cited sloppily, with a catalog that lists no reference formats -------------

PLAIN_CATALOG = [
    {"id": "abfall", "name": "Abfallwirtschaft", "description": "Restmüll, Sperrmüll, Tonnen"},
    {"id": "standesamt", "name": "Standesamt", "description": "Geburten, Trauungen, Urkunden"},
    {"id": "tiefbau", "name": "Tiefbau", "description": "Straßen, Gehwege, Laternen"},
    {"id": "steueramt", "name": "Steueramt", "description": "Hundesteuer, Grundsteuer"},
]
VOGT = case(
    "KD-4711/0815",
    "abfall",
    "Ingrid Vogt",
    "Lindenweg 8, 12345 Testhausen",
    "Kundenkonto Restmüll Lindenweg",
)
ALBERS = case(
    "63-TB-2026-0234",
    "tiefbau",
    "Jonas Albers",
    "Hafenstraße 3, 12345 Testhausen",
    "Gehwegschaden Hafenstraße",
)
HAFNER = case(  # the neighbour, whose number has two digits of Albers' swapped
    "63-TB-2026-0243",
    "tiefbau",
    "Uwe Hafner",
    "Hafenstraße 5, 12345 Testhausen",
    "Laterne defekt Hafenstraße",
)
ALBERT = case(  # a look-alike name in the same street
    "STA-2026-00412",
    "standesamt",
    "Jonas Albert",
    "Hafenstraße 30, 12345 Testhausen",
    "Geburt Lea Albert",
)
SLOPPY_CASES = directory(VOGT, ALBERS, HAFNER, ALBERT, STERNBERG)


def router_without_formats():
    return Router(Catalog.from_departments_json(PLAIN_CATALOG), EXAMPLES)


@pytest.mark.parametrize(
    ("sender", "street", "citation", "written", "expected"),
    [
        ("Ingrid Vogt", "Lindenweg 8", "Kundennr. 4711-0815", "4711-0815", VOGT),
        ("Ingrid Vogt", "Lindenweg 8", "Ihre Kundennummer kd 4711 815", "kd 4711 815", VOGT),
        ("Ingrid Vogt", "Lindenweg 8", "Konto 47110815", "47110815", VOGT),
        ("Jonas Albers", "Hafenstraße 3", "Ihr Aktenzeichen 0234/2026", "0234/2026", ALBERS),
        ("Jonas Albers", "Hafenstraße 3", "Az. 63 tb 2O26 O234", "63 tb 2O26 O234", ALBERS),
        ("Jonas Albert", "Hafenstraße 30", "Ihr Zeichen: sta 2026/412", "sta 2026/412", ALBERT),
        ("Olaf Sternberg", "Schillerstraße 70", "Kassenz. 4000.0618.2", "4000.0618.2", STERNBERG),
    ],
)
def test_a_sloppy_citation_finds_its_case_without_any_reference_format(
    sender, street, citation, written, expected
):
    text = letter(sender, street, citation, "ich habe noch eine Frage zu meinem Vorgang.")
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert (decision.case, decision.department, decision.triage) == (
        expected.case_id,
        expected.department_id,
        False,
    )
    assert written in [r.text for r in decision.references]
    assert expected.case_id in decision.explanation.detail
    assert decision.explanation.method == "case"


@pytest.mark.parametrize(
    ("sender", "street", "citation", "cited"),
    [
        # the neighbour swaps two digits of his own number and so cites Albers' case
        ("Uwe Hafner", "Hafenstraße 5", "Ihr Zeichen 0234/2026", ALBERS),
        # a look-alike name in the same street
        ("Jonas Albert", "Hafenstraße 30", "Az. 63-tb-2026-234", ALBERS),
        ("Jonas Albers", "Hafenstraße 3", "Ihr Zeichen sta 2026 412", ALBERT),
        # the same surname at the same address is someone else
        ("Ingo Vogt", "Lindenweg 8", "Kundennr. 4711 0815", VOGT),
    ],
)
def test_a_sloppy_citation_of_another_persons_case_goes_to_triage_with_a_warning(
    sender, street, citation, cited
):
    text = letter(sender, street, citation, "ich habe noch eine Frage zu meinem Vorgang.")
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert (decision.case, decision.triage) == (None, True)
    assert any(cited.case_id in w and "not attached" in w for w in decision.warnings)


def test_a_part_of_a_number_that_fits_several_cases_attaches_to_none():
    other = case("22.9-EB-2026-0234", "steueramt", "Mila Brandt", "Heideweg 1", "Elternbeitrag")
    text = letter("Jonas Albers", "Hafenstraße 3", "Aktenzeichen 0234/2026", "Wie weit ist es?")
    decision = router_without_formats().decide(Letter(text), directory(ALBERS, other))
    assert (decision.case, decision.triage) == (None, True)
    assert set(decision.case_suggestions) == {ALBERS.case_id, other.case_id}
    assert any("fits several cases" in w for w in decision.warnings)


def test_a_slip_in_a_short_reference_is_not_tolerated():
    short = case("AB-12345", "abfall", "Ingrid Vogt", "Lindenweg 8, 12345 Testhausen", "Tonne")
    text = letter("Ingrid Vogt", "Lindenweg 8", "Ihr Zeichen AB-12354", "Wie weit ist es?")
    assert router_without_formats().decide(Letter(text), directory(short)).case is None


def test_the_senders_own_file_number_names_no_case():
    text = letter("Karl Anders", "Am Markt 1", "Unser Zeichen: 4711-0815", "Angebot anbei.")
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert decision.case is None
    assert not any(VOGT.case_id in w for w in decision.warnings)


# -- follow-ups citing no reference ---------------------------------------------------------


def test_without_a_reference_sender_address_department_and_subject_agreeing_attach():
    text = letter(
        "Ingrid Vogt",
        "Lindenweg 8",
        "Mein Kundenkonto",
        "mein Kundenkonto für den Restmüll am Lindenweg stimmt nicht, die Tonne ist falsch.",
    )
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert (decision.case, decision.department) == (VOGT.case_id, "abfall")
    assert "address, department and subject" in decision.explanation.detail


def test_without_a_reference_three_of_four_is_only_a_suggestion_with_the_evidence():
    # Same sender and address, a department the classifier considers, another matter.
    text = letter(
        "Ingrid Vogt",
        "Lindenweg 8",
        "Sperrmüll",
        "bitte holen Sie unser altes Sofa und einen Schrank ab, die Mülltonne passt nicht.",
    )
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert decision.case is None
    assert VOGT.case_id in decision.case_suggestions
    assert any(
        f"possible follow-up to {VOGT.case_id}" in w and "subject does not" in w
        for w in decision.warnings
    )


def test_without_a_reference_a_look_alike_name_at_another_address_gets_nothing():
    # Daniel Krüger (Weberstraße 2) writes about a marriage like Daniela Krüger's case.
    text = letter(
        "Daniel Krüger",
        "Weberstraße 2",
        "Eheschließung Krüger / Brandt",
        "wir möchten die Eheschließung Krüger / Brandt anmelden.",
    )
    decision = router_without_formats().decide(Letter(text), CASES)
    assert decision.case is None
    assert KRUEGER.case_id not in decision.case_suggestions


def test_without_a_reference_a_neighbour_gets_nothing_of_the_other_case():
    text = letter(
        "Uwe Hafner",
        "Hafenstraße 5",
        "Gehwegschaden Hafenstraße",
        "vor der Hafenstraße 3 ist der Gehweg kaputt, ein Gehwegschaden.",
    )
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert decision.case is None
    assert ALBERS.case_id not in decision.case_suggestions


def test_a_phone_number_that_looks_like_part_of_a_reference_names_no_case():
    text = letter(
        "Karl Anders",
        "Am Markt 1",
        "Sperrmüll",
        "bitte holen Sie mein altes Sofa ab. Rückruf unter Tel. 0203 4711 0815.",
    )
    decision = router_without_formats().decide(Letter(text), SLOPPY_CASES)
    assert decision.case is None
    assert not any(VOGT.case_id in w for w in decision.warnings)
    assert VOGT.case_id not in decision.case_suggestions
