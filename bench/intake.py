"""Intake benchmark: portal submissions per second and latency at a given concurrency.

Against a running server:  python bench/intake.py --server http://127.0.0.1:8000
Or let it start one:  python bench/intake.py --spawn embedded|production [--api-workers N]
With the bare ceiling beside it (production mode, same PostgreSQL, S3, processes and
concurrency):  python bench/intake.py --spawn production --intake-only --ceiling

Every request carries its own file, as every citizen's upload is its own: a copy of the
attachment whose PDF document id (the trailer's /ID, same length) is new, so the bytes and
the content address differ while the structure is the same. ``--identical`` sends the very
same bytes every time instead; the mailroom then stores one content-addressed key over and
over, and moto (the test S3 server) fails some concurrent overwrites of one key with HTTP
500 ("I/O operation on closed file"), which real S3 and MinIO do not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from stack import (
    cpu_seconds_by_component,
    cpu_seconds_of_tree,
    free_port,
    mailroom_stack,
    print_cpu_profile,
    process_cpu,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "corpus" / "dev" / "dv-001" / "letter.pdf"


def metadata() -> str:
    return json.dumps(
        {
            "service_key": "meldebescheinigung",
            "applicant": {"name": "Erika Mustermann", "email": "erika@example.org"},
            "subject": "Meldebescheinigung für den Arbeitgeber",
            "form_fields": {"anzahl": "1", "zweck": "Arbeitgeber"},
        }
    )


_PDF_DOCUMENT_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>")


def unique_copy(payload: bytes) -> bytes:
    """``payload`` with a new PDF document id of the same length (offsets stay valid); a
    file without one is returned as it is."""
    found = list(_PDF_DOCUMENT_ID.finditer(payload))
    if not found:
        return payload
    start, end = found[-1].span(1)  # the last trailer's: the one readers use
    fresh = secrets.token_hex((end - start + 1) // 2)[: end - start].encode()
    return payload[:start] + fresh + payload[end:]


async def run(
    server: str,
    requests: int,
    concurrency: int,
    body: Callable[[], bytes | None],
    headers: dict[str, str] | None = None,
) -> dict:
    """``body()``: the file of one request (None: a submission without a file)."""
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                data = body()
                files = [("files", ("antrag.pdf", data, "application/pdf"))] if data else []
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/v1/submissions",
                        data={"metadata": metadata()},
                        files=files,
                        headers={**(headers or {}), "Idempotency-Key": uuid.uuid4().hex},
                    )
                    status: int | str = response.status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                elapsed = time.perf_counter() - started
                if status == 202:
                    latencies.append(elapsed)
                else:
                    errors[status] = errors.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return summary(requests, concurrency, latencies, errors, wall)


def summary(
    requests: int,
    concurrency: int,
    latencies: list[float],
    errors: dict[int | str, int],
    wall: float,
) -> dict:
    latencies = sorted(latencies)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "ok": len(latencies),
        "errors": errors,
        "wall": wall,
        "latencies": latencies,
        "per_second": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    }


def merged(runs: list[dict]) -> dict:
    """One summary of several rounds: their requests over their summed wall time."""
    errors: dict[int | str, int] = {}
    for r in runs:
        for status, count in r["errors"].items():
            errors[status] = errors.get(status, 0) + count
    return summary(
        sum(r["requests"] for r in runs),
        runs[0]["concurrency"],
        [latency for r in runs for latency in r["latencies"]],
        errors,
        sum(r["wall"] for r in runs),
    )


def round_ratios(side_runs: list[dict], bare_runs: list[dict]) -> str:
    """``low–high`` of the side's throughput over the ceiling's, round by round."""
    ratios = [r["per_second"] / b["per_second"] for r, b in zip(side_runs, bare_runs, strict=True)]
    return f"{min(ratios):.2f}–{max(ratios):.2f}"


@dataclass
class Side:
    """One app of a comparison: its name, URL and server process (its CPU is its tree's)."""

    name: str
    url: str
    pid: int


def _with_cpu(measured: Callable[[], Awaitable[dict]], pid: int) -> tuple[dict, dict[str, float]]:
    """A run's figures and the CPU seconds the app (process ``pid`` and its children), each
    other component and this client used in it."""
    before, client_before = process_cpu(), sum(os.times()[:2])
    result = asyncio.run(measured())
    after, client_after = process_cpu(), sum(os.times()[:2])
    components_before, components_after = (
        cpu_seconds_by_component(before),
        cpu_seconds_by_component(after),
    )
    used = {
        name: seconds - components_before.get(name, 0.0)
        for name, seconds in components_after.items()
        if name not in APP_COMPONENTS
    }
    used["app"] = cpu_seconds_of_tree(pid, after) - cpu_seconds_of_tree(pid, before)
    used["bench client"] = client_after - client_before
    return result, {name: seconds for name, seconds in used.items() if seconds > 0.01}


APP_COMPONENTS = frozenset({"ceiling", "api"})  # counted per side as "app"


def _per_request(used: dict[str, float], component: str, run: dict) -> float:
    return used.get(component, 0.0) / max(run["ok"], 1) or float("nan")


def _cpu_line(used: dict[str, float], requests: int) -> str:
    parts = sorted(used.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} {1000 * seconds / max(requests, 1):.1f}" for name, seconds in parts)


# The bare ceiling, then parts of the mailroom's intake added to it (bench/ceiling.py).
LADDER = (
    ("ceiling", ""),
    ("ceiling + content check", "check"),
    ("ceiling + check + events", "check,events"),
)


class Ceiling:
    """bench/ceiling.py under uvicorn with the stack's PostgreSQL and S3 settings."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "ceiling:app",
                    "--app-dir",
                    str(ROOT / "bench"),
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--no-access-log",
                ],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def __enter__(self) -> Ceiling:
        _wait_ready(self.url, self.process, self.log)
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the ceiling app exited during start-up:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the ceiling app did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", help="base URL of a running mailroom")
    parser.add_argument(
        "--spawn",
        choices=["embedded", "production"],
        help="start a mailroom: embedded, or production mode against local "
        "PostgreSQL + Tansu (Kafka protocol) + moto (S3)",
    )
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes when spawning production mode"
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--file",
        type=Path,
        default=DEFAULT_FILE,
        help="attach this file to every submission ('' for none)",
    )
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="production mode without relay and workers: what the API and its stores sustain",
    )
    parser.add_argument(
        "--cpu-profile", action="store_true", help="print CPU time per submission of each component"
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="production mode: measure bench/ceiling.py (one S3 PUT + one PostgreSQL commit per "
        "request) beside the mailroom, same processes and concurrency, and print the ratio",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="--ceiling: split the requests into this many alternating rounds of each side",
    )
    parser.add_argument(
        "--identical",
        action="store_true",
        help="send the very same file bytes with every request (default: a copy with its own "
        "PDF document id per request, as real uploads differ)",
    )
    parser.add_argument(
        "--ceiling-table-lock",
        action="store_true",
        help="the ceiling takes the table lock the event store takes per write (the bound)",
    )
    parser.add_argument(
        "--ladder",
        action="store_true",
        help="--ceiling, plus the ceiling with the mailroom's content check, and with the "
        "check and the event-store save: where between the bare endpoint and the mailroom "
        "the throughput goes",
    )
    args = parser.parse_args()
    payload = args.file.read_bytes() if str(args.file) and args.file.is_file() else None

    def body() -> bytes | None:
        return payload if args.identical or payload is None else unique_copy(payload)

    def measure(server: str, headers: dict[str, str] | None = None) -> None:
        asyncio.run(run(server, min(50, args.requests), 4, body, headers))  # warm-up
        print(f"attachment: {len(payload) if payload else 0} bytes")
        print(
            f"{'concurrency':>11} {'requests':>8} {'ok':>6} {'subm/s':>8} "
            f"{'p50 ms':>8} {'p99 ms':>8}  errors"
        )
        for concurrency in args.concurrency:
            before = cpu_seconds_by_component()
            r = asyncio.run(run(server, args.requests, concurrency, body, headers))
            if args.cpu_profile:
                time.sleep(3)  # let the workers catch up, so their share is counted
                print_cpu_profile(before, cpu_seconds_by_component(), args.requests)
            print(
                f"{r['concurrency']:>11} {r['requests']:>8} {r['ok']:>6} "
                f"{r['per_second']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}  "
                f"{r['errors'] or '-'}"
            )

    def compare(sides: list[Side], headers: dict[str, str]) -> None:
        """Each side at each concurrency, against the first (the bare ceiling)."""
        for side in sides:  # warm-up
            asyncio.run(run(side.url, min(50, args.requests), 4, body, headers))
        rounds = max(1, args.rounds)
        per_round = max(1, args.requests // rounds)
        print(f"attachment: {len(payload) if payload else 0} bytes")
        print(f"{per_round * rounds} requests per side, in {rounds} alternating rounds")
        # "app CPU": the app's CPU per request, and over the bare ceiling's: steadier on a
        # shared host than the throughput ratio (moto and the client weigh on every side).
        # "rounds": the lowest and highest ratio of a round against the ceiling's round
        # just before it: how far one short run may stray on this machine.
        print(
            f"{'concurrency':>11}  {'side':<26} {'subm/s':>7} {'p99 ms':>7} {'ratio':>6}"
            f" {'rounds':>9} {'app CPU ms':>10} {'(×)':>6}  errors"
        )
        profiles: list[str] = []
        for concurrency in args.concurrency:
            runs: dict[str, list[dict]] = {side.name: [] for side in sides}
            cpu: dict[str, dict[str, float]] = {side.name: {} for side in sides}
            # Alternating rounds: a machine that speeds up or slows down during the run
            # (shared CPUs do) affects every side alike.
            for _ in range(rounds):
                for side in sides:
                    result, used = _with_cpu(
                        lambda u=side.url, c=concurrency: run(u, per_round, c, body, headers),
                        side.pid,
                    )
                    runs[side.name].append(result)
                    for name, seconds in used.items():
                        cpu[side.name][name] = cpu[side.name].get(name, 0.0) + seconds
            results = {name: merged(side_runs) for name, side_runs in runs.items()}
            bare = results[sides[0].name]
            bare_app = _per_request(cpu[sides[0].name], "app", bare)
            for side in sides:
                r = results[side.name]
                app = _per_request(cpu[side.name], "app", r)
                spread = round_ratios(runs[side.name], runs[sides[0].name])
                print(
                    f"{concurrency:>11}  {side.name:<26} {r['per_second']:>7.1f} "
                    f"{r['p99_ms']:>7.1f} {r['per_second'] / bare['per_second']:>6.2f} "
                    f"{spread:>9} {1000 * app:>10.2f} {app / bare_app:>5.2f}×  "
                    f"{r['errors'] or '-'}"
                )
            profiles.append(
                f"CPU ms per request at concurrency {concurrency}: "
                + "; ".join(
                    f"{side.name}: {_cpu_line(cpu[side.name], results[side.name]['ok'])}"
                    for side in sides
                )
            )
        print("\n".join(profiles))

    if (args.ceiling or args.ladder) and args.spawn != "production":
        parser.error(
            "--ceiling and --ladder need --spawn production (the ceiling uses PostgreSQL and S3)"
        )

    @contextmanager
    def ceiling_side(env: dict[str, str], name: str, parts: str) -> Iterator[Side]:
        log = Path(env["MAILROOM_DATA_DIR"]) / f"ceiling-{parts or 'bare'}.log"
        lock = "1" if args.ceiling_table_lock else ""
        with Ceiling(
            {**env, "CEILING_TABLE_LOCK": lock, "CEILING_WITH": parts}, args.api_workers, log
        ) as ceiling:
            yield Side(name, ceiling.url, ceiling.process.pid)

    if args.spawn:
        with mailroom_stack(args.spawn, args.api_workers, not args.intake_only) as running:
            pipeline = "without relay and workers" if args.intake_only else "full pipeline"
            print(f"mode: {args.spawn} ({pipeline}), API processes: {args.api_workers}")
            if args.ceiling or args.ladder:
                with ExitStack() as ceilings:
                    sides = [
                        ceilings.enter_context(ceiling_side(running.env, name, parts))
                        for name, parts in (LADDER if args.ladder else LADDER[:1])
                    ]
                    mailroom = Side("mailroom", running.url, running.pid)
                    compare([*sides, mailroom], running.headers)
            else:
                measure(running.url, running.headers)
    elif args.server:
        measure(args.server)
    else:
        parser.error("give --server URL or --spawn")


if __name__ == "__main__":
    main()
