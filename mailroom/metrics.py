"""Prometheus exposition of a readiness report (computed per scrape, so every API process
reports the same shared state and no multi-process registry is needed)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from mailroom.consumers.health import STALLED
from mailroom.readiness import OK, ReadinessReport


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


def exposition(report: ReadinessReport) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ReportCollector(report))
    return generate_latest(registry), CONTENT_TYPE_LATEST
