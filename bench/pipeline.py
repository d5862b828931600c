"""Pipeline benchmark: scanned letters (OCR + classifier) mixed with portal submissions.

python bench/pipeline.py [--spawn production|embedded] [--ocr-cores 1] [--letters 40]

1. Capacity: ``--letters`` one-page scanned letters (the corpus's 300-dpi scans, uploaded by a
   registered scanning station) are sent at once, with portal submissions at ``--portal-rate``
   beside them; the time until the last letter is routed or in triage gives scanned letters
   per hour, divided by the OCR cores (``MAILROOM_OCR_JOBS`` of the one OCR worker).
2. Latency at half of capacity: letters are sent at a steady half of that rate (portal
   submissions beside them again) and each letter's time from its 202 to "routed" (or
   "triage") in the status view is taken. Target: p95 <= 5 s for a one-page letter.

A poller reads the status view every 20 ms. Needs ../shared/corpus (the scans).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, select
from stack import ROOT, mailroom_stack

CORPUS = ROOT.parent / "shared" / "corpus"
DONE = ("routed", "triage", "in_progress")


def one_page_scans(limit: int) -> list[bytes]:
    from pypdf import PdfReader

    scans = []
    for path in sorted(CORPUS.glob("*/*/scan.pdf")):
        if len(PdfReader(path).pages) == 1:
            scans.append(path.read_bytes())
    if not scans:
        raise SystemExit(f"no one-page scans under {CORPUS}")
    return [scans[i % len(scans)] for i in range(limit)]


def views_url(env: dict[str, str]) -> str:
    from mailroom.config import Settings

    values = {
        k.removeprefix("MAILROOM_").lower(): v for k, v in env.items() if k.startswith("MAILROOM_")
    }
    return Settings(**values).views_db_url


def station_token(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mailroom", "station", "add", "Benchmark-Scanner"],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def portal_metadata(i: int) -> str:
    return json.dumps(
        {
            "service_key": "sperrmuell-termin",
            "applicant": {"name": f"Bench {i}", "email": "bench@example.org"},
            "subject": f"Sperrmüll-Termin {i}",
        }
    )


class Run:
    """One load phase: letters at ``letter_rate`` (None: all at once), portal beside them."""

    def __init__(self, url: str, env: dict[str, str], portal: dict[str, str], station: str):
        self.url = url
        self.portal_headers = portal
        self.station_headers = {"Authorization": f"Bearer {station}"}
        self.engine = create_engine(views_url(env))
        self.accepted: dict[str, float] = {}  # letter reference -> 202 time
        self.done_at: dict[str, float] = {}

    def _poll(self, stop: threading.Event) -> None:
        from projections.status import status_items

        query = select(status_items.c.reference).where(
            status_items.c.channel == "scan", status_items.c.status.in_(DONE)
        )
        while not stop.is_set():
            with self.engine.connect() as conn:
                now = time.perf_counter()
                for (reference,) in conn.execute(query):
                    self.done_at.setdefault(reference, now)
            time.sleep(0.02)

    def _scan(self, client: httpx.Client, scan: bytes) -> None:
        response = client.post(
            "/api/v1/scans",
            files=[("files", ("scan.pdf", scan, "application/pdf"))],
            headers={**self.station_headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        response.raise_for_status()
        self.accepted[response.json()["reference"]] = time.perf_counter()

    def _portal(self, client: httpx.Client, i: int) -> None:
        client.post(
            "/api/v1/submissions",
            data={"metadata": portal_metadata(i)},
            headers={**self.portal_headers, "Idempotency-Key": uuid.uuid4().hex},
        ).raise_for_status()

    def go(self, scans: list[bytes], letter_rate: float | None, portal_rate: float) -> float:
        """Send everything, wait until every letter is done; returns the wall time."""
        stop = threading.Event()
        poller = threading.Thread(target=self._poll, args=(stop,), daemon=True)
        poller.start()
        started = time.perf_counter()
        with httpx.Client(base_url=self.url, timeout=120) as client, ThreadPoolExecutor(8) as pool:
            portal_done = threading.Event()

            def portal_load() -> None:
                i = 0
                while not portal_done.is_set():
                    self._portal(client, i)
                    i += 1
                    portal_done.wait(1 / portal_rate)

            portal = threading.Thread(target=portal_load, daemon=True)
            if portal_rate > 0:
                portal.start()
            futures = []
            for i, scan in enumerate(scans):
                if letter_rate:
                    delay = started + i / letter_rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                futures.append(pool.submit(self._scan, client, scan))
            for future in futures:
                future.result()
            deadline = time.perf_counter() + 900
            while any(r not in self.done_at for r in self.accepted):
                if time.perf_counter() > deadline:
                    raise SystemExit("letters not routed within 15 minutes")
                time.sleep(0.05)
            portal_done.set()
            if portal.is_alive():
                portal.join()
        finished = max(self.done_at[r] for r in self.accepted)
        stop.set()
        poller.join()
        self.engine.dispose()
        return finished - started

    def latencies(self) -> list[float]:
        return sorted(self.done_at[r] - t for r, t in self.accepted.items())


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawn", choices=["embedded", "production"], default="production")
    parser.add_argument("--letters", type=int, default=40, help="letters in the capacity phase")
    parser.add_argument("--latency-letters", type=int, default=40)
    parser.add_argument("--ocr-cores", type=int, default=1, help="MAILROOM_OCR_JOBS")
    parser.add_argument("--portal-rate", type=float, default=5.0, help="portal submissions/s")
    args = parser.parse_args()
    settings = {"MAILROOM_OCR_JOBS": str(args.ocr_cores)}
    with mailroom_stack(args.spawn, settings=settings) as running:
        station = station_token(running.env)
        time.sleep(3)  # let the workers join their consumer groups
        warm = Run(running.url, running.env, running.headers, station)
        warm.go(one_page_scans(2), None, 0)
        capacity_run = Run(running.url, running.env, running.headers, station)
        wall = capacity_run.go(one_page_scans(args.letters), None, args.portal_rate)
        per_hour = args.letters / wall * 3600
        half = per_hour / 2 / 3600
        latency_run = Run(running.url, running.env, running.headers, station)
        latency_run.go(one_page_scans(args.latency_letters), half, args.portal_rate)
        latencies = latency_run.latencies()
    print(
        f"mode: {args.spawn}; OCR cores: {args.ocr_cores}; portal submissions beside: "
        f"{args.portal_rate:.0f}/s"
    )
    print(
        f"capacity: {args.letters} one-page letters in {wall:.1f} s = {per_hour:.0f} letters/h"
        f" = {per_hour / args.ocr_cores:.0f} letters/h per OCR core"
    )
    print(
        f"latency at half capacity ({half * 3600:.0f} letters/h, {len(latencies)} letters), "
        f"202 -> routed or triage: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {percentile(latencies, 0.95):.2f} s, max {latencies[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
