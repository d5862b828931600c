"""E-mail to citizens through the embedded stack and a real SMTP server: the Eingangs-
bestätigung after a portal submission, the department, information needed, decided; retries
after refused sends; a mail server that is away holds up nothing else; no mail twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from typer.testing import CliRunner, Result

from aggregates.case import CaseStatus
from aggregates.mail_item import MailItem
from aggregates.values import Applicant
from mailroom.auth.principal import Principal, Role
from mailroom.bootstrap import Mailroom, build
from mailroom.cli import app
from mailroom.config import Settings
from mailroom.consumers.notifications import NotificationConsumer
from mailroom.notify.messages import Composer
from mailroom.notify.outbox import FAILED, SENT
from mailroom.runner import EmbeddedRunner
from mailroom.services.intake import Receipt
from tests.fixtures.builders import FakeClock, submission
from tests.harness.smtp_server import SmtpServer
from tests.integration.stack import ProcessGroup, production_settings, wait_until

CLERK = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
EMAIL = "eva@example.org"
PERSONAL = ["Eva Musterfrau", "Geburtsurkunde für meine Tochter", "Lindenallee", "anzahl"]
STATUS_LINK = "https://buerger.lindenau.example/status?aktenzeichen="


def notifying_settings(tmp_path: Path, smtp: SmtpServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "var",
        "secret_key": "test-secret-" + "x" * 40,
        "consumer_retry_base_s": 0.05,
        "consumer_retry_max_s": 1.0,
        "notify_retry_base_s": 0.05,  # a refused e-mail is tried again at once in tests
        "notify_retry_max_s": 0.2,
        **smtp.settings(),
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def notifying(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Mailroom]:
    mailroom = build(notifying_settings(tmp_path, smtp_server), clock=FakeClock())
    mailroom.start()
    yield mailroom
    mailroom.stop()


def submit_with_address(mailroom: Mailroom) -> str:
    return submit(mailroom).reference


def submit(mailroom: Mailroom) -> Receipt:
    applicant = Applicant(name="Eva Musterfrau", email=EMAIL, address="Lindenallee 1")
    return mailroom.intake.submit(submission(applicant=applicant), [], uuid4().hex)


def notifications(mailroom: Mailroom) -> NotificationConsumer:
    consumer = mailroom.consumer("notifications")
    assert isinstance(consumer, NotificationConsumer)
    return consumer


def open_case(mailroom: Mailroom, reference: str) -> None:
    wait_until(
        lambda: (
            (item := mailroom.app.find_item_by_reference(reference)) is not None
            and item.case_id is not None
        ),
        10,
        "the case to be opened",
    )


def operator(mailroom: Mailroom, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", mailroom.settings.secret_key.get_secret_value())
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def assert_impersonal(text: str) -> None:
    for detail in PERSONAL:
        assert detail not in text


def test_a_portal_submission_gets_the_eingangsbestaetigung_and_the_department_by_e_mail(
    notifying, smtp_server
):
    receipt = submit(notifying)
    reference = receipt.reference
    received, assigned = smtp_server.wait_for(2)
    assert received.rcpt_tos == (EMAIL,) and assigned.rcpt_tos == (EMAIL,)
    assert received.subject == f"Eingangsbestätigung für Ihren Antrag {reference}"
    assert STATUS_LINK + reference in received.body
    assert "Zugangscode, der Ihnen beim Absenden des Antrags" in received.body
    assert assigned.subject == f"Ihr Anliegen {reference}: zuständig ist Standesamt"
    assert "standesamt@lindenau.de" in assigned.body or "Telefon:" in assigned.body
    for mail in (received, assigned):
        assert_impersonal(mail.subject + mail.body + mail.message.as_string())
        assert receipt.access_code not in mail.body  # shown when submitting, never mailed
    wait_until(
        lambda: all(r.state == SENT for r in notifying_rows(notifying, reference)), 5, "sent"
    )
    rows = notifying_rows(notifying, reference)
    assert [(r.kind, r.state) for r in rows] == [("received", SENT), ("department_assigned", SENT)]


def notifying_rows(mailroom: Mailroom, reference: str) -> list:
    return notifications(mailroom).outbox.rows(reference=reference)


def test_information_needed_and_decided_are_mailed_without_what_the_clerk_wrote(
    notifying, smtp_server
):
    reference = submit_with_address(notifying)
    smtp_server.wait_for(2)
    casework = notifying.services.casework
    due = date.today() + timedelta(days=14)
    casework.request_information(
        CLERK, reference, "Bitte die Ausweiskopie von Frau Musterfrau", due
    )
    asked = smtp_server.wait_for(3)[2]
    assert asked.subject == f"Ihr Anliegen {reference}: Wir benötigen weitere Angaben"
    assert f"bis zum {due:%d.%m.%Y}" in asked.body
    assert "Ausweiskopie" not in asked.body and "Musterfrau" not in asked.body
    casework.receive_information(CLERK, reference)
    casework.add_note(CLERK, reference, "intern: Urkunde liegt vor")
    casework.close(CLERK, reference, "granted")
    decided = smtp_server.wait_for(4)[3]
    assert decided.subject == f"Ihr Anliegen {reference}: Bearbeitung abgeschlossen"
    assert "intern" not in decided.body and "bewilligt" not in decided.body
    assert STATUS_LINK + reference in decided.body
    assert len(smtp_server.messages) == 4  # a note or the answer is no news for the citizen


def test_a_reopened_case_is_mailed_without_the_reason(notifying, smtp_server):
    reference = submit_with_address(notifying)
    smtp_server.wait_for(2)
    casework = notifying.services.casework
    casework.close(CLERK, reference, "granted")
    smtp_server.wait_for(3)
    casework.reopen(CLERK, reference, "intern: Widerspruch von Frau Musterfrau prüfen")
    reopened = smtp_server.wait_for(4)[3]
    assert reopened.rcpt_tos == (EMAIL,)
    assert reopened.subject == f"Ihr Anliegen {reference}: wird wieder bearbeitet"
    assert "wieder aufgenommen" in reopened.body
    assert "Widerspruch" not in reopened.body and "intern" not in reopened.body
    assert_impersonal(reopened.subject + reopened.body)
    assert STATUS_LINK + reference in reopened.body
    wait_until(
        lambda: [r.kind for r in notifying_rows(notifying, reference)][-1:] == ["reopened"],
        5,
        "the reopened row",
    )


def test_refused_sends_are_retried_with_back_off_and_then_go_through(notifying, smtp_server):
    smtp_server.refuse(3)
    reference = submit_with_address(notifying)
    messages = smtp_server.wait_for(2)
    assert smtp_server.refused == 3  # the relay really said 451 three times
    assert {m.subject.split(" ")[0] for m in messages} == {"Eingangsbestätigung", "Ihr"}
    wait_until(
        lambda: all(r.state == SENT for r in notifying_rows(notifying, reference)), 5, "sent"
    )
    rows = notifying_rows(notifying, reference)
    assert sum(r.attempts for r in rows) == 2 + 3  # one attempt each, plus the refused ones


def test_a_mail_server_that_is_away_holds_up_neither_the_case_nor_other_consumers(
    tmp_path, smtp_server, caplog, monkeypatch
):
    smtp_server.down()
    settings = notifying_settings(tmp_path, smtp_server, notify_max_attempts=2)
    mailroom = build(settings, clock=FakeClock())
    mailroom.start()
    try:
        reference = submit_with_address(mailroom)
        open_case(mailroom, reference)
        wait_until(
            lambda: (
                (r := mailroom.status_projection.find(reference)) is not None
                and r.status == "in_progress"
                # the case directory is a view of its own and may come a moment later
                and mailroom.services.casework.directory.case_uuid(reference) is not None
            ),
            10,
            "the status view and the case directory",
        )
        mailroom.services.casework.take(CLERK, reference)  # case work goes on meanwhile
        wait_until(
            lambda: [r.state for r in notifying_rows(mailroom, reference)] == [FAILED, FAILED],
            10,
            "the e-mails to be recorded as failed",
        )
        for row in notifying_rows(mailroom, reference):
            assert row.attempts == 2 and "cannot connect" in row.last_error
        case = mailroom.services.casework.find_visible(CLERK, reference)
        assert case.status is CaseStatus.IN_PROGRESS
        assert mailroom.health.problems() == []  # no consumer is troubled by it
        assert any("failed after 2 attempt" in r.message for r in caplog.records)
        # operators see them (the address masked) and, the relay back, send them again
        listed = operator(
            mailroom, monkeypatch, "notifications", "list", "--state", "failed", "--json"
        )
        shown = json.loads(listed.output)
        assert shown["counts"]["failed"] == 2
        assert {n["recipient"] for n in shown["notifications"]} == {"e***@example.org"}
        assert all("cannot connect" in n["last_error"] for n in shown["notifications"])
        smtp_server.up()
        retried = operator(mailroom, monkeypatch, "notifications", "retry")
        assert retried.output.strip() == "2 e-mail(s) queued again"
        notifications(mailroom).sender.wake()  # else it finds them at its next look (5 s)
        assert len(smtp_server.wait_for(2)) == 2
    finally:
        mailroom.stop()


def test_a_redelivered_or_republished_event_sends_no_second_mail(notifying, smtp_server):
    reference = submit_with_address(notifying)
    smtp_server.wait_for(2)
    consumer = notifications(notifying)
    (notification,) = [
        n for n in notifying.app.iter_notifications() if n.topic == get_topic(MailItem.Received)
    ]
    event = notifying.app.to_domain_event(notification)
    assert not consumer.process(event, Tracking("log", notification.id))  # redelivered
    assert consumer.process(event, Tracking("kafka-topic:0", 1))  # published again elsewhere
    notifying.runner.stop()  # and the consumers start over from their positions
    notifying.runner = EmbeddedRunner(notifying.app, notifying.consumers, notifying.health)
    notifying.runner.start()
    consumer.sender.wake()
    assert len(notifying_rows(notifying, reference)) == 2
    with pytest.raises(AssertionError):
        smtp_server.wait_for(3, timeout_s=0.5)


def test_without_an_smtp_host_notifications_are_off_and_say_so_once(mailroom, caplog):
    consumer = notifications(mailroom)
    assert not consumer.enabled
    with caplog.at_level(logging.INFO, logger="mailroom.consumers.notifications"):
        mailroom.start()
        submit_with_address(mailroom)
        mailroom.runner.run_until_idle()
    assert consumer.outbox.rows() == []
    assert consumer.position("log") == mailroom.app.max_notification_id()  # keeps its place
    disabled = [r for r in caplog.records if "notifications are disabled" in r.message]
    assert len(disabled) == 1


def test_changes_older_than_the_age_limit_are_not_mailed(tmp_path, smtp_server):
    """A new install catching up with history must not write to every citizen."""
    mailroom = build(notifying_settings(tmp_path, smtp_server), clock=FakeClock())
    try:
        reference = submit_with_address(mailroom)
        notifications(mailroom).wall_clock = lambda: datetime.now(UTC) + timedelta(days=4)
        mailroom.runner.run_until_idle()
        assert notifying_rows(mailroom, reference) == []
        assert notifications(mailroom).position("log") == mailroom.app.max_notification_id()
    finally:
        mailroom.stop()


def test_a_submission_without_a_usable_address_gets_no_mail(tmp_path, smtp_server):
    mailroom = build(notifying_settings(tmp_path, smtp_server), clock=FakeClock())
    try:
        for email in (None, "keine-adresse", "eva@example.org\nBcc: x@example.org"):
            applicant = Applicant(name="Eva Musterfrau", email=email)
            try:
                mailroom.intake.submit(submission(applicant=applicant), [], uuid4().hex)
            except Exception:  # the intake refuses control characters itself
                continue
        mailroom.runner.run_until_idle()
        assert notifications(mailroom).outbox.rows() == []
    finally:
        mailroom.stop()


@pytest.mark.slow  # worker processes joining their Kafka groups take about ten seconds
def test_the_notifications_worker_sends_in_production_mode(
    tmp_path, smtp_server, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
):
    """PostgreSQL + Kafka: the worker process queues and sends (the sender loop runs beside
    the consumer in ``mailroom worker notifications``), claiming rows with SKIP LOCKED."""
    prod = production_settings(
        tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
    ).model_copy(update={**smtp_server.settings(), "notify_retry_base_s": 0.05})
    mailroom = build(prod, clock=FakeClock())
    processes = ProcessGroup(prod, tmp_path)
    processes.start_all(["router", "notifications"])
    processes.start("notifications-2", "worker", "notifications")  # two senders, one outbox
    try:
        smtp_server.refuse(1)
        reference = submit_with_address(mailroom)
        received, assigned = smtp_server.wait_for(2, timeout_s=60)
        assert {received.subject, assigned.subject} == {
            f"Eingangsbestätigung für Ihren Antrag {reference}",
            f"Ihr Anliegen {reference}: zuständig ist Standesamt",
        }
        assert smtp_server.refused == 1
        wait_until(
            lambda: [r.state for r in notifying_rows(mailroom, reference)] == [SENT, SENT],
            10,
            "sent",
        )
        with pytest.raises(AssertionError):
            smtp_server.wait_for(3, timeout_s=0.5)
    finally:
        processes.stop_all()
        mailroom.stop()


def test_an_e_mail_that_cannot_be_composed_is_recorded_as_failed_and_the_stream_moves_on(
    tmp_path, smtp_server
):
    mailroom = build(notifying_settings(tmp_path, smtp_server), clock=FakeClock())
    try:
        broken = tmp_path / "templates"
        broken.mkdir()  # no templates at all
        notifications(mailroom).composer = Composer("https://x.example", broken)
        reference = submit_with_address(mailroom)
        mailroom.runner.run_until_idle()  # raises if a consumer stalled
        rows = notifying_rows(mailroom, reference)
        assert [(r.kind, r.state) for r in rows] == [
            ("received", FAILED),
            ("department_assigned", FAILED),
        ]
        assert all(r.last_error.startswith("not composed: TemplateNotFound") for r in rows)
        assert notifications(mailroom).position("log") == mailroom.app.max_notification_id()
        assert mailroom.health.problems() == []
        assert notifications(mailroom).outbox.requeue() == 0  # nothing to send them to
    finally:
        mailroom.stop()


def test_an_answer_from_the_bürgerkonto_is_no_new_request_to_acknowledge(notifying, smtp_server):
    from mailroom.services.citizen import Citizen

    applicant = Applicant(name="Eva Musterfrau", email=EMAIL, address="Lindenallee 1")
    receipt = notifying.intake.submit(
        submission(applicant=applicant, citizen_account_id="sub-eva"), [], uuid4().hex
    )
    smtp_server.wait_for(2)
    citizen = Citizen("sub-eva", "Eva Musterfrau", EMAIL)
    notifying.services.citizen.signed_in(citizen)
    notifying.services.casework.request_information(
        CLERK, receipt.reference, "Bitte die Ausweiskopie", date.today() + timedelta(days=14)
    )
    smtp_server.wait_for(3)
    notifying.services.citizen.answer_for_account(
        citizen, receipt.reference, "Anbei die Kopie.", []
    )
    notifying.runner.run_until_idle()  # every consumer has seen the answer
    kinds = [r.kind for r in notifications(notifying).outbox.rows()]
    assert kinds.count("received") == 1  # the request's, not the answer's
