"""Attaching follow-ups to their case — and never to another citizen's case."""

from routing import Letter, Router
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
