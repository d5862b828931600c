"""Polyglot files are refused the same way at every intake: the portal API, the scanning
stations' API and a citizen's answer (the service the web pages call); nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from aggregates.station import ScanningStation, hash_token
from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.intake.inspection import TrailingDataError
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock, metadata_json, portal_auth, submission
from tests.fixtures.polyglots import POLYGLOTS, updated_pdf
from tests.integration.test_api import stored_nothing

KINDS = ["pdf + zip", "pdf + html", "png + html after iend", "jpeg + html after eoi"]


@pytest.fixture
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as test_client:
        yield test_client


@pytest.fixture
def station_token(mailroom: Mailroom) -> str:
    token = uuid4().hex
    mailroom.app.save(
        ScanningStation(name="Scanner", token_hash=hash_token(token), registered_at=FakeClock()())
    )
    return token


@pytest.mark.parametrize("kind", KINDS)
def test_a_portal_upload_of_a_polyglot_is_422_trailing_data(client, mailroom, kind):
    response = client.post(
        "/api/v1/submissions",
        data={"metadata": metadata_json()},
        files=[("files", ("antrag.pdf", POLYGLOTS[kind]()))],
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "trailing_data"
    assert "antrag.pdf: file has" in response.json()["message"]
    assert stored_nothing(mailroom)


@pytest.mark.parametrize("kind", KINDS)
def test_a_scan_of_a_polyglot_is_refused_the_same_way(client, mailroom, station_token, kind):
    response = client.post(
        "/api/v1/scans",
        files=[("files", ("scan.pdf", POLYGLOTS[kind]()))],
        headers={"Authorization": f"Bearer {station_token}"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "trailing_data"
    assert stored_nothing(mailroom)


def test_a_scanner_pdf_with_incremental_updates_is_accepted(client, station_token):
    response = client.post(
        "/api/v1/scans",
        files=[("files", ("scan.pdf", updated_pdf(2) + b"\n\x00\x00"))],
        headers={"Authorization": f"Bearer {station_token}"},
    )
    assert response.status_code == 202, response.text


def test_the_service_refuses_a_polyglot_for_every_caller(mailroom):
    with pytest.raises(TrailingDataError):
        mailroom.intake.submit(submission(), [Upload("a.pdf", POLYGLOTS["pdf + zip"]())], None)
