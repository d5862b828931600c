"""Prometheus metrics of the mailroom.

Two kinds, served together at ``/metrics``:

* **Shared state, computed per scrape** (readiness, consumer lag, relay lag): read from the
  event store, the views and the bus when Prometheus asks, so every API process gives the
  same answer and no multi-process registry is needed.
* **Counters of this process** (intake, OCR seconds per page, router decisions, HTTP
  latency) in prometheus_client's default registry. In the embedded mode everything runs in
  the API process; in production the workers and the relay serve theirs on
  ``MAILROOM_METRICS_PORT`` (``serve_process_metrics``), with their liveness at
  ``/healthz``. For ``mailroom serve --workers N`` set ``PROMETHEUS_MULTIPROC_DIR``
  (prometheus_client's multi-process mode) so that the N API processes' counters are summed.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ParamSpec, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, ThreadingWSGIServer
from prometheus_client.registry import Collector

from mailroom.consumers.health import STALLED
from mailroom.liveness import HEARTBEATS
from mailroom.logs import log_context
from mailroom.readiness import OK, ReadinessReport

log = logging.getLogger(__name__)
intake_log = logging.getLogger("mailroom.intake")
P = ParamSpec("P")
R = TypeVar("R")

INTAKE = Counter(
    "mailroom_intake",
    "Intake requests by channel (portal, scan, answer) and outcome (accepted, replayed, "
    "rejected with a reason code)",
    ["channel", "outcome", "reason"],
)
OCR_PAGE_SECONDS = Histogram(
    "mailroom_ocr_page_seconds",
    "Seconds spent reading one page (a document's time divided by its pages), by method",
    ["method"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120),
)
ROUTER_DECISIONS = Counter(
    "mailroom_router_decisions",
    "Router decisions: routed (auto), triaged or attached to an existing case; "
    "how = routing method, triage reason or attachment method",
    ["decision", "how"],
)
HTTP_LATENCY = Histogram(
    "mailroom_http_request_duration_seconds",
    "HTTP request latency by method, route template and status code",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def reason_code(exc: BaseException) -> str:
    """A stable, low-cardinality code for a refused intake (the error's ``code`` when it
    has one, else its class name in snake case without ``Error``)."""
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    name = type(exc).__name__.removesuffix("Error")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def observed_intake(channel: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Count an intake method's outcome and log the item it received (its receipt names
    ``item_id``, ``reference`` and ``created``). The request id is in the log context, so
    this line joins the HTTP request to the item."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                receipt = method(*args, **kwargs)
            except Exception as exc:
                reason = reason_code(exc)
                INTAKE.labels(channel, "rejected", reason).inc()
                intake_log.info("intake refused (%s)", reason, extra={"channel": channel})
                raise
            receipt_: Any = receipt
            created = bool(getattr(receipt_, "created", True))
            INTAKE.labels(channel, "accepted" if created else "replayed", "").inc()
            with log_context(item_id=receipt_.item_id, reference=receipt_.reference):
                intake_log.info(
                    "item received" if created else "item received again (same request)",
                    extra={"channel": channel, "new_item": created},
                )
            return receipt

        return wrapper

    return decorate


class _ReportCollector(Collector):
    def __init__(self, report: ReadinessReport) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        ready = GaugeMetricFamily("mailroom_ready", "1 when the mailroom is ready")
        ready.add_metric([], 1.0 if self.report.ready else 0.0)
        yield ready
        up = GaugeMetricFamily(
            "mailroom_dependency_up", "1 when a dependency answers", labels=["dependency"]
        )
        for name, state in self.report.checks.items():
            up.add_metric([name], 1.0 if state == OK else 0.0)
        yield up
        troubled = GaugeMetricFamily(
            "mailroom_consumer_troubled",
            "1 per consumer and source that is retrying, waiting for a dependency or stalled",
            labels=["consumer", "source", "state"],
        )
        attempts = GaugeMetricFamily(
            "mailroom_consumer_failed_attempts",
            "failed attempts at the event a consumer is stuck on",
            labels=["consumer", "source"],
        )
        stalled = GaugeMetricFamily(
            "mailroom_consumers_stalled", "consumers that cannot go on (read models)"
        )
        for record in self.report.consumers:
            troubled.add_metric([record.consumer, record.source, record.state], 1.0)
            attempts.add_metric([record.consumer, record.source], float(record.attempts))
        stalled.add_metric([], float(sum(r.state == STALLED for r in self.report.consumers)))
        yield from (troubled, attempts, stalled)


class _LagCollector(Collector):
    def __init__(self, consumers: Mapping[str, int] | None, relay: int | None) -> None:
        self.consumers = consumers
        self.relay = relay

    def collect(self) -> Iterator[Metric]:
        known = GaugeMetricFamily(
            "mailroom_lag_known", "1 when the lag figures below could be computed this scrape"
        )
        known.add_metric([], 0.0 if self.consumers is None else 1.0)
        yield known
        lag = GaugeMetricFamily(
            "mailroom_consumer_lag_events",
            "Events a consumer has still to look at (embedded: in the notification log; "
            "Kafka: end offsets minus its group's position on its topics)",
            labels=["consumer"],
        )
        for name, behind in sorted((self.consumers or {}).items()):
            lag.add_metric([name], float(behind))
        yield lag
        if self.relay is not None:
            relay = GaugeMetricFamily(
                "mailroom_relay_lag_events",
                "Events in the event store the relay has not published to Kafka yet",
            )
            relay.add_metric([], float(self.relay))
            yield relay


def exposition(
    report: ReadinessReport,
    consumer_lag: Mapping[str, int] | None = None,
    relay_lag: int | None = None,
) -> tuple[bytes, str]:
    """The shared figures of this scrape followed by this process's (or, in the
    multi-process mode, all API processes') counters."""
    shared = CollectorRegistry(auto_describe=False)
    shared.register(_ReportCollector(report))
    shared.register(_LagCollector(consumer_lag, relay_lag))
    return generate_latest(shared) + generate_latest(_process_registry()), CONTENT_TYPE_LATEST


def _process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def serve_process_metrics(port: int | None) -> None:
    """Serve this process's counters at ``/metrics`` and its liveness at ``/healthz``
    (``mailroom.liveness``) on ``port`` (workers and the relay), when set."""
    global _serving
    if port is None or _serving:
        return
    try:
        server = make_server(
            "0.0.0.0",  # noqa: S104 (scraped and probed from outside the pod)
            port,
            _process_endpoints,
            ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
    except OSError as exc:  # a taken port must not stop the mail: say so and go on
        log.error("cannot serve metrics on port %s (%s); this process serves none", port, exc)
        return
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    _serving = True
    log.info("metrics and liveness of this process on port %s", port)


_serving = False
_metrics_app = make_wsgi_app()


def _process_endpoints(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    if environ.get("PATH_INFO") != "/healthz":
        return _metrics_app(environ, start_response)
    report = HEARTBEATS.report()
    body = json.dumps(report.as_json()).encode()
    start_response(
        "200 OK" if report.alive else "503 Service Unavailable",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds: no access line for each."""
