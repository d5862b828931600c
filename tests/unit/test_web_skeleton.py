"""The web skeleton without a browser: German formatting, redirects, sessions, error pages."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from mailroom.web import session as web_session
from mailroom.web import session_key
from mailroom.web.formatting import dateigroesse, datum, datum_zeit, prozent, tage, zahl
from mailroom.web.routes_signin import local_target
from tests.fixtures.web_stub import ADMIN, CLERK, PASSWORD, StubMailroom, stub_app

# --- German filters ---------------------------------------------------------------------


def test_datum() -> None:
    assert datum(date(2026, 12, 1)) == "01.12.2026"
    assert datum(None) == ""
    # 23:30 UTC on 31 Dec is already New Year in Berlin
    assert datum(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "01.01.2027"


def test_datum_zeit_in_berlin_time() -> None:
    assert datum_zeit(datetime(2026, 12, 1, 13, 32, tzinfo=UTC)) == "01.12.2026, 14:32 Uhr"
    assert datum_zeit(datetime(2026, 7, 1, 12, 5, tzinfo=UTC)) == "01.07.2026, 14:05 Uhr"  # CEST
    assert datum_zeit(datetime(2026, 12, 1, 13, 32)) == "01.12.2026, 14:32 Uhr"  # naive = UTC
    assert datum_zeit(None) == ""


def test_tage() -> None:
    assert tage(3) == "in 3 Arbeitstagen"
    assert tage(1) == "in 1 Arbeitstag"
    assert tage(0) == "heute"
    assert tage(-1) == "seit 1 Arbeitstag überfällig"
    assert tage(-2) == "seit 2 Arbeitstagen überfällig"
    assert tage(None) == ""


def test_numbers_with_german_separators() -> None:
    assert zahl(1234567) == "1.234.567"
    assert zahl(12345.678, 1) == "12.345,7"
    assert zahl(Decimal("0.5"), 2) == "0,50"
    assert zahl(-1234) == "-1.234"
    assert zahl(None) == ""
    assert prozent(0.873) == "87 %"
    assert prozent(0.8735, 1) == "87,4 %"
    assert dateigroesse(512) == "512 Bytes"
    assert dateigroesse(1536) == "2 KB"
    assert dateigroesse(5 * 1024 * 1024 + 300_000) == "5,3 MB"


# --- where to go after signing in -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/faelle/LIN-2026-7K3F-92QD", "/faelle/LIN-2026-7K3F-92QD"),
        ("/suche?q=Wohngeld&seite=2", "/suche?q=Wohngeld&seite=2"),
        ("", "/arbeitskorb"),
        ("https://evil.example/", "/arbeitskorb"),
        ("//evil.example", "/arbeitskorb"),
        ("/\\evil.example", "/arbeitskorb"),
        ("/\t/evil.example", "/arbeitskorb"),
        ("javascript:alert(1)", "/arbeitskorb"),
        ("arbeitskorb", "/arbeitskorb"),
        ("/anmelden?weiter=/x", "/arbeitskorb"),
        ("/abmelden", "/arbeitskorb"),
    ],
)
def test_local_target(value: str, expected: str) -> None:
    assert local_target(value) == expected


def test_session_key_is_derived_not_the_secret() -> None:
    secret = b"s" * 48
    assert session_key(secret) != secret.decode()
    assert session_key(secret) == session_key(secret)
    assert session_key(secret) != session_key(b"t" * 48)


# --- HTTP behaviour ---------------------------------------------------------------------


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[tuple[TestClient, StubMailroom]]:
    app, mailroom = stub_app(tmp_path / "var")
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client, mailroom


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _sign_in(client: TestClient, login: str = CLERK.login) -> None:
    form = client.get("/anmelden").text
    answer = client.post(
        "/anmelden", data={"login": login, "password": PASSWORD, "csrf_token": _token(form)}
    )
    assert answer.status_code == 303, answer.text


def test_pages_redirect_to_sign_in(stub: tuple[TestClient, StubMailroom]) -> None:
    client, _ = stub
    answer = client.get("/probe/ziel?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/anmelden?weiter=/probe/ziel%3Fx%3D1"
    htmx = client.get("/probe/ziel", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/anmelden")


def test_sign_in_form_rejects_missing_and_wrong_credentials(
    stub: tuple[TestClient, StubMailroom],
) -> None:
    client, mailroom = stub
    token = _token(client.get("/anmelden").text)
    empty = client.post("/anmelden", data={"login": "a.schmidt", "csrf_token": token})
    assert empty.status_code == 200
    assert "Bitte geben Sie Benutzername und Passwort ein." in empty.text
    wrong = client.post(
        "/anmelden", data={"login": "a.schmidt", "password": "falsch", "csrf_token": token}
    )
    assert wrong.status_code == 200
    assert "Benutzername oder Passwort ist falsch." in wrong.text
    assert 'value="a.schmidt"' in wrong.text
    huge = client.post(
        "/anmelden", data={"login": "a.schmidt", "password": "x" * 5000, "csrf_token": token}
    )
    assert "Benutzername oder Passwort ist falsch." in huge.text
    assert mailroom.services.staff.attempts == ["a.schmidt"]  # the huge one never reached it


def test_sign_in_without_csrf_token_is_refused(stub: tuple[TestClient, StubMailroom]) -> None:
    client, mailroom = stub
    client.get("/anmelden")
    answer = client.post("/anmelden", data={"login": CLERK.login, "password": PASSWORD})
    assert answer.status_code == 403
    assert "Das Formular ist abgelaufen oder ungültig." in answer.text
    assert mailroom.services.staff.attempts == []


def test_sign_in_expires_after_ten_hours(
    stub: tuple[TestClient, StubMailroom], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = stub
    _sign_in(client)
    assert client.get("/arbeitskorb").status_code == 200
    later = time.time() + web_session.SIGN_IN_SECONDS + 1
    monkeypatch.setattr(web_session, "time", SimpleNamespace(time=lambda: later))
    assert client.get("/arbeitskorb").status_code == 303


def test_roles_decide_navigation_and_access(stub: tuple[TestClient, StubMailroom]) -> None:
    client, _ = stub
    _sign_in(client)
    page = client.get("/arbeitskorb").text
    assert "Fachdienste" in page and "Triage" not in page and "Statistik" not in page
    refused = client.get("/probe/poststelle")
    assert refused.status_code == 403
    assert "Kein Zugriff" in refused.text
    client.cookies.clear()
    _sign_in(client, ADMIN.login)
    page = client.get("/arbeitskorb").text
    assert "Triage" in page and "Statistik" in page
    assert page.count('href="/fachdienste/') == len(StubMailroom.catalog.departments)


def test_web_errors_are_german_pages_and_the_api_keeps_json(
    stub: tuple[TestClient, StubMailroom],
) -> None:
    client, _ = stub
    missing = client.get("/gibt-es-nicht", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Nicht gefunden" in missing.text and '<html lang="de">' in missing.text
    api = client.get("/api/v1/gibt-es-nicht")
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"
    assert "content-security-policy" not in api.headers
    broken = client.get("/probe/kaputt")
    assert broken.status_code == 500
    assert "Ein Fehler ist aufgetreten" in broken.text
    assert "probe failure" not in broken.text
    _sign_in(client)
    stale = client.get("/probe/konflikt")
    assert stale.status_code == 409
    assert "Inzwischen geändert" in stale.text
    htmx = client.get("/probe/konflikt", headers={"HX-Request": "true"})
    assert htmx.status_code == 409
    assert htmx.headers["HX-Retarget"] == "#meldungen"
    assert "<html" not in htmx.text and "Inzwischen geändert" in htmx.text


def test_pages_carry_security_headers(stub: tuple[TestClient, StubMailroom]) -> None:
    client, _ = stub
    page = client.get("/anmelden")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert "content-security-policy" not in css.headers


def test_flash_is_shown_once(stub: tuple[TestClient, StubMailroom]) -> None:
    client, _ = stub
    _sign_in(client)
    token = _token(client.get("/arbeitskorb").text)
    assert client.post("/abmelden", data={"csrf_token": token}).status_code == 303
    assert "Sie sind abgemeldet." in client.get("/anmelden").text
    assert "Sie sind abgemeldet." not in client.get("/anmelden").text
