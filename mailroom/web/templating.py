"""The one Jinja2 environment of the web pages and :func:`render`.

Every page gets, besides its own context: ``request``, ``principal`` (or None), ``csrf_token``,
``csrf_field`` (the hidden input, ready to print), ``city_name``, ``product_name``,
``navigation`` (list of :class:`NavItem`), ``take_flashes()`` (the pending flash messages; base.html
calls it), ``current_path``, ``url_with(**params)`` (this page's URL with query parameters
changed; None removes one) and ``is_htmx`` (the request came from htmx).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from mailroom import texts_de
from mailroom.auth.principal import Principal, Role
from mailroom.web.csrf import FORM_FIELD, csrf_token
from mailroom.web.formatting import FILTERS
from mailroom.web.session import current_principal, take_flashes

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
PRODUCT_NAME = "Poststelle & Vorgänge"
_HIDDEN_INPUT = Markup('<input type="hidden" name="{}" value="{}">')  # format() escapes


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    active: bool = False
    children: tuple[NavItem, ...] = ()


@cache
def _static_version(name: str) -> str:
    path = STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def static_url(name: str) -> str:
    """``/static/NAME?v=HASH``: browsers reload a file when it changed (one cache per release)."""
    return f"/static/{name}?v={_static_version(name)}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(FILTERS)
environment.globals.update(
    static=static_url,
    deadline_flags=texts_de.DEADLINE_FLAGS,
    role_names=texts_de.ROLES,
    label=texts_de.label,
)


def _is_active(path: str, href: str) -> bool:
    return path == href or path.startswith(href.rstrip("/") + "/")


def navigation(request: Request, principal: Principal | None) -> list[NavItem]:
    """The main navigation for ``principal``: what they may open, nothing else."""
    if principal is None:
        return []
    path = request.url.path
    catalog = request.app.state.mailroom.catalog
    if principal.has(Role.ADMIN):
        department_ids = [d.id for d in catalog.departments]
    else:
        department_ids = sorted(principal.departments)
    names = {d.id: d.name for d in catalog.departments}
    departments = sorted(
        (NavItem(names.get(i, i), f"/fachdienste/{i}") for i in department_ids),
        key=lambda item: item.label,
    )
    departments = [NavItem(d.label, d.href, _is_active(path, d.href)) for d in departments]
    items = [NavItem("Arbeitskorb", "/arbeitskorb", _is_active(path, "/arbeitskorb"))]
    if departments:
        items.append(
            NavItem(
                "Fachdienste",
                "/fachdienste",
                any(d.active for d in departments),
                tuple(departments),
            )
        )
    if principal.has(Role.MAILROOM) or principal.has(Role.ADMIN):
        items.append(NavItem("Triage", "/triage", _is_active(path, "/triage")))
        items.append(NavItem("Postausgang", "/postausgang", _is_active(path, "/postausgang")))
    if principal.has(Role.LEAD) or principal.has(Role.ADMIN):
        items.append(NavItem("Statistik", "/statistik", _is_active(path, "/statistik")))
    return items


def url_with(request: Request, **params: object) -> str:
    """This page's path and query with ``params`` set (None or "" removes a parameter)."""
    query: dict[str, str] = dict(request.query_params)
    for key, value in params.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = urlencode(query)
    return request.url.path + (f"?{encoded}" if encoded else "")


def base_context(request: Request) -> dict[str, Any]:
    principal = current_principal(request)
    token = csrf_token(request) if "session" in request.scope else ""
    return {
        "request": request,
        "principal": principal,
        "csrf_token": token,
        "csrf_field": _HIDDEN_INPUT.format(FORM_FIELD, token),
        "city_name": request.app.state.mailroom.catalog.city.name,
        "product_name": PRODUCT_NAME,
        "navigation": navigation(request, principal),
        "take_flashes": partial(take_flashes, request),
        "current_path": request.url.path,
        "url_with": partial(url_with, request),
        "is_htmx": request.headers.get("HX-Request") == "true",
    }


def render(
    request: Request,
    template: str | Template,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` (a name under templates/, or a Template from ``environment``)."""
    values = base_context(request)
    values.update(context or {})
    page = environment.get_template(template) if isinstance(template, str) else template
    return HTMLResponse(page.render(values), status_code=status_code, headers=headers)
