"""The outbox and its sender against a real SMTP server: sent once, retried with back-off
after refusals, failed for good after the last attempt or a permanent refusal, claimed so that
two senders never send one row."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from mailroom.consumers.delivery import RetryPolicy
from mailroom.notify.outbox import FAILED, PENDING, SENDING, SENT, Outbox, OutgoingMail
from mailroom.notify.sender import NotificationSender
from mailroom.notify.smtp import SmtpConfig
from projections.database import create_views_engine
from tests.harness.smtp_server import (
    SENDER,
    SmtpServer,
    running_smtp_server,
    self_signed_certificate,
)

TRACKING = "notifications@log"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request, tmp_path, clock) -> Iterator[Outbox]:
    """The same outbox on both databases (PostgreSQL claims with FOR UPDATE SKIP LOCKED)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.sqlite'}"
    else:
        base = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        url = base.replace("postgresql://", "postgresql+psycopg://", 1)
        url += f"?options=-csearch_path%3D{schema}"
    engine = create_views_engine(url)
    yield Outbox(engine, clock)
    engine.dispose()


def sender_for(
    outbox: Outbox, smtp: SmtpServer, clock: Clock, attempts: int = 4
) -> NotificationSender:
    config = SmtpConfig(host=smtp.host, port=smtp.port, tls="none", sender=SENDER, timeout_s=5)
    return NotificationSender(outbox, config, RetryPolicy(attempts, 10.0, 60.0), clock)


def mail(key: str = "received:1:1", to: str = "eva@example.org") -> OutgoingMail:
    return OutgoingMail(
        key=key,
        kind="received",
        reference="LIN-2026-7K3F-92QD",
        recipient=to,
        subject="Eingangsbestätigung für Ihren Antrag LIN-2026-7K3F-92QD",
        body="Guten Tag,\n\nÄrger? Nein: Grüße aus Lindenau.\n",
    )


def test_a_queued_mail_is_sent_once_with_german_text_and_marked_sent(outbox, smtp_server, clock):
    assert outbox.enqueue(TRACKING, 1, [mail()])
    sender = sender_for(outbox, smtp_server, clock)
    assert sender.send_due() == 1
    assert sender.send_due() == 0  # nothing left
    (received,) = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("eva@example.org",)
    assert received.subject == "Eingangsbestätigung für Ihren Antrag LIN-2026-7K3F-92QD"
    assert received.body == "Guten Tag,\n\nÄrger? Nein: Grüße aus Lindenau.\n"
    assert received.message["From"] == SENDER
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert str(received.message["Message-ID"]).endswith("@lindenau.example>")
    (row,) = outbox.rows()
    assert row.state == SENT and row.attempts == 1 and row.sent_at == clock.now


def test_a_redelivered_event_or_a_republished_one_queues_nothing_twice(outbox):
    assert outbox.enqueue(TRACKING, 5, [mail()])
    assert not outbox.enqueue(TRACKING, 5, [mail()])  # the same position: a redelivery
    assert outbox.enqueue(TRACKING, 9, [mail()])  # published again at a new position
    assert len(outbox.rows()) == 1 and outbox.position(TRACKING) == 9


def test_refused_sends_are_retried_with_back_off_until_they_go_through(outbox, smtp_server, clock):
    smtp_server.refuse(2)
    outbox.enqueue(TRACKING, 1, [mail()])
    sender = sender_for(outbox, smtp_server, clock)
    assert sender.send_due() == 1
    (row,) = outbox.rows()
    assert row.state == PENDING and "451" in row.last_error
    assert row.next_attempt_at == clock.now + timedelta(seconds=10)
    assert sender.send_due() == 0  # not due yet
    clock.advance(10)
    assert sender.send_due() == 1
    assert outbox.rows()[0].next_attempt_at == clock.now + timedelta(seconds=20)  # doubled
    clock.advance(20)
    assert sender.send_due() == 1
    assert smtp_server.refused == 2 and len(smtp_server.wait_for(1)) == 1
    (row,) = outbox.rows()
    assert row.state == SENT and row.attempts == 3 and row.last_error == ""


