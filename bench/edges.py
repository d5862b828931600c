"""The HTTP edge under pressure: memory of a large upload, and slow clients.

    python bench/edges.py memory [--megabytes 200] [--root CHECKOUT]
    python bench/edges.py slow-clients [--connections 1050] [--seconds 30] [--root CHECKOUT]

``memory`` starts an embedded mailroom, uploads one scan PDF of the given size as a scanning
station and samples the server's resident memory every 10 ms: idle, peak and the growth.
``slow-clients`` opens many connections that send one byte every 2 s (half of them stuck in
the headers, half in a request body) and meanwhile measures a normal client: requests
served, failed and their latency. ``--root`` runs another checkout of the mailroom (e.g. a
worktree of an older commit) with the same script, for before/after figures.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import ROOT, mailroom_stack
from tests.fixtures.large_files import write_large_scan_pdf
from tests.fixtures.slow_clients import normal_client_among_slow_ones


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of a process in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("RssAnon", 0)


def register_station(env: dict[str, str], root: Path) -> str:
    output = subprocess.run(
        [sys.executable, "-m", "mailroom", "station", "add", "Bench"],
        env={**env, "PYTHONPATH": str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return output.strip().splitlines()[-1]


def memory(megabytes: int, root: Path, intake_only: bool) -> None:
    limit = str(megabytes + 10)
    settings = {"MAILROOM_MAX_UPLOAD_MB": limit, "MAILROOM_MAX_REQUEST_MB": limit}
    if intake_only:  # no in-process runner: only what intake itself holds
        settings["MAILROOM_BUS"] = "kafka://127.0.0.1:9"
    with (
        tempfile.TemporaryDirectory() as scratch,
        mailroom_stack("embedded", settings=settings, root=root) as stack,
    ):
        token = register_station(stack.env, root)
        pdf = write_large_scan_pdf(Path(scratch) / "stack.pdf", megabytes)
        time.sleep(1.0)
        idle = rss_kib(stack.pid)
        peak = list(idle)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                current = rss_kib(stack.pid)
                peak[0], peak[1] = max(peak[0], current[0]), max(peak[1], current[1])
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        with pdf.open("rb") as file:
            response = httpx.post(
                f"{stack.url}/api/v1/scans",
                files=[("files", ("stack.pdf", file, "application/pdf"))],
                headers={"Authorization": f"Bearer {token}"},
                timeout=300,
            )
        seconds = time.monotonic() - started
        time.sleep(3)  # the embedded OCR lane reads the letter meanwhile
        done.set()
        sampler.join()
    print(
        f"upload of {megabytes} MB: HTTP {response.status_code} in {seconds:.1f} s "
        "(memory sampled until 3 s after the answer)"
    )
    print(
        f"  VmRSS   idle {idle[0] / 1024:7.1f} MB  peak {peak[0] / 1024:7.1f} MB  "
        f"growth {(peak[0] - idle[0]) / 1024:7.1f} MB"
    )
    print(
        f"  RssAnon idle {idle[1] / 1024:7.1f} MB  peak {peak[1] / 1024:7.1f} MB  "
        f"growth {(peak[1] - idle[1]) / 1024:7.1f} MB"
    )


def slow_clients(connections: int, seconds: float, root: Path, server_fds: int | None) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with mailroom_stack("embedded", root=root) as stack:
        if server_fds:  # as on a machine whose default limit is low (often 1024)
            resource.prlimit(stack.pid, resource.RLIMIT_NOFILE, (server_fds, server_fds))
        client = asyncio.run(
            normal_client_among_slow_ones(
                stack.url, slow=connections, seconds=seconds, drip_every_s=2, pause_s=0.1
            )
        )
    served, failed, latencies = client.served, client.failed, client.latencies
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    worst = max(latencies) * 1000 if latencies else float("nan")
    limit = f" (server limited to {server_fds} open files)" if server_fds else ""
    print(
        f"{connections} slow connections{limit} for {seconds:.0f} s: "
        f"normal client served {served}, "
        f"failed {failed}, latency p50 {p50:.1f} ms, max {worst:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mem = sub.add_parser("memory")
    mem.add_argument("--megabytes", type=int, default=200)
    mem.add_argument("--intake-only", action="store_true", help="no OCR in the server process")
    slow = sub.add_parser("slow-clients")
    slow.add_argument("--connections", type=int, default=1050)
    slow.add_argument("--seconds", type=float, default=30)
    slow.add_argument("--server-fds", type=int, help="open-file limit of the server process")
    for command in (mem, slow):
        command.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    if args.command == "memory":
        memory(args.megabytes, args.root.resolve(), args.intake_only)
    else:
        slow_clients(args.connections, args.seconds, args.root.resolve(), args.server_fds)


if __name__ == "__main__":
    main()
