"""MAILROOM_BUS is read case-insensitively: the scheme, never the host part."""

import pytest
from pydantic import ValidationError

from mailroom.config import Settings


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("embedded", "embedded"),
        ("EMBEDDED", "embedded"),
        (" Embedded ", "embedded"),
        ("kafka://kafka:9092", "kafka://kafka:9092"),
        ("KAFKA://Broker-1.Lindenau.de:9092", "kafka://Broker-1.Lindenau.de:9092"),
        ("Kafka://a:9092,B:9093", "kafka://a:9092,B:9093"),
    ],
)
def test_the_bus_scheme_is_case_insensitive(
    monkeypatch: pytest.MonkeyPatch, given: str, read: str
) -> None:
    monkeypatch.setenv("MAILROOM_BUS", given)

    assert Settings().bus == read


def test_an_upper_case_kafka_url_gives_the_bootstrap_servers_as_written() -> None:
    settings = Settings(bus="KAFKA://Broker-1:9092,broker-2:9092")

    assert settings.kafka_bootstrap == ["Broker-1:9092", "broker-2:9092"]


@pytest.mark.parametrize("given", ["RabbitMQ://x", "kafka://", "kafka"])
def test_an_unknown_bus_is_refused_by_the_settings(given: str) -> None:
    with pytest.raises(ValidationError, match="use embedded or kafka://HOST:PORT"):
        Settings(bus=given)