def test_after_the_last_attempt_a_mail_is_recorded_as_failed(outbox, smtp_server, clock):
    smtp_server.refuse(100)
    outbox.enqueue(TRACKING, 1, [mail()])
    sender = sender_for(outbox, smtp_server, clock, attempts=3)
    for _ in range(3):
        sender.send_due()
        clock.advance(3600)
    assert sender.send_due() == 0
    (row,) = outbox.rows()
    assert row.state == FAILED and row.attempts == 3 and "451" in row.last_error
    assert smtp_server.refused == 3 and smtp_server.messages == []
    assert outbox.counts()[FAILED] == 1
    assert outbox.requeue() == 1  # an operator sends it again, with fresh attempts
    smtp_server.refuse(0)
    assert sender.send_due() == 1 and outbox.rows()[0].state == SENT


def test_a_permanently_refused_address_fails_at_once_and_the_next_mail_still_goes(
    outbox, smtp_server, clock
):
    outbox.enqueue(TRACKING, 1, [mail("received:1:1", "nobody@example.org")])
    outbox.enqueue(TRACKING, 2, [mail("received:2:1", "eva@example.org")])
    smtp_server.unknown_mailboxes.add("nobody@example.org")
    assert sender_for(outbox, smtp_server, clock).send_due() == 2
    first, second = outbox.rows()
    assert first.state == FAILED and "550" in first.last_error and first.attempts == 1
    assert "nobody@" not in first.last_error  # the address is personal: not in the record
    assert second.state == SENT and smtp_server.wait_for(1)[0].rcpt_tos == ("eva@example.org",)


def test_while_the_server_is_down_every_mail_waits_and_goes_once_it_is_back(
    outbox, smtp_server, clock
):
    smtp_server.down()
    outbox.enqueue(TRACKING, 1, [mail("received:1:1"), mail("department_assigned:2:1")])
    sender = sender_for(outbox, smtp_server, clock)
    assert sender.send_due() == 2
    assert [row.state for row in outbox.rows()] == [PENDING, PENDING]
    assert all("cannot connect" in row.last_error for row in outbox.rows())
    smtp_server.up()
    clock.advance(10)
    assert sender.send_due() == 2
    assert len(smtp_server.wait_for(2)) == 2
    assert [row.state for row in outbox.rows()] == [SENT, SENT]


def test_a_claimed_row_is_nobody_elses_until_its_lease_ends(outbox, clock):
    outbox.enqueue(TRACKING, 1, [mail()])
    (claimed,) = outbox.claim(10, timedelta(minutes=5))
    assert claimed.state == SENDING and claimed.attempts == 1
    assert outbox.claim(10, timedelta(minutes=5)) == []  # a second sender gets nothing
    clock.advance(5 * 60)  # the first sender died while sending
    (again,) = outbox.claim(10, timedelta(minutes=5))
    assert again.id == claimed.id and again.attempts == 2


def test_parallel_senders_share_the_due_rows_without_overlap(outbox):
    for position in range(1, 11):
        outbox.enqueue(TRACKING, position, [mail(f"received:{position}:1")])
    lease = timedelta(minutes=5)
    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: outbox.claim(3, lease), range(4)))
    claimed = [row.id for batch in batches for row in batch]
    assert len(claimed) == len(set(claimed)) == 10


def test_starttls_and_a_login_are_used_when_configured(tmp_path, clock, monkeypatch):
    certificate, server_context = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # the client trusts only this one
    users = {"mailroom": "geheim"}
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    outbox = Outbox(engine, clock)
    outbox.enqueue(TRACKING, 1, [mail()])
    with running_smtp_server(tls=server_context, users=users) as smtp:
        config = SmtpConfig(
            host=smtp.host,
            port=smtp.port,
            tls="starttls",
            sender=SENDER,
            user="mailroom",
            password="geheim",
            timeout_s=5,
        )
        NotificationSender(outbox, config, RetryPolicy(3, 10.0, 60.0), clock).send_due()
        assert len(smtp.wait_for(1)) == 1 and smtp.logins == ["mailroom"]
        wrong = SmtpConfig(**{**config.__dict__, "password": "falsch"})
        outbox.enqueue(TRACKING, 2, [mail("received:2:1")])
        NotificationSender(outbox, wrong, RetryPolicy(3, 10.0, 60.0), clock).send_due()
        assert outbox.rows()[1].state == PENDING and "535" in outbox.rows()[1].last_error
    engine.dispose()
