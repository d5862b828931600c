"""Misdirected mail: letters for other authorities and advertising go to triage marked as such,
with the likely addressee; letters that merely mention another authority stay routable."""

from pathlib import Path

import pytest

from routing import MISDIRECTED, Catalog, Letter, Router
from routing.misdirection import ADVERTISING, address_blocks
from tests.unit.routing.builders import catalog

SAMPLE_CITY = (
    Path(__file__).resolve().parents[3] / "mailroom" / "cities" / "lindenau" / "catalog.toml"
)
SENDER = "Ute Voss\nKiefernweg 2\n47131 Lindenau"
CITY = "Stadt Lindenau\nRathausplatz 1\n47131 Lindenau"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Catalog.load(SAMPLE_CITY))


def din_letter(recipient: str, subject: str, body: str, sender: str = SENDER) -> str:
    return (
        f"{sender}\n{recipient}\n03.03.2026\n{subject}\nSehr geehrte Damen und Herren,\n"
        f"{body}\nMit freundlichen Grüßen\nUte Voss\n"
    )


ADDRESSED = [
    ("Finanzamt Lindenau\nPostfach 1234\n47131 Lindenau", "Finanzamt"),
    ("Jobcenter Lindenau\nBahnhofstraße 3\n47131 Lindenau", "Jobcenter"),
    ("Agentur für Arbeit Duisburg\nPostfach 10 11 12\n47051 Duisburg", "Jobcenter"),
    ("Bundesagentur für Arbeit\nFamilienkasse NRW West\n47001 Duisburg", "Familienkasse"),
    ("Deutsche Rentenversicherung Rheinland\n40194 Düsseldorf", "Deutsche Rentenversicherung"),
    ("AOK Rheinland/Hamburg\nKasernenstraße 61\n40213 Düsseldorf", "Krankenkasse"),
    ("Techniker Krankenkasse\n22291 Hamburg", "Krankenkasse"),
    ("Amtsgericht Lindenau\nNachlassabteilung\nGerichtsplatz 1\n47131 Lindenau", "Amtsgericht"),
    ("Polizeipräsidium Lindenau\nHauptstraße 5\n47131 Lindenau", "Polizei"),
    ("Kreisverwaltung Wesel\nReeser Landstraße 31\n46483 Wesel", "Kreisverwaltung / Landratsamt"),
    ("Landratsamt Musterkreis\nAm Markt 2\n12345 Musterstadt", "Kreisverwaltung / Landratsamt"),
]


@pytest.mark.parametrize(("recipient", "addressee"), ADDRESSED)
def test_a_letter_addressed_to_another_authority_is_misdirected(router, recipient, addressee):
    text = din_letter(recipient, "Meine Unterlagen", "anbei die Unterlagen, um die Sie baten.")
    decision = router.decide(Letter(text))
    assert decision.misdirected and decision.triage and decision.department is None
    assert decision.addressee == addressee
    assert addressee in decision.reason
    assert decision.explanation.method == "misdirection"
    assert any(line in recipient for line in decision.explanation.terms)  # the recipient line


def test_a_letter_from_an_authority_to_the_city_is_not_misdirected(router):
    sender = "Jobcenter Lindenau\nBahnhofstraße 3\n47131 Lindenau"
    recipient = "Stadt Lindenau\nSozialamt\nRathausplatz 1\n47131 Lindenau"
    text = din_letter(
        recipient,
        "Wohngeld für Frau Voss",
        "Frau Voss bezieht seit März kein Bürgergeld mehr; sie beantragt nun Wohngeld bei Ihnen.",
        sender=sender,
    )
    decision = router.decide(Letter(text))
    assert not decision.misdirected
    assert decision.candidates[0].department == "sozialamt"


@pytest.mark.parametrize(
    ("subject", "body", "department"),
    [
        (
            "Antrag auf Wohngeld",
            "das Jobcenter zahlt meine Miete nicht mehr, seit ich Rente bekomme. Ich beantrage "
            "deshalb Wohngeld.",
            "sozialamt",
        ),
        (
            "Unfall, Kennzeichen beschädigt",
            "die Polizei hat den Unfall aufgenommen. Mein Kennzeichen ist dabei beschädigt "
            "worden, ich brauche ein neues Kennzeichen für mein Auto.",
            "strassenverkehr",
        ),
        (
            "Übernahme der Bestattungskosten",
            "ich bin arbeitslos, das Jobcenter zahlt meine Miete. Ich kann die Beerdigung meiner "
            "Mutter nicht bezahlen und bitte um Übernahme der Bestattungskosten.",
            "sozialamt",
        ),
        (
            "Hundesteuer",
            "das Finanzamt hat damit nichts zu tun: ich möchte meinen Hund zur Hundesteuer "
            "anmelden.",
            "steueramt",
        ),
    ],
)
def test_a_letter_that_mentions_another_authority_stays_with_the_city(
    router, subject, body, department
):
    decision = router.decide(Letter(din_letter(CITY, subject, body)))
    assert not decision.misdirected
    assert decision.addressee is None
    assert decision.candidates[0].department == department


def test_a_police_report_enclosed_with_a_letter_for_the_city_is_no_misdirection(router):
    text = din_letter(
        CITY,
        "Personalausweis gestohlen",
        "mein Personalausweis wurde gestohlen. Ich brauche einen neuen Ausweis; die Bescheinigung "
        "der Polizei liegt bei.",
    )
    text += (
        "\fPolizeipräsidium Lindenau – Polizeiwache Mitte\nHafenstraße 30\n47134 Lindenau\n"
        "Bescheinigung über die Erstattung einer Strafanzeige\nDelikt: Taschendiebstahl\n"
        "Abhanden gekommen: Personalausweis, Krankenversichertenkarte\n"
    )
    decision = router.decide(Letter(text))
    assert not decision.misdirected
    assert decision.candidates[0].department == "buergerbuero"


