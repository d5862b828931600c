"""Service-level routing (the department's Leistung from the letter's words, also English and
Turkish) and the secondary department of a multi-topic letter."""

from pathlib import Path

import pytest

from routing import Catalog, Letter, Router
from routing.services import ServiceMatcher
from routing.text import analyse
from tests.unit.routing.builders import catalog, letter

SAMPLE_CITY = (
    Path(__file__).resolve().parents[3] / "mailroom" / "cities" / "lindenau" / "catalog.toml"
)

SERVICE_TOML = """
[[departments]]
id = "buergerbuero"
name = "Bürgerbüro"
description = "Meldewesen und Ausweise."
keywords = ["Reisepass", "Personalausweis", "ummelden"]
[[departments.services]]
key = "reisepass"
name = "Reisepass / Kinderreisepass"
synonyms = ["Pass", "passport", "pasaport"]
[[departments.services]]
key = "personalausweis"
name = "Personalausweis"
synonyms = ["Perso", "ID card", "kimlik"]
[[departments.services]]
key = "anmeldung"
name = "Anmeldung / Ummeldung des Wohnsitzes"
synonyms = ["ummelden", "umgezogen", "new address"]
"""


def body(subject: str, text: str) -> str:
    return letter("Ute Voss", "Kiefernweg 2", subject, text)


@pytest.fixture(scope="module")
def sample() -> Catalog:
    return Catalog.load(SAMPLE_CITY)


def choose(matcher: ServiceMatcher, department: str, text: str) -> str | None:
    choice = matcher.choose(department, analyse(text), text)
    return None if choice is None else choice.service


def test_services_carry_their_synonyms(tmp_path):
    c = catalog(tmp_path, SERVICE_TOML)
    assert c.service("reisepass").synonyms == ("Pass", "passport", "pasaport")
    assert c.service("sperrmuell").synonyms == ()


@pytest.mark.parametrize(
    ("subject", "text", "service"),
    [
        ("Kinderreisepass", "unsere Tochter braucht einen Kinderreisepass.", "reisepass"),
        ("Passport", "I need a new passport for my son.", "reisepass"),
        ("Pasaport", "Oğlum için yeni pasaport lazım.", "reisepass"),
        ("Perso", "mein Perso ist abgelaufen.", "personalausweis"),
        ("Kimlik", "kimlik kartım kayboldu.", "personalausweis"),
        ("Umzug", "wir sind umgezogen und möchten uns ummelden.", "anmeldung"),
    ],
)
def test_the_service_is_chosen_from_names_and_synonyms(tmp_path, subject, text, service):
    matcher = ServiceMatcher(catalog(tmp_path, SERVICE_TOML))
    assert choose(matcher, "buergerbuero", body(subject, text)) == service


def test_no_service_when_the_letter_names_two_equally_or_none(tmp_path):
    matcher = ServiceMatcher(catalog(tmp_path, SERVICE_TOML))
    both = body("Ausweise", "ich brauche einen Reisepass und einen Personalausweis.")
    assert choose(matcher, "buergerbuero", both) is None
    assert choose(matcher, "buergerbuero", body("Frage", "ich habe eine Frage.")) is None
    assert choose(matcher, "unknown-department", both) is None


@pytest.mark.parametrize(
    ("department", "text", "service"),
    [
        (
            "strassenverkehr",
            "I moved from the UK and must exchange my driving licence.",
            "fuehrerschein",
        ),
        ("strassenverkehr", "Türkiye'den geldim, ehliyet değiştirmek istiyorum.", "fuehrerschein"),
        (
            "jugendamt",
            "Wir suchen einen Kitaplatz für unsere Tochter ab August.",
            "kita-platz-kindertagespflege",
        ),
        (
            "abfall",
            "Bitte holen Sie unseren Sperrmüll ab: ein Sofa und ein Schrank.",
            "sperrmuell-termin",
        ),
        ("sozialamt", "Unsere Miete ist zu hoch, wir beantragen einen Mietzuschuss.", "wohngeld"),
        (
            "steueramt",
            "Ich kann die Grundsteuer nur in Raten zahlen, bitte um Ratenzahlung.",
            "stundung-ratenzahlung-erlass",
        ),
    ],
)
def test_the_sample_citys_services_are_found_in_citizens_words(sample, department, text, service):
    assert choose(ServiceMatcher(sample), department, body("Anliegen", text)) == service


def test_a_routed_letter_carries_its_service_and_the_terms(tmp_path):
    router = Router(catalog(tmp_path))
    text = body("Sperrmüll", "bitte holen Sie unseren Sperrmüll ab: ein Sofa und ein Schrank.")
    decision = router.decide(Letter(text))
    assert decision.department == "abfall"
    assert decision.service == "sperrmuell"
    assert "Sperrmüll" in decision.service_terms
    data = decision.to_dict()
    assert data["service"] == "sperrmuell" and data["service_terms"]


def test_a_triaged_letter_has_no_service(tmp_path):
    decision = Router(catalog(tmp_path)).decide(Letter(body("Frage", "eine allgemeine Frage.")))
    assert decision.triage and decision.service is None and decision.secondary is None


def test_a_multi_topic_letter_names_a_secondary_department(tmp_path):
    router = Router(catalog(tmp_path))
    text = body(
        "Sperrmüll",
        "wir brauchen einen Termin für Sperrmüll: ein Sofa und ein Schrank. Außerdem ist die "
        "Laterne vor dem Haus dunkel und eine Gehwegplatte ist eine Stolperfalle.",
    )
    decision = router.decide(Letter(text))
    assert {decision.department, decision.secondary} == {"abfall", "tiefbau"}
    assert len(decision.secondary_terms) >= 2
    assert decision.to_dict()["secondary"] == decision.secondary


def test_a_single_topic_letter_has_no_secondary(tmp_path):
    text = body("Sperrmüll", "bitte holen Sie unseren Sperrmüll ab: ein Sofa und ein Schrank.")
    assert Router(catalog(tmp_path)).decide(Letter(text)).secondary is None
