"""Event store configuration: the eventsourcing library on SQLite or PostgreSQL, by URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


class EventStoreURLError(ValueError):
    pass


def persistence_env(url: str, timeout_s: float = 3.0) -> dict[str, str]:
    """Translate an event store URL into the eventsourcing library's environment.

    ``timeout_s`` bounds how long a caller waits for a connection (the pool's wait, and
    SQLite's lock wait), so an unreachable database answers within seconds, not minutes.
    Connections are checked before use, so a restarted server is picked up at once.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif path.startswith("/"):
            path = path[1:]
        if not path:
            raise EventStoreURLError(f"{url!r}: SQLite URL needs a file path")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": str(max(5, int(timeout_s * 5))),
        }
    if parsed.scheme in ("postgresql", "postgres"):
        query = parse_qs(parsed.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/") or "mailroom",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": query.get("pool_size", ["2"])[0],
            "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["8"])[0],
            "POSTGRES_LOCK_TIMEOUT": "5",
            "POSTGRES_CONNECT_TIMEOUT": str(max(1, round(timeout_s))),
            # No ping before every checkout (a round trip per request): a connection that died
            # with a restarted server fails fast and the call is repeated once on a fresh one
            # (postgres_recorder.BoundedPostgresProcessRecorder).
            "POSTGRES_PRE_PING": "n",
            "PROCESS_RECORDER_TOPIC": (
                "mailroom.adapters.postgres_recorder:BoundedPostgresProcessRecorder"
            ),
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise EventStoreURLError(
        f"unsupported event store URL {url!r}: use sqlite:///PATH or postgresql://..."
    )