@pytest.mark.parametrize(
    ("subject", "body", "addressee"),
    [
        (
            "Rentenantrag",
            "ich möchte meinen Rentenantrag stellen. Mein Versicherungsverlauf hat Lücken, bitte "
            "um Kontenklärung.",
            "Deutsche Rentenversicherung",
        ),
        (
            "Neue Gesundheitskarte",
            "meine Gesundheitskarte ist kaputt, bitte schicken Sie mir eine neue "
            "Versichertenkarte. Meine Krankenversicherungsnummer steht oben.",
            "Krankenkasse",
        ),
        (
            "Strafanzeige wegen Einbruch",
            "ich möchte Strafanzeige erstatten: bei uns war ein Einbruch. Ich stelle Strafantrag.",
            "Polizei",
        ),
        (
            "Weiterbewilligungsantrag Bürgergeld",
            "anbei mein Weiterbewilligungsantrag, meine Bedarfsgemeinschaft ist unverändert.",
            "Jobcenter",
        ),
    ],
)
def test_a_matter_of_another_authority_sent_to_the_city_is_misdirected(
    router, subject, body, addressee
):
    decision = router.decide(Letter(din_letter(CITY, subject, body)))
    assert decision.misdirected and decision.triage and decision.department is None
    assert decision.addressee == addressee
    assert decision.explanation.terms  # the terms that showed it


ADVERTISING_LETTERS = [
    "Sehr geehrte Kundin, sehr geehrter Kunde,\nnur heute: 50 % Rabatt auf alle Matratzen! "
    "Gutscheincode SCHLAF50.\nSie möchten keine Werbung mehr? Schreiben Sie uns.",
    "Möbel Direkt GmbH · Gewerbepark 1 · 33602 Bielefeld\n" + CITY + "\nFRÜHJAHRS-AKTION\n"
    "Sehr geehrte Damen und Herren,\nSchreibtisch statt 899,00 € nur 539,00 € netto, "
    "Lieferung kostenlos.\n",
    "Eintragungsservice · Postfach 10 44 · 10117 Berlin\n" + CITY + "\nRechnung/Angebot\n"
    "Sehr geehrte Damen und Herren,\nEintragung Ihrer Firma, 398,00 € zzgl. 19 % MwSt.\n"
    "Hinweis: Dies ist ein Angebot. Ein Vertrag kommt erst durch Ihre Zahlung zustande.\n",
    "Dear customer,\nspecial offer for your office: 30% off all printers, use promo code "
    "CITY30. Unsubscribe at any time.\n",
]


@pytest.mark.parametrize("text", ADVERTISING_LETTERS)
def test_advertising_is_misdirected_as_werbung(router, text):
    decision = router.decide(Letter(text))
    assert decision.misdirected and decision.triage and decision.department is None
    assert decision.addressee == ADVERTISING == "Werbung"
    assert decision.explanation.method == "misdirection"
    assert "advertising cues" in decision.explanation.detail


def test_advertising_is_recognised_with_a_catalog_without_advertising_groups(tmp_path):
    router = Router(catalog(tmp_path))
    decision = router.decide(Letter(ADVERTISING_LETTERS[0]))
    assert decision.misdirected and decision.addressee == "Werbung"


def test_a_business_letter_with_one_offer_word_is_not_advertising(router):
    text = din_letter(
        CITY,
        "Sondernutzung Außengastronomie",
        "für unser Café beantragen wir die Sondernutzungserlaubnis für vier Tische vor dem "
        "Haus. Ein Angebot für die Möbel liegt uns vor.",
    )
    decision = router.decide(Letter(text))
    assert not decision.misdirected
    assert decision.candidates[0].department == "ordnungsamt"


def test_the_classifiers_misdirection_also_names_the_addressee(router):
    text = f"{SENDER}\n\nSehr geehrte Damen und Herren,\nIch möchte Kindergeld beantragen.\n"
    decision = router.decide(Letter(text))
    assert decision.misdirected
    assert decision.candidates[0].department == MISDIRECTED
    assert decision.addressee == "Familienkasse"


def test_misdirected_decisions_serialise_the_addressee(router):
    text = din_letter("Finanzamt Lindenau\nPostfach 1234\n47131 Lindenau", "Unterlagen", "anbei.")
    data = router.decide(Letter(text)).to_dict()
    assert data["misdirected"] is True
    assert data["addressee"] == "Finanzamt"
    assert data["department"] is None


def test_address_blocks_end_at_postcode_lines_and_return_address_lines():
    text = (
        "Firma X · Weg 1 · 12345 Ort\nFinanzamt Lindenau\nPostfach 1\n47131 Lindenau\n"
        "Betreff: Steuer\nSehr geehrte Damen und Herren,\n12345 Nicht mehr im Kopf\n"
    )
    assert address_blocks(text) == [
        ["Firma X · Weg 1 · 12345 Ort"],
        ["Finanzamt Lindenau", "Postfach 1", "47131 Lindenau"],
    ]


def test_the_catalog_names_further_recipients_and_advertising_groups(tmp_path):
    extra = """
[[misdirected]]
addressee = "Stadtwerke"
recipients = ["Stadtwerke Testhausen"]
keywords = ["Stromzähler", "Zählerstand"]
"""
    c = catalog(tmp_path, extra)
    group = c.misdirection[-1]
    assert group.recipients == ("Stadtwerke Testhausen",) and not group.advertising
    text = din_letter("Stadtwerke Testhausen\nWerkstraße 1\n12345 Testhausen", "Zähler", "anbei.")
    decision = Router(c).decide(Letter(text))
    assert decision.misdirected and decision.addressee == "Stadtwerke"
