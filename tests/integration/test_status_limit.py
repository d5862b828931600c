"""The status check's guessing limit lives in the views database: keyed by the client
address behind trusted proxies and per reference (the rule: ``status_limit``), shared by
every process on the database and kept across restarts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.services.intake import Receipt
from mailroom.services.status import StatusNotFoundError, TooManyAttemptsError
from mailroom.services.status_limit import StatusFailureLimit
from tests.fixtures.builders import FakeClock, submission

ALLOWED = 5
PROXY = ("10.0.0.2", 40000)


def limited(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="k" * 48,
        status_failures_allowed=ALLOWED,
        **extra,
    )


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Mailroom]:
    mailroom = build(limited(tmp_path, trusted_proxies="10.0.0.0/8"), clock=FakeClock())
    yield mailroom
    mailroom.stop()


def request_of(mailroom: Mailroom) -> Receipt:
    return mailroom.intake.submit(submission(), [], uuid4().hex)


def check(client: TestClient, receipt: Receipt, code: str | None = None, via: str | None = None):
    headers = {"X-Access-Code": code or receipt.access_code}
    if via:
        headers["X-Forwarded-For"] = via
    return client.get(f"/api/v1/status/{receipt.reference}", headers=headers)


@pytest.mark.parametrize("peer", ["203.0.113.9", "127.0.0.1"])
def test_200_guesses_with_rotating_forwarded_for_from_an_untrusted_peer_get_429(
    proxied: Mailroom, peer: str
):
    receipt = request_of(proxied)
    with TestClient(create_app(proxied), client=(peer, 5000)) as client:
        answers = [
            check(client, receipt, "AAAA-BBBB-CCCC", via=f"198.51.{i // 250}.{i % 250}")
            for i in range(200)
        ]
        right = check(client, receipt)
    statuses = [a.status_code for a in answers]
    assert statuses[:ALLOWED] == [404] * ALLOWED
    assert set(statuses[ALLOWED:]) == {429}
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 900
    assert right.status_code == 429  # the guesser's address is locked, right code or not


def test_behind_a_trusted_proxy_one_citizens_typos_do_not_block_another(proxied: Mailroom):
    eva, ali = request_of(proxied), request_of(proxied)
    with TestClient(create_app(proxied), client=PROXY) as client:
        for _ in range(ALLOWED):
            assert check(client, eva, "EVAS-TIPP-FEHL", via="198.51.100.1").status_code == 404
        assert check(client, eva, via="198.51.100.1").status_code == 429
        # what Eva's browser writes left of the proxy's entry changes nothing
        assert check(client, eva, via="6.6.6.6, 198.51.100.1").status_code == 429
        assert check(client, ali, via="198.51.100.2").status_code == 200
        assert check(client, eva, via="198.51.100.3").status_code == 200  # Eva elsewhere


def test_a_guarded_reference_still_opens_for_its_citizen_but_not_for_the_guessers(
    proxied: Mailroom,
):
    ali = request_of(proxied)
    with TestClient(create_app(proxied), client=PROXY) as client:
        guessers = [f"192.0.2.{i}" for i in range(1, ALLOWED + 1)]
        for address in guessers:  # one guess each: no address is over its own limit
            assert check(client, ali, "AAAA-BBBB-CCCC", via=address).status_code == 404
        refused = check(client, ali, via=guessers[0])  # the right code from a guesser
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert check(client, ali, "AAAA-BBBB-CCCC", via="192.0.2.99").status_code == 429
        assert check(client, ali, via="198.51.100.2").status_code == 200  # Ali himself


def test_the_limit_is_kept_across_a_restart_and_shared_by_two_processes(tmp_path: Path):
    settings = limited(tmp_path)
    one, two = build(settings, clock=FakeClock()), build(settings, clock=FakeClock())
    try:
        assert_shared_and_kept(settings, one, two)
    finally:
        one.stop()
        two.stop()


def test_the_limit_is_shared_on_postgresql_too(
    tmp_path: Path, postgres_url: str, postgres_schema: str
):
    views = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    settings = limited(
        tmp_path,
        event_store=f"{postgres_url}?schema={postgres_schema}",
        views_db=f"{views}?options=-csearch_path%3D{postgres_schema}",
    )
    one, two = build(settings, clock=FakeClock()), build(settings, clock=FakeClock())
    try:
        assert_shared_and_kept(settings, one, two)
    finally:
        one.stop()
        two.stop()


def assert_shared_and_kept(settings: Settings, one: Mailroom, two: Mailroom) -> None:
    receipt = request_of(one)
    for i in range(ALLOWED):  # the failures alternate between the two processes
        with pytest.raises(StatusNotFoundError):
            (one, two)[i % 2].status.lookup(receipt.reference, "AAAA-BBBB-CCCC", "203.0.113.9")
    for process in (one, two):
        with pytest.raises(TooManyAttemptsError):
            process.status.lookup(receipt.reference, receipt.access_code, "203.0.113.9")
    one.stop()
    restarted = build(settings, clock=FakeClock())
    try:
        with pytest.raises(TooManyAttemptsError):
            restarted.status.lookup(receipt.reference, receipt.access_code, "203.0.113.9")
        assert restarted.status.lookup(receipt.reference, receipt.access_code, "198.51.100.2")
    finally:
        restarted.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_failures_leave_the_window_and_retry_after_says_when(mailroom: Mailroom):
    clock = Clock()
    limit = StatusFailureLimit(mailroom.views, 3, 60, clock)
    for _ in range(3):  # at 0, 10 and 20 s
        limit.record_failure("203.0.113.9", "LIN-2026-AAAA-BBBB")
        clock.now += timedelta(seconds=10)
    assert limit.standing("203.0.113.9", None).refused_for_s == 60 - 30
    clock.now += timedelta(seconds=35)  # the first failure has left the window
    assert limit.standing("203.0.113.9", None).refused_for_s is None
    assert limit.standing("198.51.100.2", "LIN-2026-AAAA-BBBB").guarded is False
