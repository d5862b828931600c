"""/suche?q=…: full-text search over the mail of the departments the person may see.

The header's search field sends here. Any input is safe: the search engine's syntax is
never exposed (``projections.search_query``); an empty query shows a short help.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mailroom.auth.permissions import case_departments
from mailroom.auth.principal import Principal
from mailroom.web.session import require_principal
from mailroom.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_QUERY = 500
LIMIT = 50


@router.get("/suche")
def search_page(
    request: Request,
    principal: Annotated[Principal, Depends(require_principal)],
    q: str = "",
) -> Response:
    mailroom = request.app.state.mailroom
    query = " ".join(q.split())[:MAX_QUERY]
    departments = case_departments(principal)
    hits = mailroom.services.workspace.search(principal, query, LIMIT) if query else []
    context = {
        "q": query,
        "hits": hits,
        "limit": LIMIT,
        "may_search": departments is None or bool(departments),
        "department_names": {d.id: d.name for d in mailroom.catalog.departments},
    }
    return render(request, "suche.html", context)
