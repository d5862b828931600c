"""German formatting for pages: dates, times (Europe/Berlin), working days, numbers.

Plain spaces throughout (tests can compare text); cells that must not wrap use class="nowrap".

Registered as Jinja2 filters by ``mailroom.web.templating``; plain functions, unit-tested.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

Number = int | float | Decimal


def in_berlin(value: datetime) -> datetime:
    """``value`` in German local time; a naive datetime is taken as UTC (what events store)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BERLIN)


def datum(value: date | datetime | None) -> str:
    """01.12.2026 (a datetime: its day in Berlin); None: ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = in_berlin(value).date()
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def datum_zeit(value: datetime | None) -> str:
    """01.12.2026, 14:32 Uhr (Berlin time); None: ""."""
    if value is None:
        return ""
    local = in_berlin(value)
    return f"{datum(local)}, {local.hour:02d}:{local.minute:02d} Uhr"


def _arbeitstage(count: int) -> str:
    return f"{count} Arbeitstag" if count == 1 else f"{count} Arbeitstagen"


def tage(working_days_left: int | None) -> str:
    """Working days until a deadline: "in 3 Arbeitstagen", "heute" (due today),
    "seit 2 Arbeitstagen überfällig" (negative); None: ""."""
    if working_days_left is None:
        return ""
    if working_days_left == 0:
        return "heute"
    if working_days_left > 0:
        return f"in {_arbeitstage(working_days_left)}"
    return f"seit {_arbeitstage(-working_days_left)} überfällig"


def zahl(value: Number | None, stellen: int = 0) -> str:
    """12.345,6 — German thousands and decimal separators; None: ""."""
    if value is None:
        return ""
    english = f"{value:,.{stellen}f}"
    return english.replace(",", "\0").replace(".", ",").replace("\0", ".")


def prozent(anteil: Number | None, stellen: int = 0) -> str:
    """A share 0…1 as "87 %" (German: a space before the sign); None: ""."""
    if anteil is None:
        return ""
    return f"{zahl(float(anteil) * 100, stellen)} %"


def dateigroesse(size_bytes: int | None) -> str:
    """1,2 MB / 340 KB / 12 Bytes; None: ""."""
    if size_bytes is None:
        return ""
    if size_bytes < 1024:
        return f"{size_bytes} Bytes"
    if size_bytes < 1024 * 1024:
        return f"{zahl(size_bytes / 1024)} KB"
    return f"{zahl(size_bytes / 1024 / 1024, 1)} MB"


FILTERS = {
    "datum": datum,
    "datum_zeit": datum_zeit,
    "tage": tage,
    "zahl": zahl,
    "prozent": prozent,
    "dateigroesse": dateigroesse,
}
