"""Processing deadlines counted in working days of a German Land.

A working day is Monday to Friday unless it is a public holiday of the Land
(``holidays.country_holidays("DE", subdiv=land)``), so the same start date can fall due on
different days in Nordrhein-Westfalen (Fronleichnam, Allerheiligen) and in Berlin. Pure: no
clock, no I/O; "today" is always passed in.

Counting rules:

- ``add_working_days(start, n)``: the start day itself is not counted, day ``n`` is the result;
  ``n = 0`` gives ``start`` if it is a working day, else the next working day.
- ``working_days_between(a, b)``: working days in ``(a, b]``, negative when ``b < a``.
- A pause (waiting for the citizen) from ``start`` to ``end`` moves the due date by
  ``working_days_between(start, end)``; an open pause by the working days from its start until
  today, so a paused deadline keeps moving as time passes.

For the read model: a view cannot recompute every case each day, so it stores, as of the last
event, ``due_on = deadline.base_due_on(calendar)`` (the due date with an open pause counted as
ending the day it began) and ``paused_since`` (the open pause's start, else None). At query time
the current due date is ``shift_for_open_pause(calendar, due_on, paused_since, today)``, which
equals ``deadline.due_on(calendar, today)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays

LANDS: tuple[str, ...] = tuple(
    code for code in holidays.list_supported_countries()["DE"] if len(code) == 2 and code.isupper()
)
"""The sixteen Länder codes (ISO 3166-2:DE without the country), e.g. ``NW``, ``BE``, ``BY``."""

_ONE_DAY = timedelta(days=1)


class UnknownLandError(ValueError):
    """The code names no German Land."""

    def __init__(self, land: str) -> None:
        super().__init__(
            f"unknown German Land {land!r}; expected one of {', '.join(sorted(LANDS))}"
        )
        self.land = land


class WorkingCalendar:
    """Working days of one Land: Monday to Friday minus its public holidays.

    Holidays are loaded per year on first use; instances are safe to share between threads.
    """

    def __init__(self, land: str) -> None:
        if land not in LANDS:
            raise UnknownLandError(land)
        self.land = land
        self._years: dict[int, frozenset[date]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.land!r})"

    def _holidays(self, year: int) -> frozenset[date]:
        days = self._years.get(year)
        if days is None:
            with self._lock:
                days = self._years.get(year)
                if days is None:
                    loaded = holidays.country_holidays("DE", subdiv=self.land, years=year)
                    days = frozenset(loaded.keys())
                    self._years[year] = days
        return days

    def is_holiday(self, d: date) -> bool:
        return d in self._holidays(d.year)

    def is_working_day(self, d: date) -> bool:
        return d.weekday() < 5 and not self.is_holiday(d)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``n = 0``: start or the next working day)."""
        if n < 0:
            raise ValueError(f"cannot add a negative number of working days ({n})")
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += _ONE_DAY
            return day
        counted = 0
        while counted < n:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in ``(a, b]``; ``-working_days_between(b, a)`` when ``b < a``."""
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a + _ONE_DAY
        while day <= b:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count


@lru_cache(maxsize=32)
def calendar_for(land: str) -> WorkingCalendar:
    """The shared calendar of a Land (one per code for the life of the process)."""
    return WorkingCalendar(land)


class DeadlineFlag(StrEnum):
    """How a case stands against its deadline (codes; the UI shows them in German)."""

    PAUSED = "paused"
    OVERDUE = "overdue"
    AT_RISK = "at_risk"
    ON_TRACK = "on_track"


@dataclass(frozen=True)
class Pause:
    """Waiting for the citizen from ``start`` until ``end`` (None: still waiting)."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"pause ends ({self.end}) before it starts ({self.start})")

    @property
    def is_open(self) -> bool:
        return self.end is None

    def working_days(self, calendar: WorkingCalendar, today: date) -> int:
        """The working days this pause moves the deadline by, as of ``today``."""
        until = today if self.end is None else self.end
        return max(0, calendar.working_days_between(self.start, until))


@dataclass(frozen=True)
class DeadlineState:
    due_on: date
    working_days_left: int
    """Working days from today to the due date; negative: working days overdue."""
    flag: DeadlineFlag


@dataclass(frozen=True)
class Deadline:
    """One case's processing deadline from plain facts.

    ``budget_days`` working days (at least one) from ``started_on``, plus ``extension_days``
    granted later, plus the working days spent in ``pauses`` (at most one of them open).
    """

    started_on: date
    budget_days: int
    pauses: tuple[Pause, ...] = ()
    extension_days: int = 0

    def __post_init__(self) -> None:
        if self.budget_days < 1:
            raise ValueError(f"budget_days must be at least 1 (got {self.budget_days})")
        if self.extension_days < 0:
            raise ValueError(f"extension_days must not be negative (got {self.extension_days})")
        if sum(1 for p in self.pauses if p.is_open) > 1:
            raise ValueError("a deadline can have at most one open pause")

    @property
    def paused_since(self) -> date | None:
        """Start of the open pause, None when not paused."""
        return next((p.start for p in self.pauses if p.is_open), None)

    def due_on(self, calendar: WorkingCalendar, today: date) -> date:
        shift = sum(p.working_days(calendar, today) for p in self.pauses)
        return calendar.add_working_days(
            self.started_on, self.budget_days + self.extension_days + shift
        )

    def base_due_on(self, calendar: WorkingCalendar) -> date:
        """The due date with an open pause counted as ending the day it began (what a read
        model stores; see ``shift_for_open_pause``)."""
        paused_since = self.paused_since
        return self.due_on(calendar, self.started_on if paused_since is None else paused_since)

    def assess(self, calendar: WorkingCalendar, today: date) -> DeadlineState:
        due = self.due_on(calendar, today)
        left = calendar.working_days_between(today, due)
        if self.paused_since is not None:
            flag = DeadlineFlag.PAUSED
        elif today > due:
            flag = DeadlineFlag.OVERDUE
        elif left <= max(2, self.budget_days // 5):
            flag = DeadlineFlag.AT_RISK
        else:
            flag = DeadlineFlag.ON_TRACK
        return DeadlineState(due_on=due, working_days_left=left, flag=flag)


def shift_for_open_pause(
    calendar: WorkingCalendar, due_on: date, paused_since: date | None, today: date
) -> date:
    """A stored due date moved by the working days an open pause has lasted until ``today``.

    ``due_on`` is ``Deadline.base_due_on`` as of the last event; ``paused_since`` None means
    not paused (``due_on`` is returned unchanged).
    """
    if paused_since is None:
        return due_on
    shift = max(0, calendar.working_days_between(paused_since, today))
    return calendar.add_working_days(due_on, shift)
