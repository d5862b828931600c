"""Observability in the embedded mode: structured logs with the ids of a request and an item,
a line for every router decision, the request id echoed, and the Prometheus figures."""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.config import Settings
from mailroom.liveness import API_LOOP, GRACE_S, HEARTBEATS
from mailroom.logs import ContextFilter, JsonFormatter, TextFormatter, log_context, log_format
from tests.fixtures import documents
from tests.fixtures.builders import FakeClock, metadata_json, portal_auth
from tests.integration.test_routing_pipeline import CASE, SPERRMUELL, Casework, letter, scan


class Lines(logging.Handler):
    """Formats every record as the production handler would and keeps the lines."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(formatter)
        self.addFilter(ContextFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]

    def with_message(self, start: str) -> list[dict]:
        return [line for line in self.json() if line["message"].startswith(start)]


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    handler = Lines(JsonFormatter())
    logger = logging.getLogger("mailroom")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as test_client:
        yield test_client


def submit(client: TestClient, headers: dict[str, str] | None = None, metadata: str | None = None):
    return client.post(
        "/api/v1/submissions",
        data={"metadata": metadata or metadata_json()},
        files=[("files", ("antrag.pdf", documents.text_pdf("Antrag auf eine Geburtsurkunde")))],
        headers=headers or {},
    )


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_submission_logs_its_request_id_item_id_and_reference_as_json(
    client, mailroom, json_lines
):
    """GIVEN a portal submission with an X-Request-ID
    WHEN it is received and the runner routes it
    THEN the intake line carries request id, item id, reference and channel, and the
    router's line carries the same item id and reference."""
    response = submit(client, {"X-Request-ID": "portal-4711"})
    assert response.status_code == 202
    reference = response.json()["reference"]
    mailroom.runner.run_until_idle()

    (received,) = json_lines.with_message("item received")
    assert received["request_id"] == "portal-4711"
    assert received["reference"] == reference
    assert received["channel"] == "portal"
    item_id = received["item_id"]
    assert str(mailroom.app.find_item_by_reference(reference).id) == item_id
    (routed,) = json_lines.with_message("routed to")
    assert (routed["item_id"], routed["reference"]) == (item_id, reference)
    assert routed["decision"] == "routed"
    assert (routed["department"], routed["method"], routed["score"]) == (
        "standesamt",
        "service-key",
        1.0,
    )
    assert routed["case_reference"] == reference
    assert routed["consumer"] == "router"
    assert all(line["level"] and line["ts"] and line["logger"] for line in json_lines.json())


def test_every_router_decision_is_one_line_routed_triaged_or_attached(
    mailroom, json_lines, casework
):
    casework.import_cases([CASE])
    mailroom.runner.run_until_idle()
    routed = scan(mailroom, SPERRMUELL)
    attached = scan(
        mailroom,
        letter(
            "Peter Hakvoort",
            "Eichendorffweg 15",
            "Nachreichung Statik",
            "anbei reiche ich die Statik für unseren Bauantrag nach.",
            "63-BA-2026-0234",
        ),
    )
    triaged = scan(mailroom, "\n")  # a blank letter: rescan

    decisions = {line["reference"]: line for line in json_lines.json() if "decision" in line}
    assert len(decisions) == 3
    line = decisions[routed.reference]
    assert (line["decision"], line["department"], line["method"]) == (
        "routed",
        "abfall",
        "classifier",
    )
    assert line["score"] >= 0.6 and line["item_id"] == str(routed.id)
    line = decisions[attached.reference]
    assert (line["decision"], line["case_reference"], line["method"]) == (
        "attached",
        "63-BA-2026-0234",
        "follow-up",
    )
    line = decisions[triaged.reference]
    assert line["decision"] == "triaged"
    assert line["reason"] == triaged.triage_reason
    assert line["message"].startswith("sent to triage: ")


@pytest.fixture
def casework(mailroom: Mailroom) -> Casework:
    return Casework(mailroom)


