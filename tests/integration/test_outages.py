"""Outages get honest answers: 503 or 507 JSON with Retry-After within seconds, never a
hang or a bare 500; /healthz stays fast, /readyz says what is down; all recovers by itself.

Each test stops a real server of its own (a throwaway PostgreSQL cluster, a moto S3
server) or fills a real (small) file system, so the shared test servers are not touched.
"""

from __future__ import annotations

import errno
import functools
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.bootstrap import build
from mailroom.config import Settings
from tests.fixtures import documents
from tests.fixtures.builders import FakeClock, metadata_json, portal_auth
from tests.harness.mailroom_server import serving
from tests.harness.postgres import Cluster, fresh_schema, stoppable_cluster
from tests.harness.s3 import StoppableS3, stoppable_s3_server
from tests.integration.test_api import submit

pytestmark = pytest.mark.slow

TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with stoppable_cluster() as running:
        yield running


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def assert_unavailable(response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["error"] == "service_unavailable" and body["dependency"] == dependency


def test_the_event_store_down_answers_503_in_seconds_and_recovers_without_restart(
    cluster: Cluster, tmp_path: Path
):
    schema = fresh_schema(cluster.url)
    views = cluster.url.replace("postgresql://", "postgresql+psycopg://", 1)
    settings = Settings(
        data_dir=tmp_path / "var",
        secret_key="k" * 40,
        event_store=f"{cluster.url}?schema={schema}",
        views_db=f"{views}?options=-csearch_path%3D{schema}",
        dependency_timeout_s=TIMEOUT_S,
    )
    mailroom = build(settings, clock=FakeClock())
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as client:
        assert submit(client).status_code == 202
        cluster.stop()
        try:
            response, seconds = timed(lambda: submit(client))
            assert_unavailable(response, "event_store")
            assert seconds < TIMEOUT_S + 3, f"took {seconds:.1f} s"
            health, seconds = timed(lambda: client.get("/healthz"))
            assert health.status_code == 200 and seconds < 0.5
            ready, seconds = timed(lambda: client.get("/readyz"))
            assert ready.status_code == 503 and seconds < TIMEOUT_S + 2
            checks = ready.json()["checks"]
            assert checks["event_store"] in ("unreachable", "timeout")
            assert checks["views"] in ("unreachable", "timeout")
            assert checks["blob_store"] == "ok"
            assert "postgres" not in ready.text and "127.0.0.1" not in ready.text
        finally:
            cluster.start()
        recovered = submit(client)
        assert recovered.status_code == 202, recovered.text
        assert client.get("/readyz").status_code == 200
    mailroom.stop()


@pytest.fixture
def moto() -> Iterator[StoppableS3]:
    with stoppable_s3_server() as server:  # of our own: it is stopped and started again
        yield server


def test_the_blob_store_down_answers_503_and_nothing_is_half_stored(
    tmp_path: Path, moto: StoppableS3
):
    own_s3 = moto.endpoint
    settings = Settings(
        data_dir=tmp_path / "var",
        secret_key="k" * 40,
        blob_store="s3://outage-test",
        s3_endpoint=own_s3.endpoint,
        s3_access_key=own_s3.access_key,
        s3_secret_key=own_s3.secret_key,
        s3_secure=False,
        s3_region=own_s3.region,
        dependency_timeout_s=TIMEOUT_S,
    )
    mailroom = build(settings, clock=FakeClock())
    page = ("seite.png", documents.png_page())
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as client:
        assert submit(client, [page]).status_code == 202
        events_before = mailroom.app.max_notification_id()
        moto.stop()
        try:
            response, seconds = timed(
                lambda: submit(client, [("anders.png", documents.jpeg_page())])
            )
            assert_unavailable(response, "blob_store")
            assert seconds < TIMEOUT_S * 3 + 3, f"took {seconds:.1f} s"
            assert mailroom.app.max_notification_id() == events_before  # no event, no item
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["blob_store"] in ("unreachable", "timeout")
        finally:
            moto.start()
        recovered = submit(client, [("anders.png", documents.jpeg_page())])
        assert recovered.status_code == 202, recovered.text
        assert client.get("/readyz").status_code == 200
    mailroom.stop()


def _namespaces_available() -> bool:
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    return probe.returncode == 0


@pytest.fixture
def server_on_small_disk(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """``mailroom serve`` whose data dir is an 8 MB file system of its own (a tmpfs in a
    private mount namespace, so no root rights are needed). Yields the URL, the data
    dir as seen from outside the namespace and a portal client's Authorization header."""
    if shutil.which("unshare") is None or not _namespaces_available():
        pytest.skip("needs unshare with user and mount namespaces (util-linux)")
    small = tmp_path / "small"
    small.mkdir()
    # A portal client is registered inside the namespace (the store is on its tmpfs).
    register = f'"{sys.executable}" -m mailroom portal-client add Portal > "{small}/portal.key"'
    script = f'mount -t tmpfs -o size=8m tmpfs "{small}" && {register} && exec "$@"'
    wrapper = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"]
    with serving(
        tmp_path,
        data_dir=small / "var",
        wrapper=wrapper,
        secret_key="k" * 40,
        min_free_disk_mb="1",
    ) as server:
        inside = Path(f"/proc/{server.process.pid}/root") / small.relative_to("/")
        key = (inside / "portal.key").read_text().strip().splitlines()[-1]
        yield server.url, inside, {"Authorization": f"Bearer {key}"}


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    # Unbuffered: a buffered file keeps what the last write could not place and fails
    # again when it is closed (ENOSPC from the ``with``, whenever the disk filled mid-write).
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_disk_answers_507_and_recovers_when_space_is_freed(server_on_small_disk):
    url, inside, auth = server_on_small_disk
    metadata = {"metadata": metadata_json()}
    page = documents.png_page()
    post = functools.partial(httpx.post, headers=auth)
    assert post(f"{url}/api/v1/submissions", data=metadata).status_code == 202
    filler = _fill(inside)
    files = [("files", ("seite.png", page, "image/png"))]
    response = post(f"{url}/api/v1/submissions", data=metadata, files=files, timeout=30)
    assert response.status_code == 507, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "storage_full" and "Retry-After" in response.headers
    health, seconds = timed(lambda: httpx.get(f"{url}/healthz"))
    assert health.status_code == 200 and seconds < 0.5
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["local_disk"] == "full"
    filler.unlink()
    recovered = post(f"{url}/api/v1/submissions", data=metadata, files=files, timeout=30)
    assert recovered.status_code == 202, recovered.text
    assert httpx.get(f"{url}/readyz").status_code == 200
