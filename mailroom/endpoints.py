"""Where the mailroom's stores and broker are, for messages: ``host:port``, never a password."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mailroom.config import Settings
from mailroom.outages import BLOB_STORE, BROKER, EVENT_STORE, VIEWS

# Up to the last @ of the URL: a password may hold "/" or "@" (over-masking is fine).
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^\s'\"]*@", re.IGNORECASE)

# dependency -> (what it is, the setting that says where)
DEPENDENCIES = {
    EVENT_STORE: ("the event store", "MAILROOM_EVENT_STORE"),
    VIEWS: ("the views database", "MAILROOM_VIEWS_DB"),
    BLOB_STORE: ("the document store", "MAILROOM_S3_ENDPOINT"),
    BROKER: ("the Kafka broker", "MAILROOM_BUS"),
}


def redact(text: str) -> str:
    """``postgresql://user:pw@host`` -> ``postgresql://***@host``."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def host_port(url: str, default_port: int = 5432) -> str:
    """``host:port`` of a server URL; a file URL (SQLite) as itself, without credentials."""
    parts = urlsplit(url)
    if not parts.hostname:
        return redact(url)
    return f"{parts.hostname}:{parts.port or default_port}"


def endpoint(settings: Settings, dependency: str) -> str:
    if dependency == EVENT_STORE:
        return host_port(settings.event_store_url)
    if dependency == VIEWS:
        return host_port(settings.views_db_url)
    if dependency == BLOB_STORE:
        return settings.s3_endpoint if settings.blob_store_url.startswith("s3://") else "disk"
    if dependency == BROKER:
        return ",".join(settings.kafka_bootstrap)
    return "?"


def describe(settings: Settings, dependency: str) -> str:
    """``the event store at db:5432 (MAILROOM_EVENT_STORE)``."""
    what, variable = DEPENDENCIES.get(dependency, (dependency, "?"))
    return f"{what} at {endpoint(settings, dependency)} ({variable})"
