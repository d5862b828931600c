"""infra/compose.yaml as a Compose implementation reads it (``docker-compose config``).

The other deployment tests read the file with a YAML parser; this one lets Debian's
``docker-compose`` (installed by ``make test``) validate it against the Compose schema,
resolve the anchors and the ``${VAR:?}`` interpolations — what ``docker compose up`` does
before it starts anything — without a Docker daemon.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

INFRA = Path(__file__).parents[2] / "infra"
COMPOSE = INFRA / "compose.yaml"
ENV_EXAMPLE = INFRA / ".env.example"


def compose_config(compose: Path, env_file: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    assert tool, "docker-compose is missing: `make test-packages` installs it"
    return subprocess.run(
        [tool, "--env-file", str(env_file), "-f", str(compose), "config"],
        # Only what the settings file says: no variable of this machine's environment.
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_accepts_the_file_with_the_example_settings(mailroom):
    """GIVEN infra/compose.yaml and the settings of infra/.env.example
    THEN Compose accepts it, and the resolved stack runs the relay and a worker for every
    consumer, each with the liveness check of the shared anchor and the mailroom's secret
    from the settings file."""
    done = compose_config(COMPOSE, ENV_EXAMPLE)
    assert done.returncode == 0, done.stderr
    services: dict[str, Any] = yaml.safe_load(done.stdout)["services"]
    processes = {
        name: spec["command"][1:]
        for name, spec in services.items()
        if spec.get("command", [])[:2] in (["mailroom", "worker"], ["mailroom", "relay"])
    }
    assert sorted(processes.values()) == sorted(
        [["relay"], *(["worker", consumer.name] for consumer in mailroom.consumers)]
    )
    for name in processes:
        service = services[name]
        assert service["healthcheck"]["test"][-1] == "http://127.0.0.1:9100/healthz", name
        assert service["environment"]["MAILROOM_SECRET_KEY"] == "change-me", name


def test_compose_refuses_to_start_without_a_required_secret(tmp_path):
    """A settings file without POSTGRES_PASSWORD: Compose stops and names the variable."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    without = [line for line in lines if not line.startswith("POSTGRES_PASSWORD=")]
    assert len(without) == len(lines) - 1
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(without) + "\n")
    done = compose_config(COMPOSE, env_file)
    assert done.returncode != 0
    assert "set POSTGRES_PASSWORD" in done.stderr


def test_the_check_finds_a_misspelt_option(tmp_path):
    """The validation is real: one misspelt key in a copy of the file is refused, named."""
    text = COMPOSE.read_text()
    assert text.count("\n  relay:\n") == 1
    copy = tmp_path / "compose.yaml"
    copy.write_text(text.replace("\n  relay:\n", "\n  relay:\n    restart_policy: always\n"))
    done = compose_config(copy, ENV_EXAMPLE)
    assert done.returncode != 0
    assert "restart_policy" in done.stderr
