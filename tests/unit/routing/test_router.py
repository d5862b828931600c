"""Router decisions: classification, misdirection, rules, portal submissions, determinism."""

import random

from routing import MISDIRECTED, Letter, Reroute, Router, route_submission
from tests.unit.routing.builders import EXAMPLES, catalog, letter


def test_a_clear_letter_is_routed_with_its_strongest_terms_as_explanation(tmp_path):
    text = letter(
        "Ute Voss",
        "Kiefernweg 2",
        "Straßenschaden",
        "in der Gartenstraße ist seit Wochen ein gefährliches Schlagloch, und die "
        "Gehwegplatten davor sind lose.",
    )
    decision = Router(catalog(tmp_path), EXAMPLES).decide(Letter(text))
    assert (decision.department, decision.triage) == ("tiefbau", False)
    assert decision.confidence >= 0.6
    assert decision.explanation.method == "classifier"
    assert "Schlagloch" in decision.explanation.terms
    assert decision.candidates[0].department == "tiefbau"
    assert len(decision.candidates) == 3


def test_compounds_and_inflections_find_catalog_terms(tmp_path):
    text = letter(
        "Ute Voss",
        "Kiefernweg 2",
        "Sperrmüllabholung",
        "wir bitten um einen Sperrmülltermin für zwei Kleiderschränke.",
    )
    decision = Router(catalog(tmp_path), EXAMPLES).decide(Letter(text))
    assert decision.department == "abfall"


def test_a_letter_without_evidence_goes_to_triage_with_three_candidates(tmp_path):
    text = letter("Ute Voss", "Kiefernweg 2", "Frage", "ich hätte da eine Frage an Sie.")
    decision = Router(catalog(tmp_path), EXAMPLES).decide(Letter(text))
    assert decision.triage and decision.department is None
    assert len(decision.candidates) == 3
    assert decision.reason.startswith("unsure")


def test_mail_for_the_finanzamt_is_recognised_as_misdirected(tmp_path):
    text = letter(
        "Ute Voss",
        "Kiefernweg 2",
        "Einspruch Einkommensteuerbescheid 2024",
        "gegen den Bescheid über Einkommensteuer lege ich Einspruch ein; die "
        "Lohnsteuer wurde falsch angerechnet.",
    )
    decision = Router(catalog(tmp_path), EXAMPLES).decide(Letter(text))
    assert decision.triage and decision.misdirected
    assert decision.department is None
    assert decision.candidates[0].department == MISDIRECTED
    assert "Finanzamt" in decision.reason


def test_advertising_is_misdirected_even_without_examples(tmp_path):
    text = (
        "FRÜHJAHRS-AKTION\nNur jetzt 30 % Rabatt! Kostenlos testen, Gutscheincode RATHAUS, "
        "ab 99 € netto."
    )
    decision = Router(catalog(tmp_path)).decide(Letter(text))
    assert decision.misdirected and decision.triage


def test_a_letter_without_text_goes_to_triage(tmp_path):
    decision = Router(catalog(tmp_path), EXAMPLES).decide(Letter(" \n\f "))
    assert decision.triage and decision.reason == "no text found"


def test_portal_submissions_route_by_their_service_key_without_guessing(tmp_path):
    decision = route_submission(catalog(tmp_path), "sperrmuell")
    assert (decision.department, decision.confidence, decision.triage) == ("abfall", 1.0, False)
    assert decision.explanation.method == "service"
    unknown = route_submission(catalog(tmp_path), "sperrmüll-bitte")
    assert (unknown.department, unknown.triage) == (None, True)
    assert "unknown service key" in unknown.reason


def test_a_catalog_rule_decides_before_the_classifier(tmp_path):
    rules = (
        '\n[[rules]]\nname = "Werbung der Stadtwerke"\ntarget = "triage"\nany = ["Stadtwerke"]\n'
    )
    text = letter("Stadtwerke Testhausen", "Am Werk 1", "Sperrmüll", "Sperrmüll und Tonne.")
    decision = Router(catalog(tmp_path, rules), EXAMPLES).decide(Letter(text))
    assert decision.triage
    assert decision.explanation.method == "rule"


def test_per_department_thresholds_come_from_the_catalog(tmp_path):
    c = catalog(tmp_path)
    assert c.threshold_for("abfall") == 0.55
    assert c.threshold_for("tiefbau") == 0.6
    assert c.threshold_for(MISDIRECTED) == 0.5


def test_the_model_is_a_pure_function_of_its_inputs(tmp_path):
    c = catalog(tmp_path)
    shuffled = EXAMPLES[:]
    random.Random(4).shuffle(shuffled)
    first, second = Router(c, EXAMPLES), Router(c, shuffled)
    assert first.model_version == second.model_version
    assert first.model.temperature == second.model.temperature
    text = letter("Ute Voss", "Kiefernweg 2", "Tonne", "die Biotonne ist kaputt.")
    assert first.decide(Letter(text)) == second.decide(Letter(text))


def test_a_reroute_changes_the_model_and_similar_letters_follow_it(tmp_path):
    c = catalog(tmp_path)
    recurring = letter(
        "Hausverwaltung Klar",
        "Marktstraße 4",
        "Kontoänderung",
        "für unsere Objekte ändert sich die Bankverbindung zum 1. Mai. Die neue "
        "Verbindung gilt für alle Abrechnungen der Hausverwaltung.",
    )
    before = Router(c, EXAMPLES)
    rerouted = Router(c, EXAMPLES, [Reroute("item-1", recurring, "steueramt", "tiefbau")])
    assert before.model_version != rerouted.model_version
    next_month = recurring.replace("1. Mai", "1. Juni")
    decision = rerouted.decide(Letter(next_month))
    assert decision.candidates[0].department == "steueramt"
    assert decision.explanation.similar_letter == "reroute:item-1"
    assert before.decide(Letter(next_month)).triage  # nothing spoke for any department before


def test_a_later_reroute_of_the_same_item_overrules_the_earlier_one(tmp_path):
    c = catalog(tmp_path)
    text = letter("Hausverwaltung Klar", "Marktstraße 4", "Kontoänderung", "neue Bankverbindung.")
    reroutes = [Reroute("item-1", text, "steueramt"), Reroute("item-1", text, "abfall")]
    router = Router(c, EXAMPLES, reroutes)
    assert [x.label for x in router.model.knowledge.letters if x.key == "reroute:item-1"] == [
        "abfall"
    ]


def test_decisions_serialise_to_json_ready_dicts(tmp_path):
    text = letter("Ute Voss", "Kiefernweg 2", "Laterne", "die Laterne ist dunkel.")
    data = Router(catalog(tmp_path), EXAMPLES).decide(Letter(text)).to_dict()
    assert set(data) >= {
        "department",
        "confidence",
        "candidates",
        "references",
        "case",
        "triage",
        "misdirected",
        "reason",
        "explanation",
    }
