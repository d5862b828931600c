"""The web skeleton in a real browser: sign-in, session cookie, CSRF, sign-out, error pages,
accessibility (axe-core) and screenshots. The app is the stub around ``mount_web``
(tests/fixtures/web_stub.py) served by uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.web_stub import ADMIN, CLERK, PASSWORD, StubMailroom, stub_app
from tests.harness.browser import TABLET_VIEWPORT, check_accessibility, screenshot, serve_app

CSRF_MESSAGE = "Das Formular ist abgelaufen oder ungültig."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, StubMailroom]]:
    app, mailroom = stub_app(Path(tmp_path_factory.mktemp("web")) / "var")
    with serve_app(app) as url:
        yield url, mailroom


def sign_in(page: Page, url: str, login: str = CLERK.login, password: str = PASSWORD) -> None:
    page.get_by_label("Benutzername").fill(login)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def test_sign_in_page_is_german_and_accessible(
    browser_page: Page, site: tuple[str, StubMailroom]
) -> None:
    url, _ = site
    browser_page.goto(f"{url}/arbeitskorb")
    expect(browser_page).to_have_url(f"{url}/anmelden?weiter=/arbeitskorb")
    assert browser_page.locator("html").get_attribute("lang") == "de"
    expect(browser_page).to_have_title("Anmelden – Poststelle & Vorgänge – Stadt Lindenau")
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    expect(browser_page.get_by_label("Benutzername")).to_have_attribute("autocomplete", "username")
    expect(browser_page.get_by_label("Passwort")).to_have_attribute("type", "password")
    expect(browser_page.get_by_role("link", name="Zum Inhalt springen")).to_be_attached()
    expect(browser_page.get_by_text("Stadt Lindenau").first).to_be_visible()
    expect(browser_page.get_by_text("Mit Dienstkonto der Stadt anmelden")).to_have_count(0)
    expect(browser_page.get_by_role("navigation", name="Hauptnavigation")).to_have_count(0)
    check_accessibility(browser_page, "anmelden")
    screenshot(browser_page, "anmelden")


def test_wrong_password_shows_the_german_message(
    browser_page: Page, site: tuple[str, StubMailroom]
) -> None:
    url, _ = site
    browser_page.goto(f"{url}/anmelden")
    sign_in(browser_page, url, password="falsch")
    expect(browser_page.get_by_role("alert")).to_have_text("Benutzername oder Passwort ist falsch.")
    expect(browser_page).to_have_url(f"{url}/anmelden")
    expect(browser_page.get_by_label("Benutzername")).to_have_value(CLERK.login)
    expect(browser_page.get_by_label("Passwort")).to_have_value("")
    check_accessibility(browser_page, "anmelden-fehler")
    screenshot(browser_page, "anmelden-fehler")


def test_signing_in_lands_on_the_target_with_a_safe_cookie(
    browser_page: Page, site: tuple[str, StubMailroom]
) -> None:
    url, _ = site
    browser_page.goto(f"{url}/probe/ziel?von=test")
    form_token = browser_page.locator("input[name=csrf_token]").get_attribute("value")
    sign_in(browser_page, url)
    expect(browser_page).to_have_url(f"{url}/probe/ziel?von=test")
    expect(browser_page.get_by_text(f"Angemeldet als {CLERK.name}.")).to_be_visible()
    expect(browser_page.get_by_role("button", name="Abmelden")).to_be_visible()
    (cookie,) = [c for c in browser_page.context.cookies() if c["name"] == "mailroom_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # development; production sets Secure
    # A new session: the token of the sign-in form is worthless now.
    new_token = browser_page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert new_token and new_token != form_token
    assert new_token in (browser_page.locator("body").get_attribute("hx-headers") or "")
    nav = browser_page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link", name="Arbeitskorb")).to_be_visible()
    expect(nav.get_by_text("Fachdienste")).to_be_visible()
    expect(nav.get_by_text("Triage")).to_have_count(0)
    expect(nav.get_by_text("Statistik")).to_have_count(0)
    check_accessibility(browser_page, "arbeitskorb-geruest")
    screenshot(browser_page, "arbeitskorb-geruest")


def test_requests_without_the_csrf_token_change_nothing(
    browser_page: Page, site: tuple[str, StubMailroom]
) -> None:
    url, mailroom = site
    browser_page.goto(f"{url}/arbeitskorb")
    sign_in(browser_page, url)
    before = mailroom.counter
    request = browser_page.request  # shares the browser context's cookies
    forged: list[dict[str, Any]] = [
        {"form": {}},
        {"form": {"csrf_token": "gefälscht"}},
        {"headers": {"X-CSRF-Token": "gefälscht"}},
    ]
    for options in forged:
        answer = request.post(f"{url}/probe/zaehler", max_redirects=0, **options)
        assert answer.status == 403, options
        assert CSRF_MESSAGE in answer.text()
    # A real form with a forged hidden field, submitted by the browser:
    browser_page.locator("form:has(#zaehlen) input[name=csrf_token]").evaluate(
        "input => { input.value = 'gefälscht' }"
    )
    browser_page.locator("#zaehlen").click()
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Formular abgelaufen")
    expect(browser_page.get_by_text(CSRF_MESSAGE)).to_be_visible()
    screenshot(browser_page, "formular-abgelaufen")
    assert mailroom.counter == before
    # Still signed in, and the real token works — as a form and from htmx (hx-headers).
    browser_page.goto(f"{url}/arbeitskorb")
    browser_page.locator("#zaehlen").click()
    expect(browser_page.locator(".flash--success")).to_have_text("Gezählt.")
    assert mailroom.counter == before + 1
    browser_page.locator("#zaehlen-htmx").click()
    expect(browser_page.locator("#zaehler")).to_have_text(str(before + 2))
    # An htmx request that fails shows its message in the flash region.
    browser_page.locator("#konflikt-htmx").click()
    expect(browser_page.locator("#meldungen")).to_contain_text("Inzwischen geändert")
    expect(browser_page.locator("#zaehler")).to_have_text(str(before + 2))


def test_signing_out(browser_page: Page, site: tuple[str, StubMailroom]) -> None:
    url, _ = site
    browser_page.goto(f"{url}/anmelden")
    sign_in(browser_page, url)
    expect(browser_page).to_have_url(f"{url}/arbeitskorb")
    browser_page.get_by_role("button", name="Abmelden").click()
    expect(browser_page).to_have_url(f"{url}/anmelden")
    expect(browser_page.get_by_role("status")).to_have_text("Sie sind abgemeldet.")
    browser_page.reload()
    expect(browser_page.get_by_text("Sie sind abgemeldet.")).to_have_count(0)
    browser_page.goto(f"{url}/arbeitskorb")
    expect(browser_page).to_have_url(f"{url}/anmelden?weiter=/arbeitskorb")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_no_redirect_to_other_hosts(
    browser_page: Page, site: tuple[str, StubMailroom], target: str
) -> None:
    url, _ = site
    browser_page.goto(f"{url}/anmelden?weiter={target}")
    sign_in(browser_page, url)
    expect(browser_page).to_have_url(f"{url}/arbeitskorb")


def test_not_found_page(browser_page: Page, site: tuple[str, StubMailroom]) -> None:
    url, _ = site
    answer = browser_page.goto(f"{url}/gibt-es-nicht")
    assert answer is not None and answer.status == 404
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Nicht gefunden")
    check_accessibility(browser_page, "nicht-gefunden")


def test_sample_page_with_every_building_block(
    browser_page: Page, site: tuple[str, StubMailroom]
) -> None:
    url, _ = site
    browser_page.goto(f"{url}/probe/muster")
    sign_in(browser_page, url, login=ADMIN.login)
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Musterseite")
    nav = browser_page.get_by_role("navigation", name="Hauptnavigation")
    for item in ("Arbeitskorb", "Triage", "Statistik"):
        expect(nav.get_by_role("link", name=item)).to_be_visible()
    for text in ("im Plan", "gefährdet", "überfällig", "wartet auf Bürger/in"):
        expect(browser_page.locator(".badge", has_text=text).first).to_be_visible()
    expect(browser_page.get_by_text("überfällig, seit 4 Arbeitstagen")).to_be_visible()
    check_accessibility(browser_page, "musterseite")
    screenshot(browser_page, "musterseite")
    nav.get_by_text("Fachdienste").click()
    expect(nav.get_by_role("link", name=CLERK_DEPARTMENT)).to_be_visible()
    check_accessibility(browser_page, "musterseite-menue")
    screenshot(browser_page, "musterseite-menue")
    browser_page.keyboard.press("Escape")
    browser_page.set_viewport_size(TABLET_VIEWPORT)  # type: ignore[arg-type]
    check_accessibility(browser_page, "musterseite-tablet")
    screenshot(browser_page, "musterseite-tablet")


CLERK_DEPARTMENT = StubMailroom.catalog.departments[0].name
