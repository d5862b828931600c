"""A command that cannot start says why in one line: the variable and what is wrong (never
its value, which may be a secret), or the unreachable service's host and port."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from kafka.errors import KafkaTimeoutError
from pydantic import SecretStr, ValidationError

from mailroom.cli.failures import settings_error_lines, unreachable_line
from mailroom.config import Settings
from mailroom.endpoints import redact
from tests.harness.mailroom_server import MAILROOM
from tests.harness.ports import free_port

SECRET = "tooshort-but-very-secret"


def run_mailroom(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env |= {"MAILROOM_DATA_DIR": str(tmp_path / "var"), "MAILROOM_PORT": str(free_port())}
    env |= {f"MAILROOM_{name.upper()}": value for name, value in settings.items()}
    return subprocess.run(
        [*MAILROOM, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ({"port": "abc"}, "error: MAILROOM_PORT: Input should be a valid integer"),
        (
            {"environment": "production", "secret_key": SECRET},
            "error: MAILROOM_SECRET_KEY: must be set (>= 32 characters) in production",
        ),
        ({"environment": "staging"}, "error: MAILROOM_ENVIRONMENT: Input should be"),
        ({"bus": "rabbitmq://user:pw@mq:5672"}, "error: MAILROOM_BUS: use embedded or kafka://"),
        ({"kafka_partitions": "0"}, "error: MAILROOM_KAFKA_PARTITIONS: Input should be greater"),
        ({"event_store": "mysql://u:pw@db/x"}, "error: MAILROOM_EVENT_STORE: use sqlite:///PATH"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_code_2(tmp_path, settings, line):
    result = run_mailroom(tmp_path, "serve", **settings)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(line), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert SECRET not in result.stderr and "pw@" not in result.stderr


def test_two_bad_settings_are_two_lines(tmp_path):
    result = run_mailroom(tmp_path, "serve", port="abc", max_pages="0")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["MAILROOM_PORT", "MAILROOM_MAX_PAGES"]


def test_an_unreachable_event_store_names_host_and_port_without_the_password(tmp_path):
    port = free_port()  # nobody listens there
    result = run_mailroom(
        tmp_path,
        "serve",
        event_store=f"postgresql://mailroom:hunter2@127.0.0.1:{port}/mailroom",
        dependency_timeout_s="1",
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot reach the event store at 127.0.0.1:{port}")
    assert "(MAILROOM_EVENT_STORE)" in last
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr.splitlines()[0]  # the retries name it too


def test_an_unreachable_broker_names_its_addresses(monkeypatch):
    monkeypatch.setenv("MAILROOM_BUS", "kafka://kafka-1:9092,kafka-2:9092")
    line = unreachable_line(KafkaTimeoutError("Unable to bootstrap"))
    assert line is not None
    assert line.startswith("error: cannot reach the Kafka broker at kafka-1:9092,kafka-2:9092")


def test_messages_never_carry_a_settings_value():
    with pytest.raises(ValidationError) as caught:
        Settings(environment="production", secret_key=SECRET, port="x")  # type: ignore[arg-type]
    lines = settings_error_lines(caught.value)
    assert lines == [
        "error: MAILROOM_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
    with pytest.raises(ValidationError) as caught:
        Settings(environment="production", secret_key=SECRET)
    assert settings_error_lines(caught.value) == [
        "error: MAILROOM_SECRET_KEY: must be set (>= 32 characters) in production"
    ]


def test_secrets_are_secret_types():
    settings = Settings(
        secret_key="s" * 40,
        s3_secret_key="s3-secret",
        oidc_client_secret="oidc-secret",
        citizen_oidc_client_secret="citizen-secret",
        smtp_password="smtp-secret",
    )
    for name in (
        "secret_key",
        "s3_secret_key",
        "oidc_client_secret",
        "citizen_oidc_client_secret",
        "smtp_password",
    ):
        assert isinstance(getattr(settings, name), SecretStr), name
    shown = repr(settings) + str(settings.model_dump())
    assert not any(v in shown for v in ("s3-secret", "oidc-secret", "citizen-secret", "smtp-"))


def test_redact_masks_credentials_in_urls():
    assert redact("postgresql://u:hunter2@db:5432/x") == "postgresql://***@db:5432/x"
    assert redact("'postgresql://u:p/w@s@db/x' refused") == "'postgresql://***@db/x' refused"
    assert redact("nothing to hide") == "nothing to hide"