def test_the_request_id_is_echoed_or_made_when_missing_or_insane(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == (
        "abc-123"
    )
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    forged = client.get("/nirgends", headers={"X-Request-ID": "x injected=1 " + "y" * 200})
    assert forged.status_code == 404
    assert forged.headers["X-Request-ID"] not in ("", made)
    assert " " not in forged.headers["X-Request-ID"]


def test_metrics_count_intake_decisions_and_http_latency_by_route_template(client, mailroom):
    before = scrape(client)
    for _ in range(3):
        assert submit(client).status_code == 202
    refused = submit(client, metadata=metadata_json(service_key="no-such-service"))
    assert refused.status_code >= 400
    mailroom.runner.run_until_idle()
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mailroom_intake_total", channel="portal", outcome="accepted", reason="") == 3
    assert (
        delta(
            "mailroom_intake_total", channel="portal", outcome="rejected", reason="unknown_service"
        )
        == 1
    )
    assert delta("mailroom_router_decisions_total", decision="routed", how="service-key") == 3
    route = "/api/v1/submissions"
    assert (
        delta(
            "mailroom_http_request_duration_seconds_count",
            method="POST",
            route=route,
            status="202",
        )
        == 3
    )
    assert not any("reference" in labels for _, labels in after)
    assert value(after, "mailroom_ready") == 1
    assert value(after, "mailroom_lag_known") == 1


def test_ocr_seconds_per_page_are_observed_per_page(client, mailroom):
    before = scrape(client)
    scan(mailroom, SPERRMUELL + "\f" + "Seite zwei")
    after = scrape(client)
    name = "mailroom_ocr_page_seconds_count"
    pages = sum(
        value(after, name, method=m) - value(before, name, method=m) for m in ("text-layer", "ocr")
    )
    assert pages == 2


def test_consumer_lag_grows_while_consumers_are_stopped_and_is_zero_after_catch_up(
    client, mailroom, monkeypatch
):
    """GIVEN the embedded runner is not running
    WHEN two submissions arrive
    THEN the router and the status view lag by two events; once caught up, by none."""
    mailroom.runner.run_until_idle()
    for _ in range(2):
        assert submit(client).status_code == 202
    lagging = scrape(client)
    assert value(lagging, "mailroom_consumer_lag_events", consumer="router") == 2
    assert value(lagging, "mailroom_consumer_lag_events", consumer="ocr") == 2
    assert value(lagging, "mailroom_consumer_lag_events", consumer="status") >= 2
    monkeypatch.setattr("mailroom.lag.CAP", 1)  # far behind: estimated from the log's span
    estimated = scrape(client)
    assert value(estimated, "mailroom_consumer_lag_events", consumer="router") >= 2
    monkeypatch.undo()

    mailroom.runner.run_until_idle()
    caught_up = scrape(client)
    lags = {
        labels: v for (name, labels), v in caught_up.items() if name.endswith("consumer_lag_events")
    }
    assert lags and all(v == 0 for v in lags.values()), lags
    assert ("mailroom_relay_lag_events", ()) not in caught_up  # no relay in the embedded mode


def test_health_is_alive_without_internals_and_readiness_names_states_only(client):
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "alive", "loops": {}})
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["checks"].values()) == {"ok"}
    assert {"event_store", "blob_store"} <= set(body["checks"])


def test_the_embedded_modes_health_names_its_consumers_and_a_hung_one_makes_it_late(
    mailroom, client
):
    """GIVEN the embedded mode with its runner started (as `mailroom serve` starts it)
    THEN /healthz names every consumer's follower as "ok";
    a loop past its promise (a consumer hung on an event) turns it into 503 "late" naming
    that loop, so a supervisor restarts the process; once the loops stop they are gone."""
    mailroom.start()
    try:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "alive"
        expected = {f"runner {consumer.name}" for consumer in mailroom.consumers}
        assert expected <= set(health.json()["loops"])
        assert set(health.json()["loops"].values()) == {"ok"}
        HEARTBEATS.expect_within("runner router", -GRACE_S - 1)  # its promise ran out
        late = client.get("/healthz")
        assert late.status_code == 503
        assert late.json()["status"] == "late"
        assert late.json()["loops"]["runner router"] == "late"
        assert late.json()["loops"]["runner status"] == "ok"
    finally:
        mailroom.stop()
    assert client.get("/healthz").json() == {"status": "alive", "loops": {}}


def test_the_served_app_beats_on_its_event_loop_and_is_watched(settings, caplog):
    """GIVEN the app as `mailroom serve` runs it (it composes and starts its own mailroom;
    in each process of `serve --workers N`) THEN /healthz lists its event loop and the
    embedded runner's loops as "ok", the watchdog runs, and a library's warning is a log
    record; once the app has stopped, neither the loops nor the watchdog are left."""
    thresholds = gc.get_threshold()  # the served app settles the collector: restored below
    with TestClient(create_app(settings=settings)) as served:
        health = served.get("/healthz").json()
        assert health["status"] == "alive"
        assert health["loops"][API_LOOP] == "ok"
        assert health["loops"]["runner router"] == "ok"
        assert any(t.name == "watchdog" for t in threading.enumerate())
        with caplog.at_level(logging.WARNING, logger="py.warnings"):
            warnings.warn("image size exceeds the limit", UserWarning, stacklevel=1)
        assert any(r.name == "py.warnings" for r in caplog.records)
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    assert HEARTBEATS.report().loops.keys().isdisjoint({API_LOOP, "runner router"})
    for thread in threading.enumerate():
        if thread.name == "watchdog":
            thread.join(5)
            assert not thread.is_alive()


