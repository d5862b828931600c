"""Intake benchmark: portal submissions per second and latency at a given concurrency.

Against a running server:  python bench/intake.py --server http://127.0.0.1:8000
Or let it start one:  python bench/intake.py --spawn embedded|production [--api-workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path

import httpx
from stack import cpu_seconds_by_component, mailroom_stack, print_cpu_profile

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


async def run(server: str, requests: int, concurrency: int, payload: bytes | None) -> dict:
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
                files = [("files", ("antrag.pdf", payload, "application/pdf"))] if payload else []
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/v1/submissions",
                        data={"metadata": metadata()},
                        files=files,
                        headers={"Idempotency-Key": uuid.uuid4().hex},
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
    latencies.sort()
    return {
        "requests": requests,
        "concurrency": concurrency,
        "ok": len(latencies),
        "errors": errors,
        "per_second": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    }


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
    args = parser.parse_args()
    payload = args.file.read_bytes() if str(args.file) and args.file.is_file() else None

    def measure(server: str) -> None:
        asyncio.run(run(server, min(50, args.requests), 4, payload))  # warm-up
        print(f"attachment: {len(payload) if payload else 0} bytes")
        print(
            f"{'concurrency':>11} {'requests':>8} {'ok':>6} {'subm/s':>8} "
            f"{'p50 ms':>8} {'p99 ms':>8}  errors"
        )
        for concurrency in args.concurrency:
            before = cpu_seconds_by_component()
            r = asyncio.run(run(server, args.requests, concurrency, payload))
            if args.cpu_profile:
                time.sleep(3)  # let the workers catch up, so their share is counted
                print_cpu_profile(before, cpu_seconds_by_component(), args.requests)
            print(
                f"{r['concurrency']:>11} {r['requests']:>8} {r['ok']:>6} "
                f"{r['per_second']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}  "
                f"{r['errors'] or '-'}"
            )

    if args.spawn:
        with mailroom_stack(args.spawn, args.api_workers, not args.intake_only) as running:
            pipeline = "without relay and workers" if args.intake_only else "full pipeline"
            print(f"mode: {args.spawn} ({pipeline}), API processes: {args.api_workers}")
            measure(running.url)
    elif args.server:
        measure(args.server)
    else:
        parser.error("give --server URL or --spawn")


if __name__ == "__main__":
    main()
