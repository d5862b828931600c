"""A real PostgreSQL server for tests, plus a private database and per-test schemas.

Server selection, first match wins:

a. ``MAILROOM_TEST_POSTGRES_URL`` (a libpq URL whose user may CREATE DATABASE);
b. the local server at 127.0.0.1:5432 when user ``postgres`` can log in without a password;
c. a throwaway cluster made with the newest ``/usr/lib/postgresql/*/bin/initdb`` and
   ``pg_ctl`` (as the ``postgres`` OS user when running as root), deleted afterwards.

``MAILROOM_TEST_POSTGRES_FORCE_THROWAWAY=1`` skips (a) and (b). Whatever the server, the
session gets a fresh ``mailroom_test_<hex>`` database, dropped WITH (FORCE) at the end,
so concurrent runs never see each other's data (requires PostgreSQL 13 or newer).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tests.harness.ports import LOOPBACK, ServerStartError, cleanup_at_exit, free_port, log_tail

ENV_URL = "MAILROOM_TEST_POSTGRES_URL"
ENV_FORCE_THROWAWAY = "MAILROOM_TEST_POSTGRES_FORCE_THROWAWAY"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEBIAN_PREFIX = Path("/usr/lib/postgresql")
CLUSTER_OWNERS = ("postgres", "nobody")  # OS accounts tried when running as root
DATABASE_PREFIX = "mailroom_test_"
SCHEMA_PREFIX = "test_"

log = logging.getLogger("tests.harness")


@contextlib.contextmanager
def postgres_server(*, force_throwaway: bool | None = None) -> Iterator[str]:
    """Yield ``postgresql://user@host:port/mailroom_test_<hex>`` for one test session.

    *force_throwaway* None means: read ``MAILROOM_TEST_POSTGRES_FORCE_THROWAWAY``.
    """
    if force_throwaway is None:
        force_throwaway = os.environ.get(ENV_FORCE_THROWAWAY, "") not in ("", "0")
    with (
        postgres_cluster(force_throwaway=force_throwaway) as admin_url,
        session_database(admin_url) as url,
    ):
        yield url


@contextlib.contextmanager
def postgres_cluster(*, force_throwaway: bool = False) -> Iterator[str]:
    """Yield an admin URL (maintenance database) of the server chosen as documented above."""
    if not force_throwaway:
        configured = os.environ.get(ENV_URL)
        if configured:
            log.info("PostgreSQL from %s", ENV_URL)
            yield configured
            return
        if _can_connect(LOCAL_URL):
            log.info("PostgreSQL: local server at 127.0.0.1:5432")
            yield LOCAL_URL
            return
    with throwaway_cluster() as url:
        yield url


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


# --- databases and schemas --------------------------------------------------------------


def url_with_database(url: str, dbname: str) -> str:
    """Return the libpq URL *url* pointing at database *dbname* instead."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"expected a postgresql:// URL, got {url!r}")
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))


def _admin_connection(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


@contextlib.contextmanager
def session_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it WITH (FORCE) on exit."""
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
    with _admin_connection(admin_url) as conn:
        # template0 never has sessions, so concurrent test runs cannot block each other.
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield url_with_database(admin_url, name)
    finally:
        drop_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop database *name*, disconnecting its sessions; warn if the server is gone."""
    try:
        with _admin_connection(admin_url) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    except psycopg.OperationalError as exc:
        log.warning("could not drop test database %s: %s", name, exc)


def fresh_schema(url: str) -> str:
    """Create a uniquely named schema in the database of *url* and return its name."""
    name = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:12]}"
    with _admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    return name


def drop_schema(url: str, name: str) -> None:
    """Drop schema *name* and everything in it."""
    with _admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@contextlib.contextmanager
def temporary_schema(url: str) -> Iterator[str]:
    """Yield a fresh schema name; drop the schema on exit."""
    name = fresh_schema(url)
    try:
        yield name
    finally:
        drop_schema(url, name)


def eventsourcing_env(url: str, schema: str) -> dict[str, str]:
    """Settings for an eventsourcing ``Application(env=...)`` storing into *schema*."""
    params = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname", "")),
        "POSTGRES_HOST": str(params.get("host", LOOPBACK)),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_SCHEMA": schema,
    }


# --- throwaway cluster ------------------------------------------------------------------


