"""Start a mailroom for a benchmark: embedded, or production mode against local test
services (PostgreSQL, Tansu as the Kafka-protocol broker, moto as S3) — the same services
the test harness starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKERS = ("ocr", "ocr-bulk", "router", "status", "case-directory")


@dataclass
class RunningStack:
    url: str
    env: dict[str, str]
    pid: int = 0  # the API server process
    headers: dict[str, str] = field(default_factory=dict)  # e.g. the portal client's key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the mailroom server exited during start-up:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the mailroom server did not start")


@contextmanager
def _process(
    args: list[str], env: dict[str, str], log: Path, root: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mailroom", *args],
            env={**env, "PYTHONPATH": str(root)},
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def production_env(stack: ExitStack, data_dir: str) -> Iterator[dict[str, str]]:
    from tests.harness.kafka import kafka_broker
    from tests.harness.postgres import postgres_server
    from tests.harness.s3 import s3_server

    postgres = stack.enter_context(postgres_server())
    kafka = stack.enter_context(kafka_broker())
    s3 = stack.enter_context(s3_server())
    suffix = uuid.uuid4().hex[:8]
    yield {
        "MAILROOM_EVENT_STORE": postgres,
        "MAILROOM_BLOB_STORE": f"s3://bench-{suffix}",
        "MAILROOM_S3_ENDPOINT": s3.endpoint,
        "MAILROOM_S3_ACCESS_KEY": s3.access_key,
        "MAILROOM_S3_SECRET_KEY": s3.secret_key,
        "MAILROOM_S3_SECURE": "false",
        "MAILROOM_S3_REGION": s3.region,
        "MAILROOM_BUS": f"kafka://{kafka.bootstrap}",
        "MAILROOM_KAFKA_TOPIC_PREFIX": f"bench-{suffix}",
        "MAILROOM_KAFKA_GROUP_PREFIX": f"bench-{suffix}",
        "MAILROOM_KAFKA_PARTITIONS": "6",
        "MAILROOM_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "MAILROOM_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    }


@contextmanager
def mailroom_stack(
    mode: str,
    api_workers: int = 1,
    pipeline: bool = True,
    settings: dict[str, str] | None = None,
    root: Path = ROOT,
) -> Iterator[RunningStack]:
    """mode: 'embedded' or 'production'; pipeline=False starts no relay and no workers.
    ``settings``: extra MAILROOM_* variables; ``root``: the checkout to run (to compare
    with an older version of the mailroom)."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
        env.update(
            {
                "MAILROOM_DATA_DIR": data_dir,
                "MAILROOM_PORT": str(port),
                "MAILROOM_SECRET_KEY": "bench-" + "z" * 40,
                **(settings or {}),
            }
        )
        logs = Path(data_dir)
        if mode == "production":
            env.update(stack.enter_context(production_env(stack, data_dir)))
            if pipeline:
                stack.enter_context(_process(["relay"], env, logs / "relay.log", root))
                for name in WORKERS:
                    log = logs / f"{name}.log"
                    stack.enter_context(_process(["worker", name], env, log, root))
        headers = {"Authorization": f"Bearer {portal_client_key(env, root)}"}
        server = stack.enter_context(
            _process(["serve", "--workers", str(api_workers)], env, logs / "serve.log", root)
        )
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server, logs / "serve.log")
        yield RunningStack(url=url, env=env, pid=server.pid, headers=headers)


def portal_client_key(env: dict[str, str], root: Path = ROOT) -> str:
    """Register a portal client for the benchmark and return its key (the last line)."""
    done = subprocess.run(
        [sys.executable, "-m", "mailroom", "portal-client", "add", "Benchmark"],
        env={**env, "PYTHONPATH": str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


COMPONENTS = (
    ("ceiling", "ceiling:app"),
    ("api", "mailroom serve"),
    ("api", "multiprocessing.spawn"),  # uvicorn worker processes
    ("relay", "mailroom relay"),
    ("worker ocr-bulk", "mailroom worker ocr-bulk"),
    ("worker ocr", "mailroom worker ocr"),
    ("worker router", "mailroom worker router"),
    ("worker status", "mailroom worker status"),
    ("worker case-directory", "mailroom worker case-directory"),
    ("postgresql", "postgres"),
    ("kafka (tansu)", "tansu"),
    ("s3 (moto)", "moto.server"),
)


@dataclass(frozen=True)
class ProcessCpu:
    parent: int
    seconds: float  # user + system
    command: str


def process_cpu() -> dict[int, ProcessCpu]:
    """The CPU time of every process of this machine so far, by pid: one pass over /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes: dict[int, ProcessCpu] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        processes[int(entry.name)] = ProcessCpu(int(fields[1]), seconds, command)
    return processes


def cpu_seconds_by_component(
    processes: dict[int, ProcessCpu] | None = None,
) -> dict[str, float]:
    """CPU time of this machine's processes (``process_cpu()``), grouped by component."""
    totals: dict[str, float] = {}
    for process in (processes if processes is not None else process_cpu()).values():
        for component, pattern in COMPONENTS:
            if pattern in process.command:
                totals[component] = totals.get(component, 0.0) + process.seconds
                break
    return totals


def cpu_seconds_of_tree(pid: int, processes: dict[int, ProcessCpu]) -> float:
    """CPU time of process ``pid`` and its descendants (uvicorn's worker processes)."""
    children: dict[int, list[int]] = {}
    for child, process in processes.items():
        children.setdefault(process.parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += processes[current].seconds if current in processes else 0.0
        todo.extend(children.get(current, []))
    return total


def print_cpu_profile(before: dict[str, float], after: dict[str, float], items: int) -> None:
    print(f"\nCPU per submission by component ({items} submissions):")
    for component in sorted(after, key=lambda c: before.get(c, 0.0) - after[c]):
        used = after[component] - before.get(component, 0.0)
        if used > 0.01:
            print(f"  {component:<24} {1000 * used / items:6.2f} ms")
