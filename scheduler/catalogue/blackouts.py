"""Read the blackout calendars in ``calendars/``: iCalendar files whose events mark days on
which no meeting may be planned (school holidays, council meeting days). The edge: every
problem is collected and raised as one ``UserError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar

from scheduler.errors import Problem, UserError
from scheduler.planning.workdays import expand_ranges


@dataclass(frozen=True)
class Blackouts:
    """Blacked-out days, and the files that call themselves unverified examples."""

    days: dict[date, str]
    examples: tuple[str, ...] = ()
    missing: str | None = None  # the configured directory, when it does not exist


def load_blackouts(directory: Path) -> Blackouts:
    """Every blacked-out day of every ``*.ics`` file in ``directory``, labelled by SUMMARY."""
    if not directory.is_dir():
        return Blackouts({}, missing=str(directory))
    problems: list[Problem] = []
    ranges: list[tuple[date, date, str]] = []
    examples: list[str] = []
    for path in sorted(directory.glob("*.ics")):
        ranges.extend(_read_file(path, problems, examples))
    if problems:
        raise UserError(f"{directory}: the blackout calendars have problems", problems)
    return Blackouts(expand_ranges(ranges), tuple(examples))


def _read_file(
    path: Path, problems: list[Problem], examples: list[str]
) -> list[tuple[date, date, str]]:
    try:
        calendar = Calendar.from_ical(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(str(path), "not UTF-8; save the file as UTF-8"))
        return []
    except ValueError as exc:
        problems.append(Problem(str(path), f"not a valid iCalendar file: {exc}"))
        return []
    name = str(calendar.get("X-WR-CALNAME", ""))
    if any(word in name.upper() for word in ("ESIMERKKI", "EXEMPEL", "EXAMPLE")):
        examples.append(str(path))
    ranges = []
    for i, event in enumerate(calendar.walk("VEVENT")):
        where = f"VEVENT[{i}] {event.get('UID', '')}".strip()
        try:
            found = _event_range(event, where, str(path), problems)
        except ValueError as exc:  # icalendar parses lazily: a broken DTSTART fails on access
            problems.append(Problem(str(path), f"unreadable date: {exc}", path=where))
            continue
        if found:
            ranges.append(found)
    return ranges


def _event_range(
    event: Any, where: str, file: str, problems: list[Problem]
) -> tuple[date, date, str] | None:
    if "RRULE" in event:
        problems.append(Problem(file, "recurring events are not supported; list each period", path=where))
        return None
    if "DTSTART" not in event:
        problems.append(Problem(file, "DTSTART is missing", path=where))
        return None
    first = _as_date(event["DTSTART"].dt)
    if "DTEND" in event:
        end = event["DTEND"].dt
        # RFC 5545 3.6.1: an all-day DTEND is exclusive; a timed end covers its own day.
        last = _as_date(end) - timedelta(days=1) if not isinstance(end, datetime) else _as_date(end)
    elif "DURATION" in event:
        last = _as_date(event["DTSTART"].dt + event["DURATION"].dt) - timedelta(days=1)
    else:
        last = first
    if last < first:
        problems.append(Problem(file, f"ends ({last}) before it starts ({first})", path=where))
        return None
    return first, last, str(event.get("SUMMARY", "estoaika"))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
