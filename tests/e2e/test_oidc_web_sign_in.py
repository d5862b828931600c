"""Staff sign-in through the city's identity provider, end to end over real HTTP: the
mailroom's /anmelden/oidc against the loopback OpenID provider of the test harness."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from mailroom.api.app import create_app
from mailroom.bootstrap import build
from mailroom.config import Settings
from tests.harness.oidc_provider import OidcProvider
from tests.harness.ports import free_port


@pytest.fixture
def mailroom_url(tmp_path: Path, oidc_provider: OidcProvider) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-" + "x" * 40,
        port=port,
        public_url=base,
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
    )
    oidc_provider.redirect_uri = f"{base}/anmelden/oidc/zurueck"
    mailroom = build(settings)
    server = uvicorn.Server(
        uvicorn.Config(create_app(mailroom), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        mailroom.stop()


def sign_in_through_provider(base: str, login: str) -> tuple[httpx.Client, httpx.Response]:
    """Follow the browser's redirects by hand: mailroom → provider → mailroom."""
    browser = httpx.Client(base_url=base, follow_redirects=False, timeout=10)
    to_provider = browser.get("/anmelden/oidc", params={"weiter": "/faelle/LIN-1"})
    assert to_provider.status_code == 303
    authorize = httpx.get(to_provider.headers["location"] + f"&login_hint={login}", timeout=10)
    assert authorize.status_code in (302, 303), authorize.text
    back = authorize.headers["location"]
    assert back.startswith(f"{base}/anmelden/oidc/zurueck")
    return browser, browser.get(back)


def test_a_clerk_signs_in_with_the_city_account_and_gets_roles_and_departments(mailroom_url):
    browser, answer = sign_in_through_provider(mailroom_url, "erika")
    assert answer.status_code == 303 and answer.headers["location"] == "/faelle/LIN-1"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = browser.get("/arbeitskorb")
    assert home.status_code == 200 and "Erika Mustermann" in home.text


@pytest.mark.parametrize("misbehaviour", ["expired", "forged", "wrong_audience", "wrong_issuer"])
def test_a_bad_id_token_is_refused_and_nobody_is_signed_in(
    mailroom_url, oidc_provider, misbehaviour
):
    oidc_provider.misbehave = misbehaviour
    browser, answer = sign_in_through_provider(mailroom_url, "erika")
    assert answer.status_code == 401
    assert "Die Anmeldung mit dem Dienstkonto ist fehlgeschlagen" in answer.text
    after = browser.get("/arbeitskorb")
    assert after.status_code == 303 and after.headers["location"].startswith("/anmelden")


def test_an_account_without_a_mailroom_role_is_told_so(mailroom_url):
    _, answer = sign_in_through_provider(mailroom_url, "gast")
    assert answer.status_code == 401 and "keine Berechtigung" in answer.text


def test_a_callback_without_a_started_sign_in_is_refused(mailroom_url):
    answer = httpx.get(f"{mailroom_url}/anmelden/oidc/zurueck?code=x&state=y")
    assert answer.status_code == 401
