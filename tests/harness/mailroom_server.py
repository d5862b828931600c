"""A real ``mailroom serve`` process for tests that talk to it over HTTP."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness.ports import free_port

MAILROOM = [sys.executable, "-m", "mailroom"]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[str]


@contextlib.contextmanager
def serving(
    tmp_path: Path,
    *,
    data_dir: Path | None = None,
    wrapper: Sequence[str] = (),
    args: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    **settings: str,
) -> Iterator[Server]:
    """``mailroom serve`` on a free port with a data dir under ``tmp_path`` (or ``data_dir``)
    and the given MAILROOM_* settings (lower-case names, e.g. ``max_upload_mb="250"``);
    ``wrapper`` is a command the server is started under (e.g. ``unshare …``), ``args`` are
    added to ``serve`` (e.g. ``--workers 2``) and ``extra_env`` to its environment."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env |= extra_env or {}
    env |= {"MAILROOM_DATA_DIR": str(data_dir or tmp_path / "var"), "MAILROOM_PORT": str(port)}
    env |= {f"MAILROOM_{name.upper()}": value for name, value in settings.items()}
    process = subprocess.Popen(
        [*wrapper, *MAILROOM, "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        yield Server(url, env, process)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        assert "Traceback" not in output, output


def station_token(server: Server) -> str:
    added = subprocess.run(
        [*MAILROOM, "station", "add", "Poststelle"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return added.stdout.strip().splitlines()[-1]


def portal_client_key(server: Server, name: str = "Bürgerportal") -> str:
    """A new portal client's key, registered with the CLI against the server's store."""
    added = subprocess.run(
        [*MAILROOM, "portal-client", "add", name],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    return added.stdout.strip().splitlines()[-1]
