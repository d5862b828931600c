"""/statistik: intake, backlog, deadlines and the router's figures — for leads (their own
departments) and administrators (all); anyone else gets the 404 of an unknown page.
Every table is also a CSV download (/statistik.csv?tabelle=…&tage=…) for German Excel:
``;`` between fields, decimal commas, UTF-8 with a byte order mark.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mailroom.auth.principal import Principal
from mailroom.web import statistics_tables as tables
from mailroom.web.exceptions import WebError
from mailroom.web.formatting import datum, zahl
from mailroom.web.session import require_principal
from mailroom.web.templating import render

router = APIRouter(include_in_schema=False)

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
CSV_BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Signed = Annotated[Principal, Depends(require_principal)]


def _period(tage: str) -> int:
    return int(tage) if tage.isdecimal() and int(tage) in PERIODS else DEFAULT_PERIOD


def _figures(request: Request, principal: Principal, days: int) -> dict[str, Any]:
    mailroom = request.app.state.mailroom
    workspace = mailroom.services.workspace
    figures = workspace.statistics(principal, days=days)  # NotFoundError (404) if not allowed
    names = {d.id: d.name for d in mailroom.catalog.departments}
    today = workspace.today()
    return {
        "figures": figures,
        "today": today,
        "days": days,
        "tables": {t.key: t for t in tables.all_tables(figures, names, today, days)},
        "scope": (
            "Alle Fachdienste"
            if figures.departments is None
            else ", ".join(sorted(names.get(d, d) for d in figures.departments))
        ),
    }


@router.get("/statistik")
def statistics_page(request: Request, principal: Signed, tage: str = "") -> Response:
    context = _figures(request, principal, _period(tage))
    context.update(
        periods=PERIODS,
        totals=tables.totals(context["figures"]),
        column=tables.column,
        intake_columns=tables.intake_columns,
        display=tables.display,
        is_number=tables.is_number,
        backlog_totals=tables.backlog_totals,
    )
    return render(request, "statistik.html", context)


def csv_cell(cell: tables.Cell) -> str:
    if isinstance(cell, tables.Share):
        return "" if cell.value is None else zahl(cell.value * 100, 1)
    if isinstance(cell, date):
        return datum(cell)
    if isinstance(cell, int):
        return str(cell)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell  # no formulas in Excel


def csv_text(table: tables.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    headers = [f"{h} (%)" if isinstance(c, tables.Share) else h for h, c in _header_cells(table)]
    writer.writerow(headers)
    for row in table.rows:
        writer.writerow(csv_cell(c) for c in row)
    return CSV_BOM + out.getvalue()


def _header_cells(table: tables.Table) -> list[tuple[str, tables.Cell | None]]:
    first = table.rows[0] if table.rows else ()
    return [(h, first[i] if i < len(first) else None) for i, h in enumerate(table.headers)]


@router.get("/statistik.csv")
def statistics_csv(
    request: Request, principal: Signed, tabelle: str = "", tage: str = ""
) -> Response:
    context = _figures(request, principal, _period(tage))
    table = context["tables"].get(tabelle)
    if table is None:
        raise WebError(404)
    filename = f"statistik-{table.key}-{context['today'].isoformat()}.csv"
    return Response(
        csv_text(table).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
