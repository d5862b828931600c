"""Clerk dashboard at scale: queue pages, case page, search and the citizen's status check
over 100k and 1M cases, plus the rate at which the read models are rebuilt.

    python bench/dashboard.py [--cases 100000 1000000] [--mode embedded postgres]
                              [--samples 300] [--per-save 500] [--batch 20000]

For each size and mode: cases are made through the real aggregates (``bench/dashboard_data``)
and saved many per ``app.save(*aggregates)``; the read models are then built from the
notification log in one pass, each with ``Projection.process_batch`` per batch (the
``mailroom projections rebuild`` path, ``mailroom.cli.admin.replay``); then each query is
timed warm (p50/p99). The rebuild rate counts the events applied by all read models together
(an event read once from the log is applied by each read model subscribed to it).
Embedded: SQLite files in a temp dir. PostgreSQL: a throwaway database on the local server
(or a throwaway cluster), dropped at the end; ANALYZE runs once a minute while cases are made
and the read models rebuilt, and VACUUM ANALYZE before the queries, as autovacuum would do
(the local server may run without it).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import Tracking
from sqlalchemy import text

from bench.dashboard_data import COMMON_WORD, RARE_WORD, CaseFactory, Samples, generate, utc_now
from mailroom.auth.principal import Principal, Role, system_principal
from mailroom.bootstrap import Mailroom, build
from mailroom.cli.admin import replay
from mailroom.config import Settings
from projections.base import Projection
from projections.cases import QueueFilter, case_view

TARGET_P99_MS = 50.0  # queue page and status check, 1M cases on PostgreSQL
TARGET_REBUILD = 20_000  # events per second
SECRET = "bench-" + "z" * 40
PASSWORD = "bench-password-1"
QUERIES = (
    "queue page 1",
    "queue page 2",
    "queue overdue",
    "case page",
    "search common",
    "search rare",
    "status check",
)
P99_TARGETS = {"queue page 1", "queue page 2", "queue overdue", "status check"}


@contextlib.contextmanager
def mailroom_for(mode: str) -> Iterator[Mailroom]:
    with (
        tempfile.TemporaryDirectory(prefix="dashboard-") as data_dir,
        contextlib.ExitStack() as stack,
    ):
        values: dict[str, Any] = {"data_dir": Path(data_dir), "secret_key": SECRET}
        if mode == "postgres":
            from tests.harness.postgres import postgres_cluster, session_database

            admin = stack.enter_context(postgres_cluster())
            values["event_store"] = stack.enter_context(session_database(admin))
        mailroom = build(Settings(**values))
        try:
            yield mailroom
        finally:
            mailroom.stop()


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return 1000 * statistics.median(ordered), 1000 * p99


def timed(call: Callable[[int], object], samples: int) -> tuple[float, float]:
    for i in range(max(20, samples // 10)):  # warm: caches, pool, query plans
        call(i)
    times = []
    for i in range(samples):
        started = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - started)
    return percentiles(times)


def busiest_department(mailroom: Mailroom) -> str:
    with mailroom.views.connect() as conn:
        row = conn.execute(
            text(
                "SELECT department_id FROM case_view WHERE status <> 'closed'"
                " GROUP BY department_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).first()
    assert row is not None
    return str(row[0])


class Timed:
    """A projection whose ``process_batch`` calls are timed (the rest is shared reading)."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.name, self.topics = projection.name, projection.topics
        self.seconds = 0.0

    def position(self, source: str) -> int:
        return self.projection.position(source)

    def process_batch(self, events: list[tuple[Any, Tracking]]) -> int:
        started = time.perf_counter()
        try:
            return self.projection.process_batch(events)
        finally:
            self.seconds += time.perf_counter() - started


def rebuild(mailroom: Mailroom, batch: int) -> tuple[int, float]:
    """Every read model from zero in one pass over the log, as ``projections rebuild``."""
    timed = [Timed(p) for p in mailroom.projections]
    for projection in mailroom.projections:
        projection.clear()
    started = time.perf_counter()
    head, last = mailroom.app.max_notification_id(), [started]

    def progress(position: int) -> None:
        if time.perf_counter() - last[0] > 60:
            last[0] = time.perf_counter()
            print(f"    ... at {position} of {head} notifications", flush=True)

    applied = replay(mailroom.app, timed, batch, progress)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    for t in timed:
        count = applied[t.name]
        print(
            f"    {t.name:<15} {count:>9} events, applying {t.seconds:7.1f} s"
            f" = {count / t.seconds:>7.0f}/s"
        )
    shared = seconds - sum(t.seconds for t in timed)
    print(f"    {'(reading, decoding the log)':<31} {shared:7.1f} s")
    return sum(applied.values()), seconds


