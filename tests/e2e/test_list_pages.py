"""The list pages in a real browser against the real embedded mailroom: a clerk's Arbeitskorb,
the department queue with a filter and its next page, bulk assignment, search with a hit and
the statistics of a lead — each checked with axe-core and kept as a screenshot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from mailroom.api.app import create_app
from mailroom.web import routes_queues
from tests.fixtures.web_lists import PASSWORD, World, build_world
from tests.harness.browser import TABLET_VIEWPORT, check_accessibility, screenshot, serve_app

PAGE_SIZE = 10


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = build_world(Path(tmp_path_factory.mktemp("lists")) / "var")
    erika = world.principals["erika"]
    workspace = world.mailroom.services.workspace
    overdue = workspace.queue(erika, "standesamt", limit=30).rows
    for row in (overdue[0], overdue[3], overdue[10]):  # overdue, at risk, on track
        workspace.wait_for(world.mailroom.services.casework.take(erika, row.reference), "cases")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes_queues, "PAGE_SIZE", PAGE_SIZE)
        with serve_app(create_app(world.mailroom)) as url:
            yield url, world
    world.mailroom.stop()


def sign_in(page: Page, url: str, login: str, target: str) -> None:
    page.goto(f"{url}{target}")
    page.get_by_label("Benutzername").fill(login)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{url}{target}")


def test_a_clerks_arbeitskorb(browser_page: Page, site: tuple[str, World]) -> None:
    url, _ = site
    sign_in(browser_page, url, "erika", "/arbeitskorb")
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Arbeitskorb")
    mine = browser_page.locator("table.list-table tbody tr")
    expect(mine).to_have_count(3)
    expect(mine.first).to_contain_text("überfällig")
    expect(mine.first).to_contain_text("Geburtsurkunde")
    expect(browser_page.locator("table.list-table")).to_contain_text("gefährdet")
    counts = browser_page.locator("table.department-counts")
    expect(counts.get_by_role("link", name="Standesamt", exact=True)).to_have_attribute(
        "href", "/fachdienste/standesamt"
    )
    expect(counts.locator('a[href="/fachdienste/standesamt?frist=ueberfaellig"]')).to_be_visible()
    check_accessibility(browser_page, "arbeitskorb")
    screenshot(browser_page, "arbeitskorb")
    browser_page.locator("table.list-table a.reference").first.click()
    expect(browser_page).to_have_url(re.compile(r"/faelle/LIN-2026-"))


def test_the_department_queue_with_a_filter_and_a_next_page(
    browser_page: Page, site: tuple[str, World]
) -> None:
    url, _ = site
    sign_in(browser_page, url, "erika", "/fachdienste/standesamt")
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Standesamt")
    filters = browser_page.get_by_role("search", name="Vorgänge filtern")
    filters.get_by_label("Bearbeitung").select_option(label="nicht zugewiesen")
    filters.get_by_role("button", name="Filter anwenden").click()  # htmx swaps the table
    expect(browser_page).to_have_url(f"{url}/fachdienste/standesamt?bearbeitung=niemand")
    rows = browser_page.locator("table.queue-table tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(browser_page.locator("table.queue-table")).not_to_contain_text("Erika Muster")
    first_page = rows.locator("a.reference").all_inner_texts()
    check_accessibility(browser_page, "fachdienst")
    screenshot(browser_page, "fachdienst")

    browser_page.get_by_role("link", name="Weitere Vorgänge").click()
    expect(browser_page).to_have_url(re.compile(r"bearbeitung=niemand&nach="))
    expect(browser_page.get_by_label("Bearbeitung")).to_have_value("niemand")
    second_page = rows.locator("a.reference").all_inner_texts()
    assert second_page and not set(second_page) & set(first_page)
    expect(browser_page.get_by_role("link", name="Zum Anfang der Liste")).to_be_visible()

    browser_page.set_viewport_size(TABLET_VIEWPORT)  # type: ignore[arg-type]
    browser_page.get_by_role("link", name="Zum Anfang der Liste").click()
    expect(rows).to_have_count(PAGE_SIZE)
    check_accessibility(browser_page, "fachdienst-tablet")
    screenshot(browser_page, "fachdienst-tablet")


def test_bulk_assignment_and_a_saved_filter(browser_page: Page, site: tuple[str, World]) -> None:
    url, _ = site
    sign_in(browser_page, url, "hans", "/fachdienste/standesamt?leistung=trauung")
    rows = browser_page.locator("table.queue-table tbody tr")
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    browser_page.get_by_label("Zuweisen an …").select_option(label="mir")
    browser_page.get_by_role("button", name="Zuweisen", exact=True).click()
    expect(browser_page.locator(".flash--success")).to_have_text("2 Vorgänge zugewiesen.")
    expect(browser_page).to_have_url(f"{url}/fachdienste/standesamt?leistung=trauung")
    expect(rows.filter(has_text="Hans Berger")).to_have_count(2)

    browser_page.get_by_text("Filter speichern").click()
    browser_page.get_by_label("Name des Filters").fill("Trauungen")
    browser_page.get_by_role("button", name="Speichern").click()
    expect(browser_page.locator(".flash--success")).to_have_text("Filter „Trauungen“ gespeichert.")
    saved = browser_page.get_by_role("navigation", name="Meine gespeicherten Filter")
    expect(saved.get_by_role("link", name="Trauungen")).to_have_attribute("aria-current", "true")
    check_accessibility(browser_page, "fachdienst-sammelaktion")


def test_search_finds_a_case(browser_page: Page, site: tuple[str, World]) -> None:
    url, _ = site
    sign_in(browser_page, url, "erika", "/arbeitskorb")
    header_search = browser_page.get_by_role("search").filter(has=browser_page.locator("#suche-q"))
    header_search.get_by_label("Suche nach Vorgängen").fill("Kowalski")
    header_search.get_by_role("button", name="Suchen").click()
    expect(browser_page).to_have_url(f"{url}/suche?q=Kowalski")
    hits = browser_page.locator(".search-hit")
    expect(hits).to_have_count(1)  # the Bürgerbüro's Kowalski is not Erika's to see
    expect(hits.locator("mark")).to_have_text("Kowalski")
    expect(hits.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"^/faelle/LIN-2026-[A-Z0-9-]+\?q=Kowalski$")
    )
    check_accessibility(browser_page, "suche")
    screenshot(browser_page, "suche")


def test_statistics_for_a_lead(browser_page: Page, site: tuple[str, World]) -> None:
    url, _ = site
    sign_in(browser_page, url, "lea", "/statistik")
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Statistik")
    expect(browser_page.locator(".page-header__meta")).to_contain_text("Standesamt")
    expect(browser_page.locator("main")).not_to_contain_text("Bürgerbüro")
    expect(browser_page.get_by_role("table", name="Fristen nach Fachdienst")).to_contain_text("25")
    csv_link = browser_page.get_by_role(
        "link", name=re.compile("„Fristen nach Fachdienst“ als CSV")
    )
    expect(csv_link).to_have_attribute("href", "/statistik.csv?tabelle=fristen&tage=30")
    check_accessibility(browser_page, "statistik")
    screenshot(browser_page, "statistik")
