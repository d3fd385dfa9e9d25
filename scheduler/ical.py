"""Meetings as iCalendar (RFC 5545): the Outlook-friendly VTIMEZONE and per-body feeds.

Pure: bytes out, no files. Events are built with ``icalendar`` (never by string
concatenation, so titles cannot inject properties); what repeats in every file, the
VCALENDAR header and the VTIMEZONE, is serialised once and reused, so a national-scale
export streams body by body in bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur
from icalendar.parser import Contentline, Parameters
from icalendar.prop import vCategory, vDDDTypes, vInt, vText

from .planner import Meeting

PRODID = "-//yhdyspinta//yhdyspinta 0.1//FI"
_STATUS = {"planned": "TENTATIVE", "fixed": "CONFIRMED", "held": "CONFIRMED",
           "cancelled": "CANCELLED"}
_END_CALENDAR = b"END:VCALENDAR\r\n"
_FOLD_AT = 75  # RFC 5545 3.1: lines longer than 75 octets are folded


@lru_cache(maxsize=8)
def vtimezone(tzid: str) -> Timezone:
    """The VTIMEZONE in RRULE form (tech.md section 1: Outlook mishandles the RDATE form).

    European zones follow the EU rule (last Sunday of March and of October, 01:00 UTC); the
    result is checked against zoneinfo for 2000-2040 and other zones fall back to what
    ``icalendar`` derives from the tz database.
    """
    tz = ZoneInfo(tzid)
    winter = datetime(2026, 1, 15, tzinfo=tz).utcoffset() or timedelta(0)
    summer = datetime(2026, 7, 15, tzinfo=tz).utcoffset() or timedelta(0)
    component = _eu_rule_vtimezone(tzid, winter, summer)
    if component is None or not _matches_zoneinfo(tz, winter, summer):
        calendar = Calendar()
        calendar.add_component(_probe_event(tz))
        calendar.add_missing_timezones(first_date=date(2020, 1, 1), last_date=date(2040, 1, 1))
        found = [c for c in calendar.walk("VTIMEZONE") if isinstance(c, Timezone)]
        return found[0] if found else Timezone()
    return component


def _eu_rule_vtimezone(tzid: str, winter: timedelta, summer: timedelta) -> Timezone | None:
    if not tzid.startswith("Europe/") or winter == summer:
        return None
    one_utc = timedelta(hours=1)
    component = Timezone()
    component.add("TZID", tzid)
    for part, month, before, after, name in (
        (TimezoneDaylight(), 3, winter, summer, "EEST" if winter == timedelta(hours=2) else "DST"),
        (TimezoneStandard(), 10, summer, winter, "EET" if winter == timedelta(hours=2) else "STD"),
    ):
        first_sunday = _last_sunday(1970, month)
        part.add("DTSTART", datetime.combine(first_sunday, datetime.min.time()) + one_utc + before)
        part.add("RRULE", vRecur(FREQ="YEARLY", BYMONTH=month, BYDAY="-1SU"))
        part.add("TZOFFSETFROM", before)
        part.add("TZOFFSETTO", after)
        part.add("TZNAME", name)
        component.add_component(part)
    return component


def _matches_zoneinfo(tz: ZoneInfo, winter: timedelta, summer: timedelta) -> bool:
    for year in range(2000, 2041):
        for month, before, after in ((3, winter, summer), (10, summer, winter)):
            change = datetime.combine(_last_sunday(year, month), datetime.min.time(), tzinfo=ZoneInfo("UTC"))
            change += timedelta(hours=1)
            if (change - timedelta(minutes=1)).astimezone(tz).utcoffset() != before:
                return False
            if (change + timedelta(minutes=1)).astimezone(tz).utcoffset() != after:
                return False
    return True


def _last_sunday(year: int, month: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _probe_event(tz: ZoneInfo) -> Event:
    event = Event()
    event.add("DTSTART", datetime(2026, 1, 1, 12, tzinfo=tz))
    return event


def feed_header(tzid: str, name: str) -> bytes:
    """``BEGIN:VCALENDAR`` ... VTIMEZONE, without the closing line: events follow."""
    return _cached_header(tzid, name)


@lru_cache(maxsize=4096)
def _cached_header(tzid: str, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("X-WR-CALNAME", name)
    calendar.add("X-WR-TIMEZONE", tzid)
    calendar.add_component(vtimezone(tzid))
    raw: bytes = calendar.to_ical()
    assert raw.endswith(_END_CALENDAR)
    return raw[: -len(_END_CALENDAR)]


class FeedEvents:
    """Serialises the VEVENTs of a subscribable feed (no METHOD: RFC 5546 is for invitations).

    Every property goes through ``icalendar``'s own value types (escaping, RFC 5545 3.3.11)
    and content lines (folding, 3.1); what repeats is serialised once and reused: DTSTAMP for
    the whole run, LOCATION and CATEGORIES per body. Building a full ``Event`` per meeting
    costs about 0.3 ms, too slow for a national-scale export (issue 2).
    """

    def __init__(self, stamp: datetime) -> None:
        self._stamp = _line("DTSTAMP", vDDDTypes(stamp.astimezone(UTC)))
        self._per_body: dict[tuple[str, str | None], bytes] = {}

    def event(self, meeting: Meeting, *, title: str, description: str, location: str | None) -> bytes:
        start, end = vDDDTypes(meeting.start), vDDDTypes(meeting.end)
        parts = [
            b"BEGIN:VEVENT\r\n",
            _line("UID", vText(meeting.uid)),
            self._stamp,
            _line("SEQUENCE", vInt(meeting.sequence)),
            _line("DTSTART", start, start.params),
            _line("DTEND", end, end.params),
            _line("SUMMARY", vText(title)),
            _line("DESCRIPTION", vText(description)),
            _line("STATUS", vText(_STATUS[meeting.status])),
            self._constant(meeting.body, location),
        ]
        if meeting.group:
            parts.append(_line("X-YHDYSPINTA-GROUP", vText(meeting.group)))
        parts.append(b"END:VEVENT\r\n")
        return b"".join(parts)

    def _constant(self, body: str, location: str | None) -> bytes:
        key = (body, location)
        if key not in self._per_body:
            lines = [_line("CATEGORIES", vCategory([body]))]
            if location:
                lines.append(_line("LOCATION", vText(location)))
            self._per_body[key] = b"".join(lines)
        return self._per_body[key]


def _line(name: str, value: Any, params: Parameters | None = None) -> bytes:
    content = Contentline.from_parts(name, params or Parameters(), value)
    raw = str(content).encode("utf-8")
    if len(raw) < _FOLD_AT:  # icalendar's fold walks every character; short lines need none
        return raw + b"\r\n"
    return bytes(content.to_ical()) + b"\r\n"


def write_feed(
    write: Callable[[bytes], object],
    tzid: str,
    name: str,
    events: Iterable[bytes],
) -> None:
    """Stream one calendar: the cached header, the events, the closing line."""
    write(feed_header(tzid, name))
    for event in events:
        write(event)
    write(_END_CALENDAR)
