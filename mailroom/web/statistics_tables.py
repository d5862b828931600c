"""The figures of /statistik as plain tables: one source for the page (chart and table) and
the CSV downloads, so that both always show the same numbers.

A cell is text, a whole number, a date or a :class:`Share` (0…1, shown as a percentage).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from mailroom import texts_de
from mailroom.services.workspace import Statistics
from mailroom.web.formatting import datum, prozent, zahl
from projections.statistics import AGE_BUCKETS

UNROUTED = "Noch keinem Fachdienst zugeordnet"
WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
BUCKET_KINDS = ("ok", "ok", "warn", "danger")


@dataclass(frozen=True)
class Share:
    value: float | None  # None: nothing to relate to (shown as "–")


Cell = str | int | date | Share


@dataclass(frozen=True)
class Table:
    key: str  # ?tabelle= of the CSV download
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def day_label(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day:02d}.{day.month:02d}."


def _channels(figures: Statistics) -> list[str]:
    found = {c.channel for c in figures.intake}
    return [*texts_de.CHANNELS, *sorted(found - set(texts_de.CHANNELS))]


def intake_by_day(figures: Statistics, today: date, days: int) -> Table:
    channels = _channels(figures)
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for entry in figures.intake:
        counts[(entry.day, entry.channel)] += entry.count
    rows: list[tuple[Cell, ...]] = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        per_channel = [counts[(day, c)] for c in channels]
        rows.append((day, *per_channel, sum(per_channel)))
    headers = ("Tag", *(texts_de.label(texts_de.CHANNELS, c) for c in channels), "Gesamt")
    return Table("eingang", "Eingänge pro Tag", headers, tuple(rows))


def intake_by_department(figures: Statistics, names: dict[str, str]) -> Table:
    channels = _channels(figures)
    counts: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for known in figures.departments or ():
        counts.setdefault(known, defaultdict(int))  # also without intake
    for entry in figures.intake:
        counts[entry.department_id][entry.channel] += entry.count
    rows: list[tuple[Cell, ...]] = []
    for department_id, per in sorted(counts.items(), key=lambda e: _sort_name(e[0], names)):
        values = [per.get(c, 0) for c in channels]
        rows.append((_name(department_id, names), *values, sum(values)))
    headers = (
        "Fachdienst",
        *(texts_de.label(texts_de.CHANNELS, c) for c in channels),
        "Gesamt",
    )
    return Table("eingang-fachdienst", "Eingänge nach Fachdienst", headers, tuple(rows))


def backlog(figures: Statistics, names: dict[str, str]) -> Table:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for entry in figures.backlog:
        counts[entry.department_id][entry.bucket] = entry.count
    rows: list[tuple[Cell, ...]] = []
    for department_id, per in sorted(counts.items(), key=lambda e: _sort_name(e[0], names)):
        values = [per.get(b, 0) for b in AGE_BUCKETS]
        rows.append((_name(department_id, names), *values, sum(values)))
    headers = (
        "Fachdienst",
        *(texts_de.label(texts_de.AGE_BUCKETS, b) for b in AGE_BUCKETS),
        "Gesamt",
    )
    return Table("rueckstand", "Offene Vorgänge nach Alter", headers, tuple(rows))


def deadlines(figures: Statistics, names: dict[str, str]) -> Table:
    rows = [
        (_name(c.department_id, names), c.open, c.at_risk, c.overdue, c.paused)
        for c in sorted(figures.deadlines, key=lambda c: _sort_name(c.department_id, names))
    ]
    headers = ("Fachdienst", "Offen", "Gefährdet", "Überfällig", "Wartet auf Bürger/in")
    return Table("fristen", "Fristen nach Fachdienst", headers, tuple(rows))


def routing(figures: Statistics) -> Table:
    rates = figures.routing
    headers = (
        "Zugeordnet",
        "Davon automatisch",
        "Automatisch zugeordnet (Anteil)",
        "Danach korrigiert",
        "Korrekturquote",
    )
    row = (
        rates.routed,
        rates.auto_routed,
        Share(rates.auto_rate),
        rates.corrected,
        Share(rates.correction_rate),
    )
    return Table("zuordnung", "Automatische Zuordnung", headers, (row,))


def all_tables(figures: Statistics, names: dict[str, str], today: date, days: int) -> list[Table]:
    return [
        intake_by_day(figures, today, days),
        intake_by_department(figures, names),
        backlog(figures, names),
        deadlines(figures, names),
        routing(figures),
    ]


def column(table: Table, index: int, kind: str = "") -> list[tuple[str | int, ...]]:
    """(first cell as label, cell ``index``[, bar kind]) per row: the rows of a bar chart."""
    return [(_label(row[0]), _count(row[index]), *((kind,) if kind else ())) for row in table.rows]


def _count(cell: Cell) -> int:
    return cell if isinstance(cell, int) else 0


@dataclass(frozen=True)
class Column:
    """One column of the intake chart: a day, or for long periods a calendar week."""

    label: str  # under the column
    title: str  # for screen readers and the tooltip
    value: int
    height: float  # 0…100, share of the highest column
    quiet: bool = False  # a weekend day (lighter)


def intake_columns(table: Table, max_days: int = 31) -> list[Column]:
    """The intake per day (the first cell of each row a date, the last the total); longer
    periods per calendar week."""
    days = [(row[0], _count(row[-1])) for row in table.rows if isinstance(row[0], date)]
    if len(days) <= max_days:
        columns = [
            (f"{d.day:02d}.{d.month:02d}.", day_label(d), n, d.weekday() >= 5) for d, n in days
        ]
    else:
        weeks: dict[tuple[int, int], list[tuple[date, int]]] = defaultdict(list)
        for d, n in days:
            weeks[d.isocalendar()[:2]].append((d, n))
        columns = [
            (
                f"KW {week}",
                f"KW {week} ({datum(entries[0][0])} – {datum(entries[-1][0])})",
                sum(n for _, n in entries),
                False,
            )
            for (_, week), entries in weeks.items()
        ]
    top = max((n for _, _, n, _ in columns), default=0)
    return [
        Column(label, title, n, round(n / top * 100, 1) if top else 0.0, quiet)
        for label, title, n, quiet in columns
    ]


def backlog_totals(table: Table) -> list[tuple[str, int, str]]:
    """(age bucket, open cases in it over all departments, bar kind): the backlog chart."""
    return [
        (table.headers[i + 1], sum(_count(row[i + 1]) for row in table.rows), kind)
        for i, kind in enumerate(BUCKET_KINDS)
    ]


def display(cell: Cell) -> str:
    """A cell as the page shows it (German numbers and dates)."""
    if isinstance(cell, Share):
        return "–" if cell.value is None else prozent(cell.value, 1)
    if isinstance(cell, date):
        return datum(cell)
    if isinstance(cell, int):
        return zahl(cell)
    return cell


def is_number(cell: Cell) -> bool:
    return isinstance(cell, int | Share)


def totals(figures: Statistics) -> dict[str, int]:
    return {
        "intake": sum(c.count for c in figures.intake),
        "open": sum(c.open for c in figures.deadlines),
        "overdue": sum(c.overdue for c in figures.deadlines),
        "at_risk": sum(c.at_risk for c in figures.deadlines),
    }


def _label(cell: Cell) -> str:
    return day_label(cell) if isinstance(cell, date) else str(cell)


def _name(department_id: str | None, names: dict[str, str]) -> str:
    return UNROUTED if department_id is None else names.get(department_id, department_id)


def _sort_name(department_id: str | None, names: dict[str, str]) -> tuple[int, str]:
    return (department_id is None, _name(department_id, names).casefold())
