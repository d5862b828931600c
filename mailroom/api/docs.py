"""Swagger UI (/docs) and ReDoc (/redoc), served with their assets by the app itself.

No CDN: a city's offline network must see the documentation too. The assets are vendored
under ``mailroom/api/static`` (swagger-ui-dist 5.35.0, redoc 2.5.4; licences beside them)
and served at ``/static/api-docs``. No inline script (CSP): Swagger UI is started by
``swagger-init.js``, which reads the document's URL from a data attribute.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent / "static"
ASSETS_PATH = "/static/api-docs"

_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script></body></html>
"""
_REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png"></head>
<body><redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc.standalone.js"></script></body></html>
"""


def install_docs(app: FastAPI) -> None:
    """Call before ``/static`` is mounted (the assets' mount must match first)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="api-docs-assets")

    def page(template: str, request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = template.format(
            title=escape(app.title),
            assets=escape(root + ASSETS_PATH),
            openapi=escape(root + (app.openapi_url or "/openapi.json")),
        )
        return HTMLResponse(html)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return page(_SWAGGER_PAGE, request)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return page(_REDOC_PAGE, request)
