"""Which days a meeting may fall on: Finnish working days minus blackout periods.

Pure: the blackout dates come in from ``calendars`` (the edge); the holidays come from the
``holidays`` package (FI, public holidays only, which includes Midsummer Eve and Christmas
Eve; the WORKDAY category would wrongly turn flag days into days off, tech.md section 7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays


@dataclass(frozen=True)
class Blocked:
    """Why a day is not available: ``kind`` is weekend, holiday or blackout."""

    kind: str
    label: str


@dataclass
class WorkCalendar:
    """Finnish working days, blackout dates and blackout months."""

    blackouts: Mapping[date, str] = field(default_factory=dict)
    blackout_months: frozenset[int] = frozenset()
    _holidays: holidays.HolidayBase = field(init=False, repr=False)
    _cache: dict[date, Blocked | None] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._holidays = holidays.country_holidays("FI", language="fi")

    def blocked(self, day: date) -> Blocked | None:
        """Why ``day`` cannot hold a meeting, or ``None`` when it can."""
        if day in self._cache:
            return self._cache[day]
        result: Blocked | None = None
        if day.weekday() >= 5:
            result = Blocked("weekend", "")
        elif day in self._holidays:
            result = Blocked("holiday", str(self._holidays.get(day)))
        elif day in self.blackouts:
            result = Blocked("blackout", self.blackouts[day])
        elif day.month in self.blackout_months:
            result = Blocked("blackout-month", "")
        self._cache[day] = result
        return result

    def is_free(self, day: date) -> bool:
        return self.blocked(day) is None

    def is_working_day(self, day: date) -> bool:
        """Weekends and public holidays excluded; blackouts do not count here."""
        return day.weekday() < 5 and day not in self._holidays

    def previous_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day


def expand_ranges(ranges: Iterable[tuple[date, date, str]]) -> dict[date, str]:
    """``[(first, last_inclusive, label)]`` -> ``{day: label}``; the first label wins."""
    days: dict[date, str] = {}
    for first, last, label in ranges:
        day = first
        while day <= last:
            days.setdefault(day, label)
            day += timedelta(days=1)
    return days
