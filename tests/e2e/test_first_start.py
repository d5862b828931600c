"""The first start of a fresh install tells the user how to sign in, and that works."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.harness.mailroom_server import serving


def test_the_first_start_prints_an_administrator_password_that_signs_in(tmp_path: Path):
    with serving(tmp_path, secret_key="s" * 48) as server:
        assert server.process.stdout is not None
        lines = [server.process.stdout.readline() for _ in range(12)]
        startup = "".join(lines)
        match = re.search(r"Benutzername: admin\s+Passwort: (\S+)", startup)
        assert match, startup
        with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
            form = browser.get("/anmelden").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            signed = browser.post(
                "/anmelden",
                data={"login": "admin", "password": match.group(1), "csrf_token": token},
            )
            assert signed.status_code == 303 and signed.headers["location"] == "/arbeitskorb"
            assert browser.get("/arbeitskorb").status_code == 200
    with serving(tmp_path, secret_key="s" * 48) as again:  # the second start creates nothing
        assert again.process.stdout is not None
        later = "".join(again.process.stdout.readline() for _ in range(8))
        assert "Passwort" not in later, later