def find_postgres_bindir() -> Path:
    """Return the newest Debian PostgreSQL bin dir, else the one holding initdb on PATH."""
    candidates = [
        path.parent
        for path in DEBIAN_PREFIX.glob("*/bin/initdb")
        if (path.parent / "pg_ctl").is_file()
    ]
    if candidates:
        return max(candidates, key=lambda bindir: _version_key(bindir.parent.name))
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise ServerStartError(
        f"no PostgreSQL server binaries: neither {DEBIAN_PREFIX}/*/bin/initdb nor initdb "
        "on PATH (install postgresql, or set MAILROOM_TEST_POSTGRES_URL)"
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _cluster_owner() -> pwd.struct_passwd | None:
    """The OS account that runs initdb/pg_ctl: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for user in CLUSTER_OWNERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(user)
    raise ServerStartError(f"running as root, but none of the OS users {CLUSTER_OWNERS} exist")


def _temp_parent(owner: pwd.struct_passwd | None) -> str:
    """A temp dir the cluster owner can reach (root's TMPDIR may be private)."""
    parent = Path(tempfile.gettempdir())
    if owner is None:
        return str(parent)
    reachable = all(
        path.stat().st_mode & stat.S_IXOTH for path in (parent, *parent.parents) if path.exists()
    )
    return str(parent) if reachable else "/tmp"


def _pg_env() -> dict[str, str]:
    """Our environment minus libpq/PG* variables that would redirect the tools."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _run_as(
    argv: Sequence[str | Path], owner: pwd.struct_passwd | None, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool, switching to *owner* (initdb and pg_ctl refuse root)."""
    return subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        env=_pg_env(),
        cwd=cwd,
        timeout=timeout,
        check=False,
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
        extra_groups=[] if owner else None,
    )


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster that outage tests may stop and start again."""

    url: str
    port: int
    bindir: Path
    data: Path
    owner: pwd.struct_passwd | None
    base: Path

    def stop(self) -> None:
        """Stop the server at once (``-m immediate``); clients see the connection go."""
        _stop_cluster(self.bindir, self.data, self.owner, self.base)

    def stop_fast(self) -> None:
        """Stop cleanly (``-m fast``): every session is ended, committed work is kept. (The
        cluster runs with ``synchronous_commit=off``: an immediate stop may lose commits.)"""
        command: list[str | Path] = [self.bindir / "pg_ctl", "stop", "-w", "-t", "30"]
        stopped = _run_as([*command, "-m", "fast", "-D", self.data], self.owner, self.base, 40)
        if stopped.returncode != 0:
            raise ServerStartError(f"pg_ctl stop failed:\n{stopped.stdout}{stopped.stderr}")

    def start(self) -> None:
        """Start it again on the same port."""
        _start_cluster(self.bindir, self.data, self.owner, self.base, 1, port=self.port)


@contextlib.contextmanager
def throwaway_cluster(attempts: int = 3) -> Iterator[str]:
    """initdb + pg_ctl start a private cluster; yield its admin URL; stop and delete it."""
    with stoppable_cluster(attempts) as cluster:
        yield cluster.url


@contextlib.contextmanager
def stoppable_cluster(attempts: int = 3) -> Iterator[Cluster]:
    """A private cluster as a :class:`Cluster`; stopped and deleted afterwards."""
    bindir = find_postgres_bindir()
    owner = _cluster_owner()
    base = Path(tempfile.mkdtemp(prefix="mailroom-pg-", dir=_temp_parent(owner)))
    with cleanup_at_exit(partial(shutil.rmtree, base, ignore_errors=True)):
        if owner is not None:
            os.chown(base, owner.pw_uid, owner.pw_gid)
        data = base / "data"
        initdb = _run_as(
            [
                bindir / "initdb",
                *("-D", data, "-U", "postgres", "--auth=trust"),
                *("--encoding=UTF8", "--no-locale", "--no-sync"),
            ],
            owner,
            base,
            timeout=120,
        )
        if initdb.returncode != 0:
            raise ServerStartError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        with cleanup_at_exit(partial(_stop_cluster, bindir, data, owner, base)):
            port = _start_cluster(bindir, data, owner, base, attempts)
            log.info("PostgreSQL: throwaway cluster %s on port %d", data, port)
            url = f"postgresql://postgres@{LOOPBACK}:{port}/postgres"
            yield Cluster(url, port, bindir, data, owner, base)


def _start_cluster(
    bindir: Path,
    data: Path,
    owner: pwd.struct_passwd | None,
    base: Path,
    attempts: int,
    port: int | None = None,
) -> int:
    logfile = base / "postgres.log"
    fixed_port = port
    for attempt in range(1, attempts + 1):
        port = fixed_port or free_port()
        options = " ".join(
            [
                f"-c listen_addresses={LOOPBACK}",
                f"-p {port}",
                f"-c unix_socket_directories={shlex.quote(str(base))}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        started = _run_as(
            [
                bindir / "pg_ctl",
                *("start", "-w", "-t", "60", "-D", data, "-l", logfile, "-o", options),
            ],
            owner,
            base,
            timeout=90,
        )
        if started.returncode == 0:
            return port
        tail = log_tail(logfile)
        if "could not bind" not in tail or attempt == attempts:
            raise ServerStartError(
                f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n--- log ---\n{tail}"
            )
        log.warning("PostgreSQL could not bind port %d; retrying", port)
    raise AssertionError("unreachable")


def _stop_cluster(bindir: Path, data: Path, owner: pwd.struct_passwd | None, base: Path) -> None:
    """pg_ctl stop -m immediate (data is disposable); SIGKILL the postmaster if that fails."""
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    command: list[str | Path] = [
        bindir / "pg_ctl",
        "stop",
        "-w",
        "-t",
        "20",
        "-m",
        "immediate",
        "-D",
        data,
    ]
    try:
        stopped = _run_as(command, owner, base, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        stopped = False
    if not stopped:
        _kill_postmaster(pidfile, data)


def _kill_postmaster(pidfile: Path, data: Path) -> None:
    """SIGKILL the postmaster, after checking that the pid really runs our data dir."""
    try:
        pid = int(pidfile.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError, IndexError):
        return
    if str(data).encode() in cmdline:
        # Backends and auxiliary processes notice the postmaster's death and exit.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
