"""The real server (uvicorn) counts status guesses by the peer: X-Forwarded-For from a
local peer is no longer believed unless that peer is a configured trusted proxy."""

from __future__ import annotations

from pathlib import Path

import httpx

from aggregates.reference import Reference
from tests.harness.mailroom_server import serving


def guesses(url: str, count: int, same_reference: bool) -> list[int]:
    fixed = str(Reference.generate("LIN", 2026))
    statuses = []
    for i in range(count):
        reference = fixed if same_reference else str(Reference.generate("LIN", 2026))
        response = httpx.get(
            f"{url}/api/v1/status/{reference}",
            headers={"X-Access-Code": "AAAA-BBBB-CCCC", "X-Forwarded-For": f"198.51.100.{i}"},
        )
        statuses.append(response.status_code)
    return statuses


def test_rotating_forwarded_for_from_a_local_peer_does_not_escape_the_limit(tmp_path: Path):
    with serving(tmp_path, status_failures_allowed="3") as server:
        statuses = guesses(server.url, 20, same_reference=False)
    assert statuses[:3] == [404] * 3 and set(statuses[3:]) == {429}


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_limit(tmp_path: Path):
    with serving(tmp_path, status_failures_allowed="3", trusted_proxies="127.0.0.1") as server:
        different = guesses(server.url, 10, same_reference=False)
        same = guesses(server.url, 6, same_reference=True)
    assert set(different) == {404}  # ten citizens, one typo each
    assert same[:3] == [404] * 3 and set(same[3:]) == {429}  # one reference: guarded
