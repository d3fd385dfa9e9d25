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

from scheduler.planning.planner import Meeting

PRODID = "-//yhdyspinta//yhdyspinta 0.1//FI"
_STATUS = {"planned": "TENTATIVE", "unconfirmed": "TENTATIVE", "fixed": "CONFIRMED", "held": "CONFIRMED",
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
    return b"".join([
        b"BEGIN:VCALENDAR\r\n",
        _line("PRODID", vText(PRODID)),
        _line("VERSION", vText("2.0")),
        _line("CALSCALE", vText("GREGORIAN")),
        _line("X-WR-CALNAME", vText(name)),
        _line("X-WR-TIMEZONE", vText(tzid)),
        _vtimezone_bytes(tzid),
    ])


@lru_cache(maxsize=8)
def _vtimezone_bytes(tzid: str) -> bytes:
    raw: bytes = vtimezone(tzid).to_ical()
    return raw


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
    return _fold(str(content).encode("utf-8")) + b"\r\n"


def _fold(raw: bytes) -> bytes:
    """RFC 5545 3.1 folding: at most 75 octets a line, never inside a UTF-8 sequence.

    Like icalendar's own folding (which walks the line a character at a time, the largest
    cost of a national export), a backslash escape is never split across lines.
    """
    if len(raw) < _FOLD_AT:
        return raw
    pieces = []
    start = 0
    while len(raw) - start >= _FOLD_AT:
        end = start + _FOLD_AT - 1
        while raw[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back to its start
            end -= 1
        if raw[end - 1] in b"\\^":  # keep a TEXT or RFC 6868 escape with what it escapes
            end -= 1
        pieces.append(raw[start:end])
        start = end
    pieces.append(raw[start:])
    return b"\r\n ".join(pieces)


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
