"""Portal clients: ``mailroom portal-client add | list | revoke | rotate``; a submission
needs a client's key, and an Idempotency-Key is scoped to the client that sends it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mailroom.api.app import create_app
from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom
from mailroom.cli import app
from tests.fixtures import documents
from tests.fixtures.builders import metadata_json, portal_client_key


def run(mailroom: Mailroom, monkeypatch, *args: str):
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    return CliRunner().invoke(app, ["portal-client", *args])


def add(mailroom: Mailroom, monkeypatch, name: str) -> str:
    added = run(mailroom, monkeypatch, "add", name)
    assert added.exit_code == 0, added.output
    return added.output.strip().splitlines()[-1]


def listed(mailroom: Mailroom, monkeypatch) -> list[dict]:
    result = run(mailroom, monkeypatch, "list", "--json")
    assert result.exit_code == 0, result.output
    clients: list[dict] = json.loads(result.output)
    return clients


@pytest.fixture
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    with TestClient(create_app(mailroom)) as test_client:
        yield test_client


def submit(client: TestClient, key: str | None, idempotency_key: str | None = None, **fields):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(
        "/api/v1/submissions",
        data={"metadata": metadata_json(**fields)},
        files=[("files", ("seite.png", documents.png_page()))],
        headers=headers,
    )


def test_a_submission_without_a_key_is_refused_401_and_nothing_is_stored(client, mailroom):
    response = submit(client, None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["reason"] == "missing_credentials"
    assert "Authorization: Bearer" in response.json()["message"]
    assert mailroom.app.max_notification_id() == 0


def test_an_unknown_key_or_another_scheme_is_refused_401(client, mailroom):
    unknown = submit(client, "not-a-key")
    assert unknown.status_code == 401 and unknown.json()["reason"] == "invalid_credentials"
    key = portal_client_key(mailroom)
    basic = client.post(
        "/api/v1/submissions",
        data={"metadata": metadata_json()},
        headers={"Authorization": f"Basic {key}"},
    )
    assert basic.status_code == 401 and basic.json()["reason"] == "missing_credentials"


def test_a_station_token_is_no_portal_key(client, mailroom, monkeypatch):
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    added = CliRunner().invoke(app, ["station", "add", "Scanner"])
    token = added.output.strip().splitlines()[-1]
    assert submit(client, token).status_code == 401


def test_an_added_client_submits_and_is_listed_as_active(client, mailroom, monkeypatch):
    assert run(mailroom, monkeypatch, "list").output.strip() == "No portal client is registered."
    key = add(mailroom, monkeypatch, "Bürgerportal")
    response = submit(client, key)
    assert response.status_code == 202, response.text
    [listed_client] = listed(mailroom, monkeypatch)
    assert listed_client["name"] == "Bürgerportal" and listed_client["state"] == "active"
    assert key not in run(mailroom, monkeypatch, "list").output


def test_a_revoked_key_is_refused_and_names_the_client(client, mailroom, monkeypatch):
    key = add(mailroom, monkeypatch, "Bürgerportal")
    revoked = run(mailroom, monkeypatch, "revoke", "Bürgerportal")
    assert revoked.exit_code == 0, revoked.output
    response = submit(client, key)
    assert response.status_code == 401
    assert response.json()["reason"] == "revoked_credentials"
    assert "Bürgerportal" in response.json()["message"]
    assert listed(mailroom, monkeypatch)[0]["state"] == "revoked"
    again = run(mailroom, monkeypatch, "revoke", "Bürgerportal")
    assert again.exit_code == 2 and "revoked already" in again.output


def test_a_rotated_key_replaces_the_old_one_and_keeps_its_idempotency_keys(
    client, mailroom, monkeypatch
):
    old_key = add(mailroom, monkeypatch, "Bürgerportal")
    first = submit(client, old_key, "antrag-17").json()
    rotated = run(mailroom, monkeypatch, "rotate", "Bürgerportal")
    assert rotated.exit_code == 0, rotated.output
    new_key = rotated.output.strip().splitlines()[-1]
    # The API process accepted the old key a moment ago and was not told of the rotation
    # (the CLI is another process): it refuses the key once its memory of it has passed.
    service = mailroom.services.portal_clients
    assert submit(client, old_key).status_code == 202
    later = time.monotonic() + mailroom.settings.portal_key_memory_s + 0.1
    service.monotonic = lambda: later
    assert submit(client, old_key).status_code == 401
    retried = submit(client, new_key, "antrag-17")
    assert retried.status_code == 202 and retried.json() == first
    old, new = listed(mailroom, monkeypatch)
    assert (old["state"], new["state"]) == ("revoked", "active")
    assert new["rotated_from"] == old["id"]


def test_the_same_idempotency_key_from_two_clients_is_two_requests(client, mailroom):
    portal, other = portal_client_key(mailroom, "Bürgerportal"), portal_client_key(mailroom, "Alt")
    first = submit(client, portal, "k-1").json()
    second = submit(client, other, "k-1").json()
    assert first["reference"] != second["reference"]
    assert first["access_code"] != second["access_code"]


def test_one_client_retrying_gets_the_original_receipt_and_other_content_conflicts(
    client, mailroom
):
    key = portal_client_key(mailroom)
    first = submit(client, key, "k-1")
    retried = submit(client, key, "k-1")
    assert first.status_code == retried.status_code == 202
    assert retried.json() == first.json()  # reference AND access code
    conflict = submit(client, key, "k-1", subject="Etwas anderes")
    assert conflict.status_code == 409 and conflict.json()["error"] == "idempotency_conflict"


def test_a_key_revoked_in_this_process_is_refused_at_once(client, mailroom):
    key = portal_client_key(mailroom, "Bürgerportal")
    assert submit(client, key).status_code == 202
    service = mailroom.services.portal_clients
    assert service.recently_accepted(key) is not None  # remembered: no event-store read
    service.revoke(system_principal("test"), "Bürgerportal")
    assert service.recently_accepted(key) is None
    refused = submit(client, key)
    assert refused.status_code == 401 and refused.json()["reason"] == "revoked_credentials"


def test_a_remembered_key_is_answered_without_reading_the_event_store(
    client, mailroom, monkeypatch
):
    key = portal_client_key(mailroom, "Bürgerportal")
    assert submit(client, key).status_code == 202
    reads: list[object] = []
    original = mailroom.app.find_portal_client
    monkeypatch.setattr(
        mailroom.app, "find_portal_client", lambda i: reads.append(i) or original(i)
    )
    assert submit(client, key).status_code == 202
    assert reads == []
    mailroom.services.portal_clients.accepted_for_s = 0  # MAILROOM_PORTAL_KEY_MEMORY_S=0
    mailroom.services.portal_clients.monotonic = lambda: time.monotonic() + 3600
    assert submit(client, key).status_code == 202
    assert submit(client, key).status_code == 202
    assert len(reads) == 2  # every request reads the client again
