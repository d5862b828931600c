"""The API's edges: RFC 9457 problems for every error, security headers on every answer,
CORS only for configured origins, a complete OpenAPI document, self-hosted API docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.api.schemas import StatusOut, TimelineEntryOut
from mailroom.api.security_headers import security_headers
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.outages import DependencyUnavailableError, StorageFullError
from tests.fixtures.builders import FakeClock
from tests.harness.mailroom_server import serving

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "error", "message"}


def boom_routes(app: FastAPI) -> None:
    """Routes that fail the ways a store or a bug does."""

    def unreachable() -> None:
        raise DependencyUnavailableError("event_store", "connection refused")

    def full() -> None:
        raise StorageFullError("blob_store")

    def bug() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/test-unreachable", unreachable)
    app.add_api_route("/api/v1/test-full", full)
    app.add_api_route("/api/v1/test-bug", bug)


@pytest.fixture
def client(mailroom: Mailroom) -> Iterator[TestClient]:
    app = create_app(mailroom)
    boom_routes(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_MEMBERS
    assert body["type"] == f"/problems/{code}" and body["error"] == code
    assert body["status"] == status and body["message"] == body["detail"]
    assert body["instance"] == response.request.url.path
    return body


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not_found"),
        ("DELETE", "/api/v1/services", 405, "method_not_allowed"),
        ("GET", "/api/v1/status/LIN-2026-7K3F-92QD", 422, "invalid_request"),
        ("POST", "/api/v1/scans", 401, "not_authenticated"),
        ("GET", "/api/v1/test-bug", 500, "internal_error"),
    ],
)
def test_every_api_error_is_a_problem_document(client, method, path, status, code):
    body = assert_problem(client.request(method, path), status, code)
    if status == 422:
        assert body["details"][0]["field"] == "header.X-Access-Code"


def test_a_405_names_the_allowed_methods(client):
    response = client.delete("/api/v1/services")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("path", "status", "code", "dependency"),
    [
        ("/api/v1/test-unreachable", 503, "service_unavailable", "event_store"),
        ("/api/v1/test-full", 507, "storage_full", "blob_store"),
    ],
)
def test_outages_are_problems_with_retry_after(client, path, status, code, dependency):
    response = client.get(path)
    body = assert_problem(response, status, code)
    assert body["dependency"] == dependency and int(response.headers["retry-after"]) > 0


def test_a_wrong_access_code_too_often_is_429_with_retry_after(client, mailroom):
    path = "/api/v1/status/LIN-2026-7K3F-92QD"
    for _ in range(mailroom.settings.status_failures_allowed + 1):
        response = client.get(path, headers={"X-Access-Code": "wrong"})
    assert_problem(response, 429, "too_many_attempts")
    assert int(response.headers["retry-after"]) > 0


def test_a_browser_asking_for_an_unknown_page_gets_the_german_page(client):
    response = client.get("/gibt-es-nicht", headers={"Accept": "text/html"})
    assert response.status_code == 404 and "Nicht gefunden" in response.text
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/services", "/api/v1/no-such-thing", "/api/v1/test-bug", "/openapi.json", "/docs"],
)
def test_security_headers_and_no_store_on_every_answer(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers  # development: plain HTTP
    assert "server" not in headers


def test_pages_keep_their_policy_and_are_not_stored(client):
    headers = client.get("/anmelden").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"


def test_static_assets_get_the_headers_but_may_be_cached(client):
    headers = client.get("/static/htmx.min.js").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in headers


def test_hsts_in_production_only():
    assert "Strict-Transport-Security" in security_headers("/api/v1/services", hsts=True)
    assert "Strict-Transport-Security" not in security_headers("/api/v1/services")


def cors_client(settings: Settings, origins: str) -> TestClient:
    composed = build(settings.model_copy(update={"cors_origins": origins}), clock=FakeClock())
    return TestClient(create_app(composed))


def test_no_cors_headers_without_configured_origins(settings):
    with cors_client(settings, "") as client:
        response = client.get("/api/v1/services", headers={"Origin": "https://portal.example"})
        assert "access-control-allow-origin" not in response.headers


def test_cors_for_the_configured_origins_only(settings):
    with cors_client(settings, "https://portal.example, https://other.example") as client:
        preflight = client.options(
            "/api/v1/submissions",
            headers={
                "Origin": "https://portal.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, idempotency-key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://portal.example"
        assert preflight.headers["x-content-type-options"] == "nosniff"
        stranger = client.get("/api/v1/services", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers


# --- OpenAPI ---


@pytest.fixture
def document(client) -> dict:
    return client.get("/openapi.json").json()


def api_operations(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_error_response_is_documented_as_a_problem_with_a_valid_example(document):
    seen = 0
    for path, method, operation in api_operations(document):
        if path == "/readyz":  # its 503 is the readiness report itself (next test)
            continue
        errors = {k: v for k, v in operation["responses"].items() if int(k) >= 400}
        if path.startswith("/api/"):
            assert {"500", "503"} <= set(errors), f"{method} {path}"
        for status, response in errors.items():
            content = response["content"]
            assert set(content) == {"application/problem+json"}, f"{method} {path} {status}"
            media = content["application/problem+json"]
            schema = {**media["schema"], "components": document["components"]}
            jsonschema.validate(media["example"], schema)
            assert media["example"]["status"] == int(status)
            if int(status) in (429, 503, 507):
                assert "Retry-After" in response["headers"]
            seen += 1
    assert seen > 10
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_readiness_documents_its_report_for_200_and_503_and_answers_by_it(document, client):
    responses = document["paths"]["/readyz"]["get"]["responses"]
    assert {"200", "503"} <= set(responses)
    for status in ("200", "503"):
        media = responses[status]["content"]["application/json"]
        schema = {**media["schema"], "components": document["components"]}
        jsonschema.validate(media["example"], schema)
    answer = client.get("/readyz")
    assert answer.status_code == 200
    schema = {"$ref": "#/components/schemas/ReadinessOut", "components": document["components"]}
    jsonschema.validate(answer.json(), schema)
    assert answer.json()["status"] == "ready"


def test_the_metadata_part_is_json_with_its_schema(document):
    form = document["paths"]["/api/v1/submissions"]["post"]["requestBody"]["content"][
        "multipart/form-data"
    ]
    metadata = form["schema"]["properties"]["metadata"]
    assert metadata["$ref"] == "#/components/schemas/SubmissionMetadata"
    assert form["encoding"]["metadata"]["contentType"] == "application/json"
    schema = document["components"]["schemas"]["SubmissionMetadata"]
    assert {"service_key", "applicant", "subject"} <= set(schema["required"])


def test_the_intake_endpoints_name_their_bearer_scheme(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in ("/api/v1/submissions", "/api/v1/scans"):
        operation = document["paths"][path]["post"]
        assert {"bearerAuth": []} in operation["security"]
        assert "401" in operation["responses"]
        names = {p["name"].lower() for p in operation.get("parameters", [])}
        assert "authorization" not in names


def test_timestamps_are_documented_and_answered_with_their_offset(document):
    status = document["components"]["schemas"]["StatusOut"]
    assert status["properties"]["received_at"]["format"] == "date-time"
    naive = datetime(2026, 12, 1, 9, 30)
    answer = StatusOut(
        reference="LIN-2026-7K3F-92QD",
        status="received",
        status_text="Eingegangen",
        department=None,
        case_reference=None,
        subject=None,
        received_at=naive,
        timeline=[TimelineEntryOut(at=naive.replace(tzinfo=UTC), status="received", text="x")],
    ).model_dump(mode="json")
    assert answer["received_at"] == "2026-12-01T09:30:00Z"
    assert answer["timeline"][0]["at"] == "2026-12-01T09:30:00Z"


# --- Swagger UI and ReDoc from this server ---


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_only_assets_from_this_server(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert "<script>" not in response.text  # no inline script: the CSP forbids it
    urls = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', response.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            assert "javascript" in asset.headers["content-type"]
        if url.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css")


def test_a_real_server_sends_no_banner_and_the_headers(tmp_path):
    with serving(tmp_path) as server:
        for path in ("/api/v1/services", "/api/v1/no-such-thing", "/docs"):
            headers = httpx.get(server.url + path).headers
            assert "server" not in headers, path
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["cache-control"] == "no-store"
