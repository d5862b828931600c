"""One contract for the event store (eventsourcing on SQLite and on PostgreSQL)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from aggregates.case import Case
from aggregates.mail_item import MailItem
from aggregates.values import Applicant, Document, PageText, Submission
from mailroom.adapters.event_store import persistence_env
from mailroom.application import MailroomApp

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def new_item(key: str | None = None) -> MailItem:
    return MailItem(
        channel="portal",
        intake_key=key or uuid4().hex,
        reference=f"LIN-2026-{uuid4().hex[:4].upper()}-0000",
        received_at=NOW,
        documents=[Document("sha256/aa/aa", "aa", "image/png", 3, 1, "ä.png", ("flag",))],
        access_code_hash="hash",
        request_fingerprint="fp",
        submission=Submission(
            "trauung", Applicant("Jörg Ähnlich", email="j@x.de"), "Trauung", {"datum": "1.5."}
        ),
    )


class EventStoreContract:
    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def app(self, url: str) -> Iterator[MailroomApp]:
        application = MailroomApp(env=persistence_env(url))
        yield application
        application.close()

    def test_an_item_round_trips_with_its_value_objects(self, app):
        item = new_item()
        item.record_text("sha256/aa/aa", "ocr", [PageText(1, "Grüße", 87.5, "ocr", 90)])
        app.save(item)
        loaded = app.get_item(item.id)
        assert loaded.documents == item.documents
        assert loaded.submission == item.submission
        assert loaded.received_at == NOW
        assert loaded.texts["sha256/aa/aa"][0].rotation == 90

    def test_the_same_natural_key_cannot_be_saved_twice(self, app):
        app.save(new_item("same"))
        with pytest.raises(IntegrityError):
            app.save(new_item("same"))

    def test_the_notification_log_lists_events_in_order_and_filters_by_topic(self, app):
        items = [new_item() for _ in range(3)]
        for item in items:
            app.save(item)
        notifications = app.notifications_after(0, 10)
        assert [n.originator_id for n in notifications] == [i.id for i in items]
        assert [n.id for n in notifications] == sorted(n.id for n in notifications)
        topic = get_topic(Case.Opened)
        assert app.notifications_after(0, 10, (topic,)) == []

    def test_effects_and_position_are_recorded_together_and_only_once(self, app):
        item = new_item()
        app.save(item)
        item = app.get_item(item.id)
        item.route("standesamt", "service-key", 1.0, "x")
        assert app.save_processed(Tracking("router@log", 1), item) is True
        assert app.position("router@log") == 1
        assert app.save_processed(Tracking("router@log", 1)) is False
        assert app.position("router@log") == 1

    def test_a_failed_effect_does_not_move_the_position(self, app):
        item = new_item()
        app.save(item)
        stale = app.get_item(item.id)
        current = app.get_item(item.id)
        current.route("abfall", "classifier", 0.9, "x")
        app.save(current)
        stale.route("ordnungsamt", "classifier", 0.9, "y")  # a concurrent writer lost
        with pytest.raises(IntegrityError):
            app.save_processed(Tracking("router@log", 5), stale)
        assert app.position("router@log") == 0


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'events.sqlite'}"


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def url(self, postgres_url: str, postgres_schema: str) -> str:
        return f"{postgres_url}?schema={postgres_schema}"
