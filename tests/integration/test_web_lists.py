"""The list pages over HTTP against the real embedded mailroom: Arbeitskorb and the
department queue (filters, sort, keyset paging, saved filters, bulk actions, permissions).
Search and statistics: test_web_search_statistics.py."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom, utc_now
from mailroom.web import routes_queues, saved_filters
from mailroom.web.queue_query import QueueQuery
from tests.fixtures.web_lists import (
    STANDESAMT_CASES,
    World,
    build_world,
    csrf_token,
    flashes,
    get_ok,
    references,
    signed_in_client,
)

QUEUE = "/fachdienste/standesamt"
_NEXT = re.compile(r'href="([^"]+)" rel="next"')
_CHECKBOX = re.compile(r'name="auswahl" value="([A-Z0-9-]+:\d+)"')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(Path(tmp_path_factory.mktemp("lists")) / "var")
    yield built
    built.mailroom.stop()


@pytest.fixture(scope="module")
def app(world: World) -> object:
    return create_app(world.mailroom)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[World]:
    """A world of its own, for tests that change cases."""
    built = build_world(tmp_path / "var")
    yield built
    built.mailroom.stop()


# -- Arbeitskorb ------------------------------------------------------------------------------


def test_the_arbeitskorb_lists_my_cases_and_my_departments(fresh: World) -> None:
    erika = fresh.principals["erika"]
    workspace, casework = fresh.mailroom.services.workspace, fresh.mailroom.services.casework
    rows = workspace.queue(erika, "standesamt", limit=30).rows
    for row in (rows[0], rows[3]):  # overdue, at risk
        workspace.wait_for(casework.take(erika, row.reference), "cases")
    client = signed_in_client(create_app(fresh.mailroom), "erika")
    page = get_ok(client, "/arbeitskorb")
    assert references(page) == [rows[0].reference, rows[3].reference]  # most urgent first
    assert "überfällig" in page and "gefährdet" in page and "Arbeitstag" in page
    services = [
        fresh.mailroom.catalog.service(r.service_key or "").name for r in (rows[0], rows[3])
    ]
    assert all(f'class="cell-service">{name}<' in page for name in services)
    assert "In Bearbeitung" in page  # the status in German
    assert 'href="/fachdienste/standesamt?frist=ueberfaellig"' in page
    assert 'href="/fachdienste/standesamt?frist=gefaehrdet"' in page
    assert "Bürgerbüro" not in page

    mailroom_staff = signed_in_client(create_app(fresh.mailroom), "paul")
    pointer = get_ok(mailroom_staff, "/arbeitskorb")
    assert 'href="/triage"' in pointer and "Ihnen sind keine Vorgänge zugewiesen" in pointer


def test_signed_out_pages_ask_to_sign_in(app: object) -> None:
    client = TestClient(app)  # type: ignore[arg-type]
    for path in ("/arbeitskorb", QUEUE, "/suche?q=x", "/statistik", "/statistik.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/anmelden?weiter=")


# -- the department queue ---------------------------------------------------------------------


def test_filters_narrow_the_queue(world: World, app: object) -> None:
    client = signed_in_client(app, "erika")
    assert len(references(get_ok(client, QUEUE))) == STANDESAMT_CASES
    overdue = get_ok(client, QUEUE + "?frist=ueberfaellig")
    assert len(references(overdue)) == 3 and "Geburtsurkunde für Kind" in overdue
    assert len(references(get_ok(client, QUEUE + "?frist=gefaehrdet"))) == 2
    assert len(references(get_ok(client, QUEUE + "?aelter_als=10"))) == 3
    assert len(references(get_ok(client, QUEUE + "?leistung=trauung"))) == 7
    assert len(references(get_ok(client, QUEUE + "?leistung=trauung&status=neu"))) == 7
    assert references(get_ok(client, QUEUE + "?status=abgeschlossen")) == []
    assert len(references(get_ok(client, QUEUE + "?bearbeitung=niemand"))) == STANDESAMT_CASES
    assert references(get_ok(client, QUEUE + "?bearbeitung=ich")) == []
    # Nonsense is ignored or explained, never an error page.
    odd = get_ok(client, QUEUE + "?status=weg&leistung=meldebescheinigung&frist=bald")
    assert len(references(odd)) == STANDESAMT_CASES
    not_a_number = get_ok(client, QUEUE + "?aelter_als=zehn")
    assert len(references(not_a_number)) == STANDESAMT_CASES
    assert "Bitte geben Sie eine ganze Zahl von Tagen" in not_a_number


def test_htmx_gets_only_the_list(app: object) -> None:
    client = signed_in_client(app, "erika")
    headers = {"HX-Request": "true", "HX-Target": routes_queues.LIST_TARGET}
    answer = client.get(QUEUE + "?frist=ueberfaellig", headers=headers)
    assert answer.status_code == 200
    assert "<html" not in answer.text and 'id="vorgangsliste"' in answer.text
    assert 'id="meine-filter"' in answer.text and 'hx-swap-oob="true"' in answer.text
    assert len(references(answer.text)) == 3


@pytest.mark.parametrize("sort", ["frist", "eingang", "aktenzeichen"])
def test_sorting_and_keyset_paging_show_every_case_once(
    world: World, app: object, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    monkeypatch.setattr(routes_queues, "PAGE_SIZE", 7)
    client = signed_in_client(app, "erika")
    url: str | None = f"{QUEUE}?sortierung={sort}"
    seen: list[str] = []
    pages = 0
    while url:
        page = get_ok(client, url)
        assert "pagination" not in page  # no page numbers
        seen += references(page)
        found = _NEXT.search(page)
        url = html.unescape(found.group(1)) if found else None
        if url:
            assert "nach=" in url
            assert (f"sortierung={sort}" in url) == (sort != "frist")  # the default left out
        pages += 1
    assert pages == 4 and len(seen) == len(set(seen)) == STANDESAMT_CASES
    rows = world.mailroom.services.workspace.queue(
        world.principals["erika"], "standesamt", sort=QueueQuery(sort=sort).service_sort, limit=50
    ).rows
    assert seen == [r.reference for r in rows]
    if sort == "aktenzeichen":
        assert seen == sorted(seen)


def test_a_page_link_that_is_no_longer_valid_starts_over(app: object) -> None:
    client = signed_in_client(app, "erika")
    answer = client.get(QUEUE + "?frist=ueberfaellig&nach=kaputt", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == QUEUE + "?frist=ueberfaellig"
    assert "Der Link zur Seite ist nicht mehr gültig" in flashes(client.get(QUEUE).text)[0]


def test_a_queue_of_another_department_answers_like_an_unknown_one(app: object) -> None:
    client = signed_in_client(app, "erika")
    other = client.get("/fachdienste/buergerbuero")
    unknown = client.get("/fachdienste/gibt-es-nicht")
    assert other.status_code == unknown.status_code == 404
    assert other.text == unknown.text
    token = csrf_token(get_ok(client, QUEUE))
    for path in ("/sammelaktion", "/filter", "/filter/1/loeschen"):
        answer = client.post(
            "/fachdienste/buergerbuero" + path,
            data={"csrf_token": token, "name": "x", "auswahl": ["LIN-2026-0000-0000:1"]},
        )
        assert answer.status_code == 404, path
    mailroom_staff = signed_in_client(app, "paul")
    assert mailroom_staff.get(QUEUE).text == mailroom_staff.get("/fachdienste/nix").text
    assert get_ok(signed_in_client(app, "anke"), "/fachdienste/buergerbuero")  # admin: all


# -- saved filters ----------------------------------------------------------------------------


def test_saved_filters_belong_to_one_person(app: object) -> None:
    erika, hans = signed_in_client(app, "erika"), signed_in_client(app, "hans")
    token = csrf_token(get_ok(erika, QUEUE))
    saved = erika.post(
        QUEUE + "/filter",
        data={
            "csrf_token": token,
            "name": "  Überfällige\tGeburten ",
            "abfrage": "leistung=geburtsurkunde&frist=ueberfaellig&nach=x&fremd=1",
        },
    )
    assert saved.status_code == 200
    assert flashes(saved.text) == ["Filter „Überfällige Geburten“ gespeichert."]
    link = 'href="/fachdienste/standesamt?leistung=geburtsurkunde&amp;frist=ueberfaellig"'
    assert link in saved.text and 'aria-current="true"' in saved.text  # the filter shown now
    filter_id = re.search(r'/filter/(\d+)/loeschen"', saved.text).group(1)  # type: ignore[union-attr]

    assert "Überfällige Geburten" not in get_ok(hans, QUEUE)
    hans_token = csrf_token(get_ok(hans, QUEUE))
    refused = hans.post(f"{QUEUE}/filter/{filter_id}/loeschen", data={"csrf_token": hans_token})
    assert flashes(refused.text) == ["Diesen Filter gibt es nicht mehr."]
    assert "Überfällige Geburten" in get_ok(erika, QUEUE)

    forged = erika.post(QUEUE + "/filter", data={"csrf_token": "gefälscht", "name": "Böse"})
    assert forged.status_code == 403 and "Formular abgelaufen" in forged.text
    assert erika.post(QUEUE + "/filter", data={"name": "Ohne Token"}).status_code == 403
    page = get_ok(erika, QUEUE)
    assert "Böse" not in page and "Ohne Token" not in page

    again = erika.post(
        QUEUE + "/filter",
        data={"csrf_token": token, "name": "Überfällige Geburten", "abfrage": "frist=gefaehrdet"},
    )
    assert flashes(again.text) == ["Filter „Überfällige Geburten“ aktualisiert."]
    assert 'href="/fachdienste/standesamt?frist=gefaehrdet"' in again.text
    nameless = erika.post(QUEUE + "/filter", data={"csrf_token": token, "name": " "})
    assert flashes(nameless.text) == ["Bitte geben Sie dem Filter einen Namen."]

    deleted = erika.post(f"{QUEUE}/filter/{filter_id}/loeschen", data={"csrf_token": token})
    assert flashes(deleted.text) == ["Filter „Überfällige Geburten“ gelöscht."]
    assert "Überfällige Geburten" not in get_ok(erika, QUEUE)


# -- bulk actions -----------------------------------------------------------------------------


def test_bulk_assignment_skips_a_case_changed_meanwhile(fresh: World) -> None:
    client = signed_in_client(create_app(fresh.mailroom), "erika")
    listed = "?leistung=eheurkunde&sortierung=aktenzeichen"
    page = get_ok(client, QUEUE + listed)
    selected = _CHECKBOX.findall(page)[:4]
    assert len(selected) == 4
    stale_reference = selected[1].split(":")[0]
    hans = fresh.principals["hans"]
    fresh.mailroom.services.casework.add_note(hans, stale_reference, "Rückruf erledigt")
    answer = client.post(
        QUEUE + "/sammelaktion",
        data={
            "csrf_token": csrf_token(page),
            "aktion": "zuweisen",
            "zuweisen_an": "staff:hans",
            "auswahl": selected,
            "zurueck": listed.lstrip("?") + "&unbekannt=1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == QUEUE + "?leistung=eheurkunde&sortierung=aktenzeichen"
    shown = client.get(answer.headers["location"]).text
    assert flashes(shown) == ["3 Vorgänge zugewiesen, 1 übersprungen (inzwischen geändert)."]
    assigned = references(get_ok(client, QUEUE + "?bearbeitung=staff:hans"))
    expected = {s.split(":")[0] for s in selected} - {stale_reference}
    assert set(assigned) == expected


def test_bulk_take_and_reroute(fresh: World) -> None:
    client = signed_in_client(create_app(fresh.mailroom), "erika")
    page = get_ok(client, QUEUE + "?leistung=trauung")
    first, second, third = _CHECKBOX.findall(page)[:3]
    token = csrf_token(page)
    taken = client.post(
        QUEUE + "/sammelaktion",
        data={"csrf_token": token, "aktion": "zuweisen", "zuweisen_an": "ich", "auswahl": first},
    )
    assert flashes(taken.text) == ["1 Vorgang zugewiesen."]
    assert references(get_ok(client, "/arbeitskorb")) == [first.split(":")[0]]
    moved = client.post(
        QUEUE + "/sammelaktion",
        data={
            "csrf_token": token,
            "aktion": "weiterleiten",
            "weiterleiten_an": "buergerbuero",
            "auswahl": [second, third, "LIN-2026-0000-0000:1"],
        },
    )
    assert flashes(moved.text) == ["2 Vorgänge weitergeleitet, 1 nicht möglich."]
    remaining = references(get_ok(client, QUEUE + "?leistung=trauung"))
    assert second.split(":")[0] not in remaining and third.split(":")[0] not in remaining
    olaf = signed_in_client(create_app(fresh.mailroom), "olaf")
    assert second.split(":")[0] in references(get_ok(olaf, "/fachdienste/buergerbuero"))
    nothing = client.post(QUEUE + "/sammelaktion", data={"csrf_token": token, "aktion": "zuweisen"})
    assert flashes(nothing.text) == ["Bitte wählen Sie mindestens einen Vorgang aus."]
    forged = client.post(
        QUEUE + "/sammelaktion",
        data={"csrf_token": "x", "aktion": "zuweisen", "zuweisen_an": "ich", "auswahl": second},
    )
    assert forged.status_code == 403


def test_saved_filters_survive_a_rebuild_of_the_read_models(mailroom: Mailroom) -> None:
    views = mailroom.views
    saved_filters.save_filter(views, "staff:erika", "standesamt", "Neu", "status=neu", utc_now)
    for projection in mailroom.projections:
        projection.clear()
    (kept,) = saved_filters.list_filters(views, "staff:erika", "standesamt")
    assert (kept.name, kept.query) == ("Neu", "status=neu")
    assert saved_filters.list_filters(views, "staff:hans", "standesamt") == []
