from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from tests.fixtures.builders import FakeClock

pytest_plugins = ["tests.harness.pytest_plugin"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-" + "x" * 40)


@pytest.fixture
def mailroom(settings: Settings) -> Iterator[Mailroom]:
    composed = build(settings, clock=FakeClock())
    yield composed
    composed.stop()
