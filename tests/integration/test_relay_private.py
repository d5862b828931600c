"""The relay keeps secrets off the bus: a staff member's password hash is never published."""

from __future__ import annotations

from mailroom.adapters.cloudevents import EventContract
from mailroom.auth.principal import system_principal
from mailroom.relay import RELAY, OutboxRelay


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def send(self, topic, key, value, headers):
        self.sent.append((topic, value))
        return self

    def get(self, timeout):
        return None

    def flush(self):
        pass


def test_a_password_hash_never_reaches_kafka_but_the_relay_moves_past_it(mailroom):
    mailroom.services.staff.add(
        system_principal("test"), "erika", "Erika", ["clerk"], ["standesamt"], "x" * 20
    )
    producer = RecordingProducer()
    contract = EventContract("Stadt Lindenau", "/mailroom")
    relay = OutboxRelay(mailroom.app, lambda: producer, "mailroom", contract, lambda t: None)
    relay.publish_batch()
    assert len(producer.sent) == 1  # StaffMember.Registered only
    assert all(b"argon2" not in value and b"password" not in value for _, value in producer.sent)
    assert mailroom.app.position(RELAY) == mailroom.app.max_notification_id()
