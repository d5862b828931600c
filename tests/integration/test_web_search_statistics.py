"""Search and statistics pages over HTTP against the real embedded mailroom: what each
person may find and see, calm answers to any search input, and the CSV downloads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.api.app import create_app
from tests.fixtures.web_lists import STANDESAMT_CASES, World, build_world, get_ok, signed_in_client


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    world: World = build_world(Path(tmp_path_factory.mktemp("search")) / "var")
    yield create_app(world.mailroom)
    world.mailroom.stop()


# -- search -----------------------------------------------------------------------------------


def test_search_shows_only_the_persons_departments(app: object) -> None:
    erika, olaf, paul = (signed_in_client(app, login) for login in ("erika", "olaf", "paul"))
    found = get_ok(erika, "/suche?q=Kowalski")
    assert "Geburtsurkunde Zwillinge <mark>Kowalski</mark>" in found
    assert "Meldebescheinigung" not in found and "1 Treffer" in found
    link = re.search(r'href="(/faelle/[A-Z0-9-]+\?q=Kowalski)"', found)
    assert link is not None
    assert "Meldebescheinigung <mark>Kowalski</mark>" in get_ok(olaf, "/suche?q=Kowalski")
    assert "Geburtsurkunde" not in get_ok(olaf, "/suche?q=Kowalski")
    nothing = get_ok(paul, "/suche?q=Kowalski")
    assert "<mark>" not in nothing and "Triage" in nothing
    help_page = get_ok(erika, "/suche")
    assert "So suchen Sie" in help_page and 'class="search-hit"' not in help_page


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "NEAR(a b)",
        "a OR",
        "-",
        "Kowal*ski:^",
        "'; DROP TABLE search_documents; --",
        "<script>alert(1)</script>",
        "\x00\x07",
        "ä" * 600,
        "( ) [ ] { } \\ / % _",
    ],
)
def test_any_search_input_answers_calmly(app: object, q: str) -> None:
    answer = signed_in_client(app, "erika").get("/suche", params={"q": q})
    assert answer.status_code == 200
    assert "<script>alert" not in answer.text


# -- statistics -------------------------------------------------------------------------------


def test_statistics_only_for_leads_and_administrators(app: object) -> None:
    for login in ("erika", "paul", "olaf"):
        client = signed_in_client(app, login)
        for path in ("/statistik", "/statistik.csv?tabelle=fristen"):
            answer = client.get(path)
            assert answer.status_code == 404 and "Nicht gefunden" in answer.text, (login, path)
    lead = get_ok(signed_in_client(app, "lea"), "/statistik")
    assert "Standesamt" in lead and "Bürgerbüro" not in lead
    assert "Eingänge pro Tag" in lead and "Offene Vorgänge nach Alter" in lead
    assert "/statistik.csv?tabelle=rueckstand&amp;tage=30" in lead
    assert "100,0 %" in lead  # every case came from the portal: routed by its service key
    admin = get_ok(signed_in_client(app, "anke"), "/statistik?tage=7")
    assert "Standesamt" in admin and "Bürgerbüro / Meldewesen" in admin
    assert "letzte 7 Tage" in admin
    quarter = get_ok(signed_in_client(app, "lea"), "/statistik?tage=90")
    assert "Eingänge pro Kalenderwoche" in quarter and ">KW 11<" in quarter


def test_statistics_as_csv_for_german_excel(app: object) -> None:
    client = signed_in_client(app, "lea")
    answer = client.get("/statistik.csv?tabelle=fristen")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="statistik-fristen-2026-03-16.csv"'
    )
    assert answer.content.startswith("\ufeff".encode())
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Fachdienst;Offen;Gefährdet;Überfällig;Wartet auf Bürger/in",
        f"Standesamt;{STANDESAMT_CASES};2;3;0",
    ]
    intake = client.get("/statistik.csv?tabelle=eingang&tage=7").content.decode("utf-8-sig")
    rows = intake.splitlines()
    assert rows[0] == "Tag;Online-Antrag;Brief (Scan);Gesamt"
    assert len(rows) == 8 and rows[-1] == "16.03.2026;0;0;0" and "13.03.2026;20;0;20" in rows
    routing = client.get("/statistik.csv?tabelle=zuordnung").content.decode("utf-8-sig")
    assert routing.splitlines()[1] == "22;22;100,0;0;0,0"
    backlog = client.get("/statistik.csv?tabelle=rueckstand").content.decode("utf-8-sig")
    assert backlog.splitlines()[1] == "Standesamt;20;2;0;3;25"
    assert client.get("/statistik.csv?tabelle=unbekannt").status_code == 404
