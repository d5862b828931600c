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


def _request(app: FastAPI, root_path: str = "") -> Request:
    scope = {
        "type": "http",
        "app": app,
        "method": "POST",
        "scheme": "https",
        "server": ("stadt.example", 443),
        "path": f"{root_path}/api/v1/submissions",
        "root_path": root_path,
        "headers": [(b"host", b"stadt.example")],
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
