from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from tests.fixtures.builders import FakeClock

pytest_plugins = ["tests.harness.pytest_plugin"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-" + "x" * 40,
        consumer_retry_base_s=0.05,  # a failing event is retried at once in tests
        consumer_retry_max_s=1.0,
    )


@pytest.fixture
def mailroom(settings: Settings) -> Iterator[Mailroom]:
    composed = build(settings, clock=FakeClock())
    yield composed
    composed.stop()