def test_text_lines_end_with_the_ids_and_json_is_the_production_default(tmp_path):
    record = logging.LogRecord(
        "mailroom.x", logging.INFO, __file__, 1, "hello %s", ("world",), None
    )
    with log_context(request_id="r1", reference="LIN-2026-1"):
        ContextFilter().filter(record)
    text = TextFormatter().format(record)
    assert text.endswith("hello world [req=r1 ref=LIN-2026-1]")
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["request_id"], line["reference"]) == (
        "hello world",
        "r1",
        "LIN-2026-1",
    )
    secret = "s" * 40
    production = Settings(environment="production", secret_key=secret, data_dir=tmp_path)
    assert log_format(production) == "json"
    assert log_format(Settings(data_dir=tmp_path)) == "text"
    assert log_format(Settings(data_dir=tmp_path, log_format="json")) == "json"


def test_python_warnings_become_log_lines_in_the_process_format(tmp_path):
    """GIVEN a process whose logging is set up as in production (JSON)
    WHEN a library warns (warnings.warn) THEN the warning is one JSON line, not raw text."""
    script = textwrap.dedent(
        f"""
        import warnings
        from mailroom.config import Settings
        from mailroom.logs import configure_logging

        configure_logging(Settings(data_dir={str(tmp_path)!r}, log_format="json"))
        warnings.warn("image size exceeds the limit", UserWarning)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.strip()]
    assert (line["level"], line["logger"]) == ("warning", "py.warnings")
    assert "UserWarning: image size exceeds the limit" in line["message"]


@pytest.fixture
def kafka_mode(tmp_path, settings) -> Iterator[Mailroom]:
    """The API process of the production mode (SQLite store) with its broker away."""
    from mailroom.bootstrap import build
    from tests.harness.ports import free_port

    away = settings.model_copy(
        update={"bus": f"kafka://127.0.0.1:{free_port()}", "dependency_timeout_s": 1.0}
    )
    composed = build(away, clock=FakeClock())
    yield composed
    composed.stop()


def test_with_kafka_the_relay_lag_counts_unpublished_events_and_readyz_names_the_bus(
    kafka_mode,
):
    """GIVEN the production mode's API with the broker unreachable
    WHEN a submission is stored and later the relay has published everything
    THEN the relay lag is the unpublished events, then zero; /readyz says the bus is
    unreachable without host or exception text, and the lag of the consumers is unknown."""
    from eventsourcing.persistence import Tracking

    from mailroom.relay import RELAY

    with TestClient(create_app(kafka_mode), headers=portal_auth(kafka_mode)) as client:
        before = kafka_mode.app.max_notification_id()
        assert submit(client).status_code == 202
        stored = kafka_mode.app.max_notification_id()
        samples = scrape(client)
        assert value(samples, "mailroom_relay_lag_events") == stored >= before + 2
        assert value(samples, "mailroom_lag_known") == 0
        assert value(samples, "mailroom_dependency_up", dependency="bus") == 0

        kafka_mode.app.process_recorder.insert_tracking(Tracking(RELAY, stored))
        assert value(scrape(client), "mailroom_relay_lag_events") == 0

        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["bus"] == "unreachable"
        assert "127.0.0.1" not in ready.text and "Error" not in ready.text


def test_with_kafka_the_consumer_lag_is_end_offsets_minus_the_groups_position(
    settings, kafka_bootstrap
):
    """GIVEN three mail-item records on the broker and no worker running
    WHEN the router has recorded its position after the second
    THEN the router lags by three, then by one; the bus is ready."""
    from uuid import uuid4

    from eventsourcing.persistence import Tracking
    from kafka import KafkaProducer

    from mailroom.adapters.kafka_bus import ensure_topics
    from mailroom.bootstrap import build
    from mailroom.consumers.base import tracking_name
    from mailroom.lag import LagMeter

    prefix = f"obs{uuid4().hex[:8]}"
    kafka_settings = settings.model_copy(
        update={
            "bus": f"kafka://{kafka_bootstrap}",
            "kafka_topic_prefix": prefix,
            "kafka_group_prefix": prefix,
            "kafka_partitions": 1,
        }
    )
    composed = build(kafka_settings, clock=FakeClock())
    try:
        topic = f"{prefix}.mail-item"
        ensure_topics(kafka_settings, [topic])
        producer = KafkaProducer(bootstrap_servers=[kafka_bootstrap])
        for _ in range(3):  # one record per batch (the test broker's end offsets)
            producer.send(topic, key=b"k", value=b"{}").get(timeout=30)
            producer.flush()
        producer.close()
        meter = LagMeter(composed)
        lags = meter.consumer_lag()
        assert lags is not None and lags["router"] == 3
        assert lags["status"] == 3  # the status view reads mail-item events too
        assert lags["delivery"] == 0  # it reads no mail-item events: another topic

        source = f"{topic}:0"
        composed.app.process_recorder.insert_tracking(
            Tracking(tracking_name("router", source), 2)  # offset + 1 of the second record
        )
        lags = meter.consumer_lag()
        assert lags is not None and lags["router"] == 1
        meter.close()
        assert composed.readiness.report().checks["bus"] == "ok"
    finally:
        composed.stop()


def test_a_worker_serves_its_own_counters_and_liveness_on_the_metrics_port():
    """GIVEN a process serving on its metrics port
    THEN /metrics has its counters, and /healthz answers 200 while its loops keep their
    promises and 503 naming the loop that is late (a hung worker, to be restarted)."""
    import urllib.error
    import urllib.request

    from mailroom.liveness import GRACE_S, HEARTBEATS
    from mailroom.metrics import serve_process_metrics
    from tests.harness.ports import free_port

    port = free_port()
    serve_process_metrics(port)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    for family in ("mailroom_router_decisions", "mailroom_ocr_page_seconds", "mailroom_intake"):
        assert f"# TYPE {family}" in text

    def healthz() -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    HEARTBEATS.expect_within("worker busy", 60)
    HEARTBEATS.expect_within("worker hung", -GRACE_S - 1)  # its promise ran out a second ago
    try:
        assert healthz() == (
            503,
            {"status": "late", "loops": {"worker busy": "ok", "worker hung": "late"}},
        )
        HEARTBEATS.forget("worker hung")
        assert healthz() == (200, {"status": "alive", "loops": {"worker busy": "ok"}})
    finally:
        HEARTBEATS.forget("worker hung")
        HEARTBEATS.forget("worker busy")


def test_latency_is_labelled_by_route_template_never_by_raw_path(client):
    before = scrape(client)
    client.get("/api/v1/status/LIN-2026-00077")
    client.get("/static/app.css")
    client.get("/no/such/page/LIN-2026-00078")
    after = scrape(client)
    routes = {
        dict(labels)["route"]
        for (name, labels), v in after.items()
        if name == "mailroom_http_request_duration_seconds_count"
        and v > before.get((name, labels), 0)
    }
    assert routes - {"/metrics"} == {"/api/v1/status/{reference}", "/static/{path}", "unmatched"}


@pytest.mark.parametrize("stack", ["production"], indirect=True)
def test_in_production_workers_log_json_lines_with_the_item_and_serve_their_counters(stack):
    """GIVEN the production stack, its workers logging JSON with a metrics port
    WHEN a portal submission goes through relay and router
    THEN the router's JSON decision line names the item and reference, the workers' port
    counts the decision, and the API's lag figures return to zero."""
    import urllib.request

    from mailroom.lag import LagMeter
    from tests.fixtures.builders import submission
    from tests.harness.ports import free_port
    from tests.integration.stack import wait_until, worker_names

    processes = stack.processes
    processes.stop_all()
    port = free_port()
    processes.env["MAILROOM_LOG_FORMAT"] = "json"
    processes.start("relay", "relay")
    processes.env["MAILROOM_METRICS_PORT"] = str(port)
    processes.start("workers", "worker", *worker_names(stack.mailroom))

    receipt = stack.mailroom.intake.submit(submission(), [], None)

    def decision() -> dict | None:
        for raw in processes.log("workers").splitlines():
            if raw.startswith("{") and '"decision"' in raw:
                line = json.loads(raw)
                if line.get("reference") == receipt.reference:
                    return line
        return None

    wait_until(lambda: decision() is not None, 120, "the router's decision line")
    line = decision()
    assert line is not None
    assert (line["item_id"], line["decision"], line["consumer"]) == (
        str(receipt.item_id),
        "routed",
        "router",
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    assert 'mailroom_router_decisions_total{decision="routed",how="service-key"} 1.0' in text
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
        liveness = json.loads(answer.read())
    assert liveness == {
        "status": "alive",
        "loops": {f"worker {name}": "ok" for name in worker_names(stack.mailroom)},
    }

    meter = LagMeter(stack.mailroom)
    try:
        wait_until(lambda: meter.relay_lag() == 0, 60, "the relay to catch up")
        wait_until(
            lambda: (lags := meter.consumer_lag()) is not None and lags["router"] == 0,
            60,
            "the router's lag to be zero",
        )
    finally:
        meter.close()
