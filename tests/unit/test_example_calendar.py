"""The shipped school-holiday calendar: an example, clearly labelled, that covers the whole
council term 2025-06-01..2029-05-31 in the usual Keski-Suomi pattern (autumn break in week 42,
Christmas 22.12.–6.1., winter break in week 9)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from icalendar import Calendar

from scheduler.catalogue.blackouts import load_blackouts
from tests.conftest import ROOT

FILE = ROOT / "calendars" / "koulujen-lomat-keski-suomi-ESIMERKKI.ics"


def week(year: int, number: int) -> list[date]:
    """Monday to Friday of ISO week ``number``."""
    monday = date.fromisocalendar(year, number, 1)
    return [monday + timedelta(days=d) for d in range(5)]


def when(event: Any, key: str) -> date:
    value: date = event[key].dt
    return value


def christmas(year: int) -> list[date]:
    first = date(year, 12, 22)
    return [first + timedelta(days=d) for d in range((date(year + 1, 1, 6) - first).days + 1)]


def test_the_example_is_labelled_as_one() -> None:
    calendar = Calendar.from_ical(FILE.read_bytes().decode("utf-8"))
    assert "ESIMERKKI" in FILE.name and "ESIMERKKI" in str(calendar["X-WR-CALNAME"])
    assert "2025–2029" in str(calendar["X-WR-CALNAME"])
    events = list(calendar.walk("VEVENT"))
    assert all(str(event["SUMMARY"]).endswith(" (esimerkki)") for event in events)
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids))
    for event in events:  # all-day, DTEND exclusive and after DTSTART
        start, end = when(event, "DTSTART"), when(event, "DTEND")
        assert not isinstance(start, datetime) and not isinstance(end, datetime), event["UID"]
        assert end > start, event["UID"]
    assert load_blackouts(ROOT / "calendars").examples == (str(ROOT / "calendars" / FILE.name),)


def test_the_example_covers_the_whole_council_term() -> None:
    days = load_blackouts(ROOT / "calendars").days
    expected = [*week(2025, 42), *christmas(2025)]
    for year in (2026, 2027, 2028):
        expected += [*week(year, 9), *week(year, 42), *christmas(year)]
    expected += week(2029, 9)
    assert [d for d in expected if d not in days] == []
    assert days[date(2025, 12, 22)] == "Joululoma 2025–2026 (esimerkki)"
    assert days[date(2025, 10, 15)] == "Syysloma 2025 (esimerkki)"
    assert date(2026, 1, 7) not in days and date(2025, 12, 21) not in days  # DTEND is exclusive
    assert date(2025, 10, 18) not in days  # Saturday after the autumn break
    assert min(days) >= date(2025, 6, 1) and max(days) <= date(2029, 5, 31)
