"""The HTTP edge: text is clean before it reaches an event, limits hold while a request
streams in, and every error is a JSON body that names the problem."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom, build
from tests.fixtures import documents
from tests.fixtures.builders import FakeClock, metadata_json, portal_auth
from tests.integration.test_api import stored_nothing, submit


@pytest.fixture
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as test_client:
        yield test_client


def multipart(fields: dict[str, str], files: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A hand-made multipart body, so that file names can carry any bytes."""
    boundary = "grenze"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for filename, data in files:
        parts.append(
            f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="files"; filename="'
            + filename
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + data
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def test_a_subject_with_a_nul_character_is_refused_naming_the_field(client, mailroom):
    """The original failure: accepted with 202, then the PostgreSQL views failed for ever."""
    response = submit(client, metadata=metadata_json(subject="Antrag\u0000NUL"))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_text" and body["field"] == "metadata.subject"
    assert "U+0000" in body["message"]
    assert stored_nothing(mailroom)


def test_direction_overrides_are_removed_from_what_is_stored(client, mailroom):
    response = submit(client, metadata=metadata_json(subject="Antrag \u202eauf Trauung"))
    assert response.status_code == 202
    item = mailroom.app.find_item_by_reference(response.json()["reference"])
    assert item.submission.subject == "Antrag auf Trauung"


def test_file_names_are_stored_without_controls_overrides_or_folders(client, mailroom):
    names = [
        b"brief\x00.pdf",
        "rechnung\u202efdp.exe".encode(),
        b"zeile\tzwei.pdf",  # raw CR/LF cannot occur in a header; clients percent-encode
        b"\xff\xfe-kaputt.png",  # not UTF-8
        b"C:\\Scans\\seite.png",
    ]
    page = documents.png_page()
    body, boundary = multipart({"metadata": metadata_json()}, [(name, page) for name in names])
    response = client.post(
        "/api/v1/submissions",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 202, response.text
    item = mailroom.app.find_item_by_reference(response.json()["reference"])
    stored = [d.filename for d in item.documents]
    assert stored[:3] == ["brief.pdf", "rechnungfdp.exe", "zeile zwei.pdf"]
    assert stored[4] == "seite.png"
    for name in stored:
        assert name is not None and all(ord(c) >= 32 and c != "\u202e" for c in name)


def test_a_file_over_the_limit_is_refused_while_it_streams_in(settings):
    small = settings.model_copy(update={"max_upload_mb": 1})
    mailroom = build(small, clock=FakeClock())
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as client:
        response = submit(client, [("big.pdf", b"%PDF-1.4\n" + b"0" * 3 * 2**20)])
    assert response.status_code == 413
    assert response.json()["message"] == "big.pdf: file is larger than the limit of 1 MB"
    assert stored_nothing(mailroom)
    assert not list(mailroom.spool.glob("upload-*")), "the spooled part was not removed"
    mailroom.stop()


def test_all_files_together_are_limited_per_request(settings):
    limited = settings.model_copy(update={"max_upload_mb": 2, "max_request_mb": 3})
    mailroom = build(limited, clock=FakeClock())
    part = b"%PDF-1.4\n" + b"0" * int(1.5 * 2**20)
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as client:
        response = submit(client, [(f"{i}.pdf", part) for i in range(3)])
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert stored_nothing(mailroom)
    mailroom.stop()


def test_too_many_files_are_refused_before_they_are_read(settings):
    few = settings.model_copy(update={"max_files_per_item": 2})
    mailroom = build(few, clock=FakeClock())
    with TestClient(create_app(mailroom), headers=portal_auth(mailroom)) as client:
        response = submit(client, [(f"{i}.png", documents.png_page()) for i in range(3)])
    assert response.status_code == 422
    assert "too many files" in response.json()["message"]
    mailroom.stop()


def test_a_body_that_is_not_multipart_is_a_bad_request(client):
    response = client.post(
        "/api/v1/submissions", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_request"


def test_a_browser_asking_for_an_unknown_page_gets_the_german_page(client):
    response = client.get("/gibt-es-nicht", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404 and "Nicht gefunden" in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/gibt-es-nicht", 404, "not_found"), ("DELETE", "/api/v1/services", 405, None)],
)
def test_unknown_routes_and_methods_answer_in_the_same_problem_shape(
    client, method, path, status, code
):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance", "error", "message"}
    assert body["error"] == (code or "method_not_allowed") and body["status"] == status


def test_an_unexpected_error_is_a_json_500_without_internals(mailroom, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("secret internal detail")

    monkeypatch.setattr(mailroom.intake, "submit", broken)
    with TestClient(
        create_app(mailroom), headers=portal_auth(mailroom), raise_server_exceptions=False
    ) as client:
        response = submit(client)
    assert response.status_code == 500
    assert response.json() == {
        "type": "/problems/internal_error",
        "title": "Internal error",
        "status": 500,
        "detail": "the request could not be processed",
        "instance": "/api/v1/submissions",
        "error": "internal_error",
        "message": "the request could not be processed",
    }
    assert "secret" not in response.text
