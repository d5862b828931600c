"""Pipeline benchmark: time from a portal submission's 202 to "routed" in the status view.

python bench/pipeline.py --spawn production [--rate 50] [--count 1000]
python bench/pipeline.py --spawn embedded

Submissions are sent at a steady rate; a poller reads the status view every 10 ms and
notes when each reference shows its department. Prints p50/p95/p99 and the throughput.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, select
from stack import mailroom_stack


def metadata(i: int) -> str:
    return json.dumps(
        {
            "service_key": "sperrmuell-termin",
            "applicant": {"name": f"Bench {i}", "email": "bench@example.org"},
            "subject": f"Sperrmüll-Termin {i}",
        }
    )


def views_url(env: dict[str, str]) -> str:
    from mailroom.config import Settings

    values = {
        k.removeprefix("MAILROOM_").lower(): v for k, v in env.items() if k.startswith("MAILROOM_")
    }
    return Settings(**values).views_db_url


def run(url: str, env: dict[str, str], count: int, rate: float) -> dict[str, float]:
    from projections.status import status_items

    accepted: dict[str, float] = {}
    visible: dict[str, float] = {}
    done = threading.Event()
    engine = create_engine(views_url(env))

    def poll() -> None:
        query = select(status_items.c.reference).where(status_items.c.department_id.is_not(None))
        while not done.is_set() or any(r not in visible for r in list(accepted)):
            with engine.connect() as conn:
                now = time.perf_counter()
                for (reference,) in conn.execute(query):
                    visible.setdefault(reference, now)
            if done.is_set() and time.perf_counter() - finished_at > 60:
                break
            time.sleep(0.01)

    def submit(client: httpx.Client, i: int) -> None:
        response = client.post(
            "/api/v1/submissions",
            data={"metadata": metadata(i)},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        response.raise_for_status()
        accepted[response.json()["reference"]] = time.perf_counter()

    poller = threading.Thread(target=poll, daemon=True)
    finished_at = float("inf")
    poller.start()
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as client, ThreadPoolExecutor(16) as pool:
        futures = []
        for i in range(count):
            target = started + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(submit, client, i))
        for future in futures:
            future.result()
    finished_at = time.perf_counter()
    done.set()
    poller.join()
    engine.dispose()
    latencies = sorted(visible[r] - t for r, t in accepted.items() if r in visible)
    return {
        "accepted": len(accepted),
        "visible": len(latencies),
        "rate": count / (finished_at - started),
        "p50": 1000 * statistics.median(latencies),
        "p95": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "p99": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawn", choices=["embedded", "production"], default="production")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="submissions per second")
    args = parser.parse_args()
    with mailroom_stack(args.spawn) as running:
        time.sleep(3)  # let the workers join their consumer groups
        run(running.url, running.env, 20, 10)  # warm-up
        result = run(running.url, running.env, args.count, args.rate)
    print(
        f"mode: {args.spawn}; {result['accepted']} submissions at {result['rate']:.0f}/s, "
        f"{result['visible']} visible as routed"
    )
    print(f"{'':>28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    print(
        f"{'submission -> routed':>28} {result['p50']:>8.0f} {result['p95']:>8.0f} "
        f"{result['p99']:>8.0f}"
    )


if __name__ == "__main__":
    main()
