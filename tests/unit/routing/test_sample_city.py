"""The sample city's catalog alone (no example letters) places typical letters."""

from pathlib import Path

import pytest

from routing import MISDIRECTED, Catalog, Letter, Router

SAMPLE_CITY = (
    Path(__file__).resolve().parents[3] / "mailroom" / "cities" / "lindenau" / "catalog.toml"
)

LETTERS = [
    ("standesamt", "Meine Mutter ist im Krankenhaus gestorben. Die Bank will eine Sterbeurkunde."),
    ("buergerbuero", "Mein Personalausweis wurde gestohlen, ich brauche schnell einen neuen."),
    ("strassenverkehr", "Ich habe einen Gebrauchtwagen gekauft und möchte ihn auf mich zulassen."),
    ("ordnungsamt", "Jede Nacht lassen die Nachbarn bis 3 Uhr laute Musik laufen."),
    ("steueramt", "Ich kann die Grundsteuer nicht auf einmal zahlen. Geht eine Ratenzahlung?"),
    ("jugendamt", "Wir suchen für unseren Sohn (2) einen Kitaplatz ab August."),
    ("bauaufsicht", "Der Nachbar baut ohne Genehmigung eine Garage direkt an unsere Grenze."),
    ("tiefbau", "Auf dem Radweg sind tiefe Schlaglöcher, ich bin mit dem Fahrrad gestürzt."),
    ("abfall", "Unsere Biotonne wurde schon zweimal nicht geleert."),
    ("sozialamt", "Meine Rente reicht nicht zum Leben. Kann ich Grundsicherung bekommen?"),
    (MISDIRECTED, "Hiermit lege ich Einspruch gegen meinen Einkommensteuerbescheid 2024 ein."),
]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Catalog.load(SAMPLE_CITY))


@pytest.mark.parametrize(("department", "body"), LETTERS)
def test_a_typical_letter_gets_its_department_as_first_candidate(router, department, body):
    text = f"Max Muster\nMusterweg 1\n47131 Lindenau\n\nSehr geehrte Damen und Herren,\n{body}\n"
    decision = router.decide(Letter(text))
    assert decision.candidates[0].department == department
    assert decision.misdirected == (department == MISDIRECTED)
