"""pytest fixtures that hand tests real servers on loopback ports.

Register with ``pytest_plugins = ["tests.harness.pytest_plugin"]`` in tests/conftest.py.
Servers start lazily, the first time a test requests their fixture, and live for the
session:

* ``postgres_url`` -> ``postgresql://user@127.0.0.1:PORT/mailroom_test_<hex>``
* ``postgres_schema`` (per test) -> name of a fresh schema in that database, dropped
  afterwards; pair it with :func:`tests.harness.postgres.eventsourcing_env`
* ``kafka`` -> :class:`tests.harness.kafka.KafkaBroker` (``.bootstrap``, ``.process``,
  ``.paused()``); ``kafka_bootstrap`` -> its ``HOST:PORT`` string
* ``s3_endpoint`` -> :class:`tests.harness.s3.S3Endpoint`
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import TypeVar

import pytest

from tests.harness.kafka import KafkaBroker, kafka_broker
from tests.harness.postgres import postgres_server, temporary_schema
from tests.harness.s3 import S3Endpoint, s3_server

T = TypeVar("T")

_startup_seconds: dict[str, float] = {}


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _interrupt_on_sigterm() -> None:
    """Turn SIGTERM (CI cancellation) into KeyboardInterrupt so teardown stops servers."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def _serve(name: str, server: contextlib.AbstractContextManager[T]) -> Iterator[T]:
    _interrupt_on_sigterm()
    started = time.monotonic()
    with server as value:
        _startup_seconds[name] = time.monotonic() - started
        yield value


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from _serve("postgres", postgres_server())


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    with temporary_schema(postgres_url) as schema:
        yield schema


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaBroker]:
    yield from _serve("kafka", kafka_broker())


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: KafkaBroker) -> str:
    return kafka.bootstrap


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    yield from _serve("s3", s3_server())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup_seconds:
        timings = ", ".join(f"{name} {secs:.2f}s" for name, secs in _startup_seconds.items())
        terminalreporter.write_line(f"test servers ready in: {timings}")


from tests.harness.oidc_provider import OidcProvider, running_oidc_provider  # noqa: E402


@pytest.fixture
def oidc_provider() -> Iterator[OidcProvider]:
    """A fresh OpenID provider per test with ``TEST_USERS`` (tests/harness/oidc_provider.py)."""
    with running_oidc_provider() as provider:
        yield provider


# Browser tests (tests/harness/browser.py): ``chromium`` (session), ``browser_page`` (per test).
from tests.harness.browser import browser_page, chromium  # noqa: E402, F401

# E-mail (tests/harness/smtp_server.py): ``smtp_server`` (per test; refuses, rejects, goes down).
from tests.harness.smtp_server import smtp_server  # noqa: E402, F401
