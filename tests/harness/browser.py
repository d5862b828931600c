"""Browser tests: Debian's chromium driven by Playwright, axe-core checks, screenshots.

Fixtures (registered in tests/harness/pytest_plugin.py):

* ``chromium`` (session) -> a Playwright :class:`Browser` running ``/usr/bin/chromium``
  headless (``make test`` installs the Debian package; Playwright's own downloads are not used)
* ``browser_page`` (per test) -> a :class:`Page` in a fresh context (no cookies), 1280×900,
  de-DE, Europe/Berlin. The test fails if the page throws a JavaScript error or the
  Content-Security-Policy blocks something.

Helpers: :func:`serve_app` (an ASGI app on a loopback port, in a thread),
:func:`check_accessibility` (axe-core, WCAG 2.1 A/AA, fails on serious/critical findings) and
:func:`screenshot` (``test-artifacts/screenshots/NAME.png``; also ``docs/screenshots/`` when
``MAILROOM_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.harness.ports import LOOPBACK, free_port

CHROMIUM = Path(os.environ.get("MAILROOM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
TABLET_VIEWPORT = {"width": 820, "height": 1180}
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")

_axe = Axe()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: browser tests need Debian's chromium package. "
            "`make test` installs it (or: sudo apt-get install chromium).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class _PageProblems:
    """Uncaught JavaScript errors and Content-Security-Policy violations of one page."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.problems.append(f"CSP violation: {text}")


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="de-DE",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = _PageProblems(page)
    try:
        yield page
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)


@contextlib.contextmanager
def serve_app(app: Any, timeout: float = 30.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"uvicorn on port {port} stopped during startup")
        if time.monotonic() > deadline:
            raise TimeoutError(f"uvicorn on port {port} did not start in {timeout:.0f}s")
        time.sleep(0.02)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def _artifact_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"


def _describe(violation: dict[str, Any]) -> str:
    lines = [
        f"- [{violation['impact']}] {violation['id']}: {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    for node in violation["nodes"][:5]:
        target = " ".join(str(t) for t in node.get("target", []))
        summary = " ".join(node.get("failureSummary", "").split())
        lines.append(f"  at {target}: {summary}")
    if len(violation["nodes"]) > 5:
        lines.append(f"  … and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)


def check_accessibility(page: Page, name: str) -> None:
    """Run axe-core (the copy inside axe-playwright-python; no network) against the page
    with the WCAG 2.1 A/AA rules; fail listing every serious or critical violation. The full
    result goes to ``test-artifacts/axe/NAME.json``."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = _axe.run(page, options=options).response
    violations: list[dict[str, Any]] = results["violations"]
    out = ARTIFACTS / "axe" / f"{_artifact_name(name)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(violations, indent=2, ensure_ascii=False))
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        details = "\n".join(_describe(v) for v in blocking)
        pytest.fail(
            f"accessibility ({name}, {page.url}): {len(blocking)} serious/critical "
            f"violation(s) of WCAG 2.1 A/AA:\n{details}",
            pytrace=False,
        )


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in ``test-artifacts/screenshots/NAME.png`` (and in
    ``docs/screenshots/`` when MAILROOM_UPDATE_SCREENSHOTS=1); returns the artifact path."""
    filename = f"{_artifact_name(name)}.png"
    path = ARTIFACTS / "screenshots" / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    if os.environ.get("MAILROOM_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / filename)
    return path
