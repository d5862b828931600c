"""Loopback ports and child-process bookkeeping shared by the test-server harness.

Every server the harness starts is a child process in its own session (so a
Ctrl-C in the terminal does not kill it before teardown) and is registered for
cleanup twice: by the context manager that started it (``finally``) and by an
``atexit`` safety net for the case where that context manager never finishes.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path

LOOPBACK = "127.0.0.1"

log = logging.getLogger("tests.harness")


class ServerStartError(RuntimeError):
    """A test server could not be started or did not become ready."""


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on *host* that was free a moment ago.

    Another process may grab it before the caller binds, so starters retry
    with a new port when their server exits early (see :func:`server_process`).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Return True when a TCP connection to *host*:*port* succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 30.0,
    *,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until *host*:*port* accepts TCP connections.

    Raises TimeoutError after *timeout* seconds, or ServerStartError at once
    when the optional *process* (the server that should listen) has exited.
    """
    deadline = time.monotonic() + timeout
    while not port_is_open(host, port):
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f"{_describe(process)} exited with code {process.returncode} "
                f"before listening on {host}:{port}"
            )
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.1f}s")
        time.sleep(0.05)


# --- cleanup registry -------------------------------------------------------------------

_pending: dict[int, Callable[[], None]] = {}
_keys = itertools.count()
_lock = threading.Lock()


@contextlib.contextmanager
def cleanup_at_exit(action: Callable[[], None]) -> Iterator[None]:
    """Run *action* when the block exits, or at interpreter exit if it never does."""
    key = next(_keys)
    with _lock:
        _pending[key] = action
    try:
        yield
    finally:
        with _lock:
            registered = _pending.pop(key, None)
        if registered is not None:
            registered()


def _run_pending_cleanups() -> None:
    """Run leftover cleanups, newest first (servers stop before their temp dirs go)."""
    while True:
        with _lock:
            if not _pending:
                return
            action = _pending.pop(max(_pending))
        try:
            action()
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"tests.harness: cleanup failed at exit: {exc}", file=sys.stderr)


atexit.register(_run_pending_cleanups)


# --- child processes --------------------------------------------------------------------


def start_process(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start *argv* in a new session with stdout and stderr appended to *log_path*."""
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )


def signal_process_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send *signum* to the session/process group led by *process* while it runs."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate *process* and its group; escalate to SIGKILL after *timeout*."""
    if process.poll() is not None:
        return
    # A SIGSTOPped server (fault tests) would not act on SIGTERM until continued.
    signal_process_group(process, signal.SIGCONT)
    signal_process_group(process, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_process_group(process, signal.SIGKILL)
        process.wait(timeout)


def log_tail(path: Path, limit: int = 3000) -> str:
    """Return the last *limit* characters of a log file (empty if missing)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return text[-limit:]


@contextlib.contextmanager
def server_process(
    argv_for_port: Callable[[int], Sequence[str]],
    *,
    log_path: Path,
    probe: Callable[[int, subprocess.Popen[bytes]], None],
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Run a server on a free loopback port until the block exits.

    *probe* must raise ServerStartError or TimeoutError when the server does not
    answer properly. A server that exits during startup (typically because another
    process took the port first) is retried on a new port.
    """
    for attempt in range(1, attempts + 1):
        port = free_port()
        process = start_process(argv_for_port(port), log_path=log_path, env=env)
        with cleanup_at_exit(partial(stop_process, process)):
            try:
                wait_for_port(LOOPBACK, port, timeout, process=process)
                probe(port, process)
                if process.poll() is not None:
                    raise ServerStartError(f"{_describe(process)} exited during startup")
            except (ServerStartError, TimeoutError) as exc:
                exited = process.poll() is not None
                if exited and attempt < attempts:
                    log.warning("%s; retrying on another port", exc)
                    continue
                raise ServerStartError(f"{exc}\n--- {log_path} ---\n{log_tail(log_path)}") from exc
            yield port, process
            return


def _describe(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    words = [str(arg) for arg in args] if isinstance(args, list | tuple) else [str(args)]
    return f"{' '.join([Path(words[0]).name, *words[1:3]])} (pid {process.pid})"
