"""``mailroom station add | list | revoke | rotate``: and a revoked token is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.cli import app
from tests.fixtures import documents


def run(mailroom: Mailroom, monkeypatch, *args: str):
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", mailroom.settings.secret_key.get_secret_value())
    return CliRunner().invoke(app, ["station", *args])


def add(mailroom: Mailroom, monkeypatch, name: str) -> str:
    added = run(mailroom, monkeypatch, "add", name)
    assert added.exit_code == 0, added.output
    return added.output.strip().splitlines()[-1]


def listed(mailroom: Mailroom, monkeypatch) -> list[dict]:
    result = run(mailroom, monkeypatch, "list", "--json")
    assert result.exit_code == 0, result.output
    stations: list[dict] = json.loads(result.output)
    return stations


@pytest.fixture
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    with TestClient(create_app(mailroom)) as test_client:
        yield test_client


def scan(client: TestClient, token: str) -> int:
    response = client.post(
        "/api/v1/scans",
        files=[("files", ("scan.pdf", documents.text_pdf("Antrag")))],
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


def test_an_added_station_is_listed_as_active(mailroom, monkeypatch):
    assert run(mailroom, monkeypatch, "list").output.strip() == (
        "No scanning station is registered."
    )
    add(mailroom, monkeypatch, "Poststelle Rathaus")
    [station] = listed(mailroom, monkeypatch)
    assert station["name"] == "Poststelle Rathaus" and station["state"] == "active"
    assert station["registered_at"] and station["revoked_at"] is None
    table = run(mailroom, monkeypatch, "list").output.splitlines()
    assert table[0].split() == ["ID", "NAME", "REGISTERED", "STATE"]
    assert table[1].startswith(station["id"][:8]) and "Poststelle Rathaus" in table[1]
    assert table[1].endswith("active")


def test_a_revoked_station_is_listed_as_revoked_and_its_token_refused(
    mailroom, monkeypatch, client
):
    token = add(mailroom, monkeypatch, "Poststelle Rathaus")
    assert scan(client, token) == 202
    [station] = listed(mailroom, monkeypatch)
    revoked = run(mailroom, monkeypatch, "revoke", station["id"][:8])
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked scanning station 'Poststelle Rathaus'" in revoked.output
    [station] = listed(mailroom, monkeypatch)
    assert station["state"] == "revoked" and station["revoked_at"]
    assert "revoked" in run(mailroom, monkeypatch, "list").output.splitlines()[1]
    assert scan(client, token) == 401
    assert scan(client, "not-a-token") == 401
    again = run(mailroom, monkeypatch, "revoke", "Poststelle Rathaus")
    assert again.exit_code == 2 and "revoked already" in again.output


def test_a_rotated_station_keeps_its_name_and_only_the_new_token_is_accepted(
    mailroom, monkeypatch, client
):
    old_token = add(mailroom, monkeypatch, "Poststelle Rathaus")
    rotated = run(mailroom, monkeypatch, "rotate", "Poststelle Rathaus")
    assert rotated.exit_code == 0, rotated.output
    new_token = rotated.output.strip().splitlines()[-1]
    assert new_token != old_token and len(new_token) >= 40
    assert scan(client, old_token) == 401
    assert scan(client, new_token) == 202
    old, new = listed(mailroom, monkeypatch)
    assert old["name"] == new["name"] == "Poststelle Rathaus"
    assert old["state"] == "revoked" and new["state"] == "active"
    assert new["rotated_from"] == old["id"]
    # The name now means the active station; the old one cannot be rotated again.
    assert run(mailroom, monkeypatch, "rotate", "Poststelle Rathaus").exit_code == 0
    refused = run(mailroom, monkeypatch, "rotate", old["id"])
    assert refused.exit_code == 2 and "is revoked" in refused.output


def test_unknown_and_ambiguous_stations_are_refused_with_a_message(mailroom, monkeypatch):
    add(mailroom, monkeypatch, "Scanner")
    add(mailroom, monkeypatch, "Scanner")
    unknown = run(mailroom, monkeypatch, "revoke", "Keller")
    assert unknown.exit_code == 2 and "no scanning station has the id or name 'Keller'" in (
        unknown.output
    )
    ambiguous = run(mailroom, monkeypatch, "revoke", "Scanner")
    assert ambiguous.exit_code == 2 and "more than one scanning station" in ambiguous.output
    assert len(ambiguous.output.strip().splitlines()) == 1
    assert "Traceback" not in ambiguous.output
    blank = run(mailroom, monkeypatch, "rotate", " ")
    assert blank.exit_code == 2 and "name a station" in blank.output
    assert [s["state"] for s in listed(mailroom, monkeypatch)] == ["active", "active"]
