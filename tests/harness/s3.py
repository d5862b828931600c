"""A real S3-compatible HTTP server for tests.

``MAILROOM_TEST_S3_ENDPOINT`` (``host:port`` or ``http(s)://host:port``, with
``MAILROOM_TEST_S3_ACCESS_KEY``/``_SECRET_KEY`` and optional ``_REGION``) selects an
existing endpoint; otherwise moto's standalone server (``python -m moto.server``) is
started in a subprocess on a free loopback port. Either way the endpoint is checked
with the minio SDK (bucket, put, get) before it is handed out. The server is shared by
the whole session: use unique bucket names per test.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import MinioException
from urllib3.exceptions import HTTPError

from tests.harness.ports import (
    LOOPBACK,
    ServerStartError,
    cleanup_at_exit,
    server_process,
    start_process,
    stop_process,
    wait_for_port,
)

ENV_ENDPOINT = "MAILROOM_TEST_S3_ENDPOINT"
ENV_ACCESS_KEY = "MAILROOM_TEST_S3_ACCESS_KEY"
ENV_SECRET_KEY = "MAILROOM_TEST_S3_SECRET_KEY"
ENV_REGION = "MAILROOM_TEST_S3_REGION"
MOTO_CREDENTIAL = "testing"  # moto accepts any credentials
DEFAULT_REGION = "us-east-1"

log = logging.getLogger("tests.harness")


@dataclass(frozen=True)
class S3Endpoint:
    """Where and how to reach the test S3 server (``endpoint`` is ``host:port``)."""

    endpoint: str
    access_key: str
    secret_key: str
    secure: bool = False
    region: str = DEFAULT_REGION

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    def client(self, http_client: urllib3.PoolManager | None = None) -> Minio:
        """A minio client for this endpoint."""
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=self.secure,
            region=self.region,
            http_client=http_client,
        )


def verify_s3(endpoint: S3Endpoint, retries: int = 2) -> None:
    """Create a probe bucket, put and get an object, and remove both again.

    Uses short timeouts (minio's default is minutes) so a wrong listener fails fast.
    """
    client = endpoint.client(
        urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2.0, read=5.0),
            retries=urllib3.Retry(total=retries, backoff_factor=0.1),
        )
    )
    bucket = f"mailroom-harness-probe-{uuid.uuid4().hex[:12]}"
    payload = b"mailroom harness probe"
    try:
        client.make_bucket(bucket)
        client.put_object(bucket, "probe", io.BytesIO(payload), len(payload))
        response = client.get_object(bucket, "probe")
        try:
            body = response.read()
        finally:
            response.close()
            response.release_conn()
        client.remove_object(bucket, "probe")
        client.remove_bucket(bucket)
    except (MinioException, HTTPError, OSError) as exc:
        raise ServerStartError(f"S3 at {endpoint.url} does not work: {exc}") from exc
    if body != payload:
        raise ServerStartError(f"S3 at {endpoint.url} returned {body!r} instead of {payload!r}")


def _endpoint_from_env(configured: str) -> S3Endpoint:
    secure = configured.startswith("https://")
    host = configured.removeprefix("https://").removeprefix("http://").rstrip("/")
    return S3Endpoint(
        endpoint=host,
        access_key=os.environ.get(ENV_ACCESS_KEY, ""),
        secret_key=os.environ.get(ENV_SECRET_KEY, ""),
        secure=secure,
        region=os.environ.get(ENV_REGION, DEFAULT_REGION),
    )


def _moto_endpoint(port: int) -> S3Endpoint:
    return S3Endpoint(f"{LOOPBACK}:{port}", MOTO_CREDENTIAL, MOTO_CREDENTIAL)


def _moto_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]


def _probe(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Verify the moto server, failing fast if it exits (e.g. the port was taken)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ServerStartError(f"moto server exited with code {process.returncode}")
        try:
            verify_s3(_moto_endpoint(port), retries=0)
            return
        except ServerStartError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def s3_server() -> Iterator[S3Endpoint]:
    """Yield a verified :class:`S3Endpoint` for one test session (see module docstring)."""
    configured = os.environ.get(ENV_ENDPOINT)
    if configured:
        endpoint = _endpoint_from_env(configured)
        verify_s3(endpoint)
        log.info("S3 from %s: %s", ENV_ENDPOINT, endpoint.url)
        yield endpoint
        return
    workdir = Path(tempfile.mkdtemp(prefix="mailroom-s3-"))
    with (
        cleanup_at_exit(partial(shutil.rmtree, workdir, ignore_errors=True)),
        server_process(_moto_argv, log_path=workdir / "moto.log", probe=_probe) as (
            port,
            process,
        ),
    ):
        log.info("S3: moto server pid %d on port %d", process.pid, port)
        yield _moto_endpoint(port)


@dataclass
class StoppableS3:
    """A moto server of one test's own, which an outage test may stop and start again."""

    endpoint: S3Endpoint
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def start(self) -> None:
        """Start again on the same port (moto keeps nothing: buckets are gone)."""
        self.process = start_process(_moto_argv(self.port), log_path=self.log_path)
        wait_for_port(LOOPBACK, self.port, 30, process=self.process)
        _probe(self.port, self.process)


@contextlib.contextmanager
def stoppable_s3_server() -> Iterator[StoppableS3]:
    workdir = Path(tempfile.mkdtemp(prefix="mailroom-s3-"))
    with (
        cleanup_at_exit(partial(shutil.rmtree, workdir, ignore_errors=True)),
        server_process(_moto_argv, log_path=workdir / "moto.log", probe=_probe) as (port, process),
    ):
        server = StoppableS3(_moto_endpoint(port), port, workdir / "moto.log", process)
        try:
            yield server
        finally:
            server.stop()
