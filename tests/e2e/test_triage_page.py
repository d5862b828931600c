"""Triage in a real browser against a real (embedded) mailroom: a mailroom worker places
scanned letters the router could not, by keyboard, one after another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from tests.fixtures.web_casework import (
    ADMIN,
    HINWEIS,
    NACHFRAGE,
    PASSWORD,
    RUECKRUF,
    scan_to_triage,
    start_mailroom,
    station,
)
from tests.harness.browser import TABLET_VIEWPORT, check_accessibility, screenshot, serve_app


@dataclass
class Site:
    url: str
    mailroom: Mailroom
    items: list[UUID]  # in triage, oldest first

    def reference(self, item_id: UUID) -> str:
        return str(self.mailroom.services.workspace.triage_item(ADMIN, item_id).reference)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    mailroom = start_mailroom(Path(tmp_path_factory.mktemp("triage")) / "var")
    try:
        scanner = station(mailroom)
        items = [
            scan_to_triage(mailroom, scanner, pages, name)
            for pages, name in [
                (RUECKRUF, "rueckruf.pdf"),
                (NACHFRAGE, "nachfrage.pdf"),
                (HINWEIS, "hinweis.pdf"),
            ]
        ]
        with serve_app(create_app(mailroom)) as url:
            yield Site(url, mailroom, items)
    finally:
        mailroom.stop()


def sign_in(page: Page, url: str, login: str) -> None:
    page.goto(f"{url}/triage")
    page.get_by_label("Benutzername").fill(login)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{url}/triage")


def current_reference(page: Page) -> str:
    return page.locator("#triage-titel").inner_text().strip()


def test_placing_letters_by_keyboard(browser_page: Page, site: Site) -> None:
    page = browser_page
    sign_in(page, site.url, "paul")
    first, second, third = (site.reference(i) for i in site.items)
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage")
    expect(page.locator("#triage-titel")).to_have_text(first)  # the oldest first
    queue = page.get_by_role("navigation", name="Warteschlange")
    for reference in (first, second, third):
        expect(queue.get_by_role("link", name=reference)).to_be_visible()
    expect(page.locator(".triage-reason")).to_contain_text("Zuständigkeit unsicher")
    candidates = page.locator(".triage-candidate")
    expect(candidates).to_have_count(3)
    expect(candidates.first).to_contain_text("1 · ")
    expect(candidates.first).to_contain_text(" %)")
    scan = page.locator(".triage-item__scan img").first
    expect(scan).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=scan.element_handle())
    check_accessibility(page, "triage")
    screenshot(page, "triage")

    # j / k: next and previous item
    page.keyboard.press("j")
    expect(page.locator("#triage-titel")).to_have_text(second)
    page.keyboard.press("k")
    expect(page.locator("#triage-titel")).to_have_text(first)

    # "/" focuses the department search; Enter places the letter there, the next one follows.
    page.keyboard.press("/")
    search = page.get_by_label("Anderer Fachdienst")
    expect(search).to_be_focused()
    page.keyboard.type("Standesamt")
    page.keyboard.press("j")  # typing in the field is not a shortcut
    expect(search).to_have_value("Standesamtj")
    search.fill("Standesamt")
    page.keyboard.press("Enter")
    expect(page.locator(".flash--success")).to_have_text(f"{first} an Standesamt weitergeleitet.")
    expect(page.locator("#triage-titel")).to_have_text(second)
    expect(queue.get_by_role("link", name=first)).to_have_count(0)
    placed = site.mailroom.services.workspace.triage_item(ADMIN, site.items[0])
    assert placed.department_id == "standesamt" and placed.case_reference

    # "1" accepts the router's first candidate.
    name = page.locator(".triage-candidate__name").first.inner_text()
    page.keyboard.press("1")
    expect(page.locator(".flash--success")).to_have_text(f"{second} an {name} weitergeleitet.")
    expect(page.locator("#triage-titel")).to_have_text(third)

    # The tablet layout stacks list, scan and decision.
    page.set_viewport_size(TABLET_VIEWPORT)  # type: ignore[arg-type]
    check_accessibility(page, "triage-tablet")
    screenshot(page, "triage-tablet")

    # "f" marks the last one as misdirected: the queue is empty.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Eigentlicher Empfänger").fill("Amtsgericht Lindenau")
    page.keyboard.press("Escape")  # leaves the field: keys are shortcuts again
    page.keyboard.press("f")
    expect(page.locator(".flash--success")).to_have_text(f"{third} als Fehlleitung markiert.")
    expect(page.get_by_text("Die Triage ist leer.")).to_be_visible()
    marked = site.mailroom.services.workspace.triage_item(ADMIN, site.items[2])
    assert marked.misdirected and marked.addressee == "Amtsgericht Lindenau"
