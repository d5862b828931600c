"""Swagger UI and ReDoc in a real browser: rendered from this server's assets alone (an
offline city network sees them too), without CSP violations (``browser_page`` fails on them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Request, expect

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from tests.harness.browser import serve_app


@pytest.fixture
def api_url(mailroom: Mailroom) -> Iterator[str]:
    with serve_app(create_app(mailroom)) as url:
        yield url


def same_origin(urls: list[str], base: str) -> bool:
    """Only this server (its blob: URLs are the search worker ReDoc starts) or data: URLs."""
    return all(u.startswith((base, f"blob:{base}", "data:")) for u in urls)


def requests_of(page: Page) -> list[str]:
    urls: list[str] = []

    def record(request: Request) -> None:
        urls.append(request.url)

    page.on("request", record)
    return urls


def test_swagger_ui_renders_the_api_from_local_assets(browser_page: Page, api_url: str) -> None:
    urls = requests_of(browser_page)
    browser_page.goto(f"{api_url}/docs")
    expect(browser_page.locator(".swagger-ui .info .title")).to_contain_text("Mailroom")
    expect(
        browser_page.locator(".opblock-summary-path", has_text="/api/v1/submissions")
    ).to_be_visible()
    assert urls and same_origin(urls, api_url), urls


def test_redoc_renders_the_api_from_local_assets(browser_page: Page, api_url: str) -> None:
    urls = requests_of(browser_page)
    browser_page.goto(f"{api_url}/redoc")
    expect(browser_page.locator("h1").first).to_contain_text("Mailroom")
    expect(browser_page.get_by_text("/api/v1/submissions").first).to_be_attached()
    assert urls and same_origin(urls, api_url), urls


def test_pages_of_the_full_app_render_without_csp_violations(
    browser_page: Page, api_url: str
) -> None:
    """The pages behind both header middlewares (pages' own policy, then the API's)."""
    for path, heading in (("/anmelden", "Anmelden"), ("/status", "Anliegen")):
        response = browser_page.goto(f"{api_url}{path}")
        assert response is not None and response.status == 200, path
        assert response.headers["cache-control"] == "no-store"
        expect(browser_page.locator("h1").first).to_contain_text(heading)
