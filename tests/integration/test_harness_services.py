"""The test harness hands out real servers that answer over real connections."""

from __future__ import annotations

import io
import socket
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaTimeoutError
from psycopg import sql

from tests.harness.kafka import KafkaBroker
from tests.harness.ports import LOOPBACK, free_port, port_is_open, wait_for_port
from tests.harness.postgres import (
    DATABASE_PREFIX,
    eventsourcing_env,
    postgres_server,
    temporary_schema,
)
from tests.harness.s3 import S3Endpoint


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_free_port_is_bindable_and_wait_for_port_times_out() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind((LOOPBACK, port))
    with pytest.raises(TimeoutError):
        wait_for_port(LOOPBACK, port, timeout=0.2)


# --- PostgreSQL -------------------------------------------------------------------------


def test_postgres_select_one(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        dbname = conn.execute("SELECT current_database()").fetchone()
    assert dbname is not None
    assert str(dbname[0]).startswith(DATABASE_PREFIX)


def test_postgres_table_round_trip(postgres_url: str, postgres_schema: str) -> None:
    table = sql.Identifier(postgres_schema, "letters")
    with psycopg.connect(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, sender text)").format(table))
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(table), (1, "Bürgeramt Lindenau")
        )
        conn.commit()
        rows = conn.execute(sql.SQL("SELECT id, sender FROM {}").format(table)).fetchall()
    assert rows == [(1, "Bürgeramt Lindenau")]


class Letter(Aggregate):
    @event("Received")
    def __init__(self, subject: str) -> None:
        self.subject = subject


def test_eventsourcing_uses_the_fresh_schema(postgres_url: str, postgres_schema: str) -> None:
    app = Application[uuid.UUID](env=eventsourcing_env(postgres_url, postgres_schema))
    try:
        letter = Letter("Antrag auf Wohngeld")
        app.save(letter)
        assert app.repository.get(letter.id).subject == "Antrag auf Wohngeld"
    finally:
        app.close()
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
            (postgres_schema,),
        ).fetchone()
    assert tables is not None and tables[0] > 0


def test_throwaway_postgres_cluster_starts_and_is_removed() -> None:
    with postgres_server(force_throwaway=True) as url:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            row = conn.execute("SELECT current_setting('data_directory'), inet_server_port()")
            data_directory, port = row.fetchone() or ("", 0)
        with temporary_schema(url) as schema, psycopg.connect(url) as conn:
            table = sql.Identifier(schema, "t")
            conn.execute(sql.SQL("CREATE TABLE {} (v text)").format(table))
            conn.execute(sql.SQL("INSERT INTO {} VALUES ('ok')").format(table))
            assert conn.execute(sql.SQL("SELECT v FROM {}").format(table)).fetchone() == ("ok",)
    assert "mailroom-pg-" in str(data_directory)
    assert port != 5432
    assert not port_is_open(LOOPBACK, int(port))
    assert not Path(str(data_directory)).exists()


# --- Kafka ------------------------------------------------------------------------------


def test_kafka_produce_and_consume_in_a_group(kafka_bootstrap: str) -> None:
    topic = unique("harness")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        producer.send(topic, key=b"k", value=b"Eingangsstempel").get(timeout=10)
    finally:
        producer.close()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=unique("group"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=200,
        consumer_timeout_ms=15000,
    )
    try:
        message = next(iter(consumer))
        consumer.commit()
        assert consumer.assignment()
    finally:
        consumer.close()
    assert (message.key, message.value) == (b"k", b"Eingangsstempel")


def test_kafka_pause_and_resume(kafka: KafkaBroker) -> None:
    if kafka.process is None:  # external broker: the harness must refuse to signal it
        with pytest.raises(RuntimeError):
            kafka.pause()
        return
    topic = unique("paused")
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, request_timeout_ms=1000)
    try:
        producer.send(topic, b"before").get(timeout=10)
        with kafka.paused():
            started = time.monotonic()
            with pytest.raises(KafkaTimeoutError):
                producer.send(topic, b"while paused").get(timeout=1)
            assert time.monotonic() - started < 5
        producer.send(topic, b"after").get(timeout=10)
    finally:
        producer.close(timeout=5)


# --- S3 ---------------------------------------------------------------------------------


def test_s3_put_and_get(s3_endpoint: S3Endpoint) -> None:
    client = s3_endpoint.client()
    bucket = unique("harness")
    payload = b"Widerspruch gegen Bescheid"
    client.make_bucket(bucket)
    client.put_object(bucket, "letters/1.txt", io.BytesIO(payload), len(payload))
    response = client.get_object(bucket, "letters/1.txt")
    try:
        assert response.read() == payload
    finally:
        response.close()
        response.release_conn()
