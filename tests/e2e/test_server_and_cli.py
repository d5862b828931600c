"""End to end: the real server process, the `mailroom` CLI against it over HTTP."""

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eventsourcing.utils import get_topic

from aggregates.mail_item import MailItem
from mailroom.adapters.event_store import persistence_env
from mailroom.application import MailroomApp
from mailroom.config import Settings
from tests.fixtures import documents
from tests.harness.mailroom_server import MAILROOM, serving


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with serving(tmp_path) as running:
        yield running.url, running.env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAILROOM, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_station_uploads_a_folder_and_a_rerun_sends_nothing_twice(server, tmp_path):
    url, env = server
    added = run_cli(env, "station", "add", "Poststelle Rathaus")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]

    folder = tmp_path / "stapel"
    folder.mkdir()
    (folder / "brief1.pdf").write_bytes(documents.image_pdf())
    (folder / "brief2.png").write_bytes(documents.png_page())
    (folder / "kaputt.pdf").write_bytes(documents.zip_bytes())
    journal = tmp_path / "journal.jsonl"
    args = ("scan", str(folder), "--server", url, "--token", token, "--journal", str(journal))

    first = run_cli(env, *args)
    assert first.returncode == 1  # one file was rejected
    assert "ZIP archive" in first.stdout
    assert first.stdout.count("LIN-") == 2
    assert received_items(env) == 2

    second = run_cli(env, *args)
    assert second.stdout.count("already accepted") == 2
    assert received_items(env) == 2
    assert len(journal.read_text().splitlines()) == 2


def received_items(env: dict[str, str]) -> int:
    """Mail items in the server's event store (read beside the running server)."""
    app = MailroomApp(
        env=persistence_env(Settings(data_dir=env["MAILROOM_DATA_DIR"]).event_store_url)
    )
    try:
        topic = get_topic(MailItem.Received)
        return sum(1 for n in app.iter_notifications() if n.topic == topic)
    finally:
        app.close()


def test_a_wrong_station_token_is_refused(server, tmp_path):
    url, env = server
    letter = tmp_path / "brief.png"
    letter.write_bytes(documents.png_page())
    result = run_cli(
        env,
        "scan",
        str(letter),
        "--server",
        url,
        "--token",
        "falsch",
        "--journal",
        str(tmp_path / "j.jsonl"),
    )
    assert result.returncode == 1
    assert "token was refused" in result.stdout


def test_a_citizen_checks_the_status_of_a_portal_submission(server):
    url, env = server
    metadata = {
        "service_key": "personalausweis",
        "subject": "Neuer Personalausweis",
        "applicant": {"name": "Ali Demir", "email": "ali@example.org"},
    }
    key = run_cli(env, "portal-client", "add", "Bürgerportal").stdout.strip().splitlines()[-1]
    receipt = httpx.post(
        f"{url}/api/v1/submissions",
        data={"metadata": json.dumps(metadata)},
        files=[("files", ("foto.jpg", documents.jpeg_page()))],
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    deadline = time.monotonic() + 10
    while True:
        result = run_cli(
            env, "status", receipt["reference"], "--code", receipt["access_code"], "--server", url
        )
        if "Bürgerbüro" in result.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert result.returncode == 0, result.stderr
    assert "In Bearbeitung bei: Bürgerbüro / Meldewesen" in result.stdout

    wrong = run_cli(
        env, "status", receipt["reference"], "--code", "0000-0000-0000", "--server", url
    )
    assert wrong.returncode == 1
    assert "no request with this reference" in wrong.stderr
