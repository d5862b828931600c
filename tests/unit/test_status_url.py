"""The receipt's status URL is what ``request.url_for`` would build, without its cost."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from starlette.requests import Request

from mailroom.api.routes import status
from mailroom.api.routes.submissions import status_url


def _app() -> FastAPI:
    app = FastAPI()
    api = APIRouter(prefix="/api/v1")
    api.include_router(status.router)
    app.include_router(api)
    return app


def _request(
    app: FastAPI, root_path: str = "", host: str = "stadt.example", scheme: str = "https"
) -> Request:
    scope = {
        "type": "http",
        "app": app,
        "method": "POST",
        "scheme": scheme,
        "server": ["stadt.example", 443],  # a list, as some servers give it
        "path": f"{root_path}/api/v1/submissions",
        "root_path": root_path,
        "headers": [(b"host", host.encode())],
        "query_string": b"",
    }
    return Request(scope)


@pytest.mark.parametrize("root_path", ["", "/poststelle"])
def test_status_url_is_exactly_url_for(root_path: str) -> None:
    app = _app()
    request = _request(app, root_path)
    for reference in ("LIN-2026-000123", "LIN-2026-000124"):  # the second from the cache
        assert status_url(request, reference) == str(
            request.url_for("get_status", reference=reference)
        )
    assert status_url(request, "X").startswith(f"https://stadt.example{root_path}/api/v1/status/")


def test_every_host_scheme_and_root_path_gets_its_own_prefix_and_the_cache_is_bounded() -> None:
    """The absolute prefix is kept per scheme, Host header and root path: requests for
    another host name (or a proxy's root path) between others never get a wrong URL, and a
    client that sends a new Host header with every request does not grow the cache."""
    app = _app()
    variants = [
        ("", "stadt.example", "https"),
        ("/poststelle", "stadt.example", "https"),
        ("", "intern.stadt.example:8443", "https"),
        ("", "stadt.example", "http"),
        ("", "[::1]:8000", "http"),
    ]
    for _round in range(2):  # the second round comes from the cache
        for root_path, host, scheme in variants:
            request = _request(app, root_path, host, scheme)
            assert status_url(request, "LIN-2026-000123") == str(
                request.url_for("get_status", reference="LIN-2026-000123")
            )
    for number in range(200):
        request = _request(app, host=f"h{number}.example")
        assert status_url(request, "R").startswith(f"https://h{number}.example/api/v1/status/")
    assert len(app.state.status_urls.prefixes) <= app.state.status_urls.MAX_PREFIXES