@contextlib.contextmanager
def autoanalyze(mailroom: Mailroom, every_s: float = 60.0) -> Iterator[None]:
    """PostgreSQL: ANALYZE once a minute in the background, as autovacuum keeps the planner's
    statistics fresh (the local test server may run without autovacuum; with no statistics,
    a lookup by key on a big table is planned as if thousands of rows matched)."""
    if mailroom.views.dialect.name != "postgresql":
        yield
        return
    done = threading.Event()

    def loop() -> None:
        while not done.wait(every_s):
            with mailroom.views.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))

    thread = threading.Thread(target=loop, name="autoanalyze", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def vacuum(mailroom: Mailroom) -> None:
    if mailroom.views.dialect.name != "postgresql":
        return
    with mailroom.views.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE"))


def measure(mailroom: Mailroom, samples: Samples, count: int) -> dict[str, tuple[float, float]]:
    department = busiest_department(mailroom)
    clerk = Principal(
        id="staff:bench",
        login="bench",
        name="Bench Clerk",
        roles=frozenset({Role.CLERK}),
        departments=frozenset({department}),
    )
    workspace, status = mailroom.services.workspace, mailroom.services.status
    first = workspace.queue(clerk, department)
    cursor = first.next_cursor
    overdue = QueueFilter(flag="overdue")
    with mailroom.views.connect() as conn:
        active = conn.execute(
            text("SELECT count(*) FROM case_view WHERE department_id = :d AND status <> 'closed'"),
            {"d": department},
        ).scalar_one()
        overdue_rows = len(workspace.queue(clerk, department, overdue).rows)
    references = [s.reference for s in samples.cases if s.department_id == department]
    checks = samples.cases
    common = len(workspace.search(clerk, COMMON_WORD))
    rare = len(workspace.search(clerk, RARE_WORD))
    print(
        f"  measuring in {department}: {active} cases not closed, page 1 has {len(first.rows)}"
        f" rows, overdue page {overdue_rows}; search {COMMON_WORD!r}: {common} hits,"
        f" {RARE_WORD!r}: {rare}; {len(references)} case pages, {len(checks)} status checks"
    )
    calls: dict[str, Callable[[int], object]] = {
        "queue page 1": lambda i: workspace.queue(clerk, department),
        "queue page 2": lambda i: workspace.queue(clerk, department, after=cursor),
        "queue overdue": lambda i: workspace.queue(clerk, department, overdue),
        "case page": lambda i: workspace.case_page(clerk, references[i % len(references)]),
        "search common": lambda i: workspace.search(clerk, COMMON_WORD),
        "search rare": lambda i: workspace.search(clerk, RARE_WORD),
        "status check": lambda i: status.lookup(
            checks[i % len(checks)].reference, checks[i % len(checks)].access_code, f"bench-{i}"
        ),
    }
    results = {}
    for name, call in calls.items():
        results[name] = timed(call, count)
        p50, p99 = results[name]
        target = f"   (target p99 <= {TARGET_P99_MS:.0f} ms)" if name in P99_TARGETS else ""
        print(f"    {name:<15} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms{target}")
    return results


def run(mode: str, cases: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {cases} cases, {mode} ==")
    with mailroom_for(mode) as mailroom:
        factory = CaseFactory(mailroom.catalog, mailroom.settings.secret(), utc_now())
        admin = system_principal("bench")
        for login, name, department in factory.staff():  # the clerks are staff accounts
            mailroom.services.staff.add(admin, login, name, ["clerk"], [department], PASSWORD)
        samples = Samples(every=max(1, cases // 2000))
        started = time.perf_counter()
        last = [started]

        def progress(done: int, events: int) -> None:
            if time.perf_counter() - last[0] > 60:
                last[0] = time.perf_counter()
                rate = events / (last[0] - started)
                print(f"    ... {done} cases, {events} events, {rate:.0f} events/s", flush=True)

        with autoanalyze(mailroom):
            events = generate(factory, mailroom.app.save, cases, args.per_save, samples, progress)
        took = time.perf_counter() - started
        print(
            f"  generated {cases} cases = {events} events in {took:.1f} s: {cases / took:.0f}"
            f" cases/s, {events / took:.0f} events/s ({args.per_save} cases per save)"
        )
        print("  rebuild (process_batch per notification batch):")
        with autoanalyze(mailroom):
            applied, seconds = rebuild(mailroom, args.batch)
        rebuild_rate = applied / seconds
        print(
            f"  rebuild: {applied} events applied in {seconds:.1f} s = {rebuild_rate:.0f} events/s"
            f" (target >= {TARGET_REBUILD}); the log's {events} events at"
            f" {events / seconds:.0f}/s"
        )
        vacuum(mailroom)
        with mailroom.views.connect() as conn:
            total = conn.execute(text(f"SELECT count(*) FROM {case_view.name}")).scalar_one()
        assert total == cases, f"{total} cases in the view, expected {cases}"
        latencies = measure(mailroom, samples, args.samples)
    return {
        "mode": mode,
        "cases": cases,
        "generate": events / took,
        "rebuild": rebuild_rate,
        **latencies,
    }


def table(results: list[dict[str, Any]]) -> None:
    print("\nSummary (ms: p50 / p99; rates in events/s)")
    header = f"{'cases':>8} {'mode':<9} {'generate':>9} {'rebuild':>8}"
    header += "".join(f" {name:>15}" for name in QUERIES)
    print(header)
    for r in results:
        line = f"{r['cases']:>8} {r['mode']:<9} {r['generate']:>9.0f} {r['rebuild']:>8.0f}"
        for name in QUERIES:
            p50, p99 = r[name]
            line += f" {f'{p50:.1f} / {p99:.1f}':>15}"
        print(line)
    print(
        f"targets: rebuild >= {TARGET_REBUILD} events/s; queue pages and status check"
        f" p99 <= {TARGET_P99_MS:.0f} ms at 1M cases on PostgreSQL"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--mode", nargs="+", choices=["embedded", "postgres"], default=["embedded", "postgres"]
    )
    parser.add_argument("--samples", type=int, default=300, help="timed calls per query")
    parser.add_argument("--per-save", type=int, default=500, help="cases per app.save call")
    parser.add_argument("--batch", type=int, default=20_000, help="notifications per batch")
    args = parser.parse_args()
    results = [run(mode, cases, args) for cases in args.cases for mode in args.mode]
    table(results)


if __name__ == "__main__":
    main()
