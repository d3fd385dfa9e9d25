"""``held --import FILE.ics``: the past meetings of an exported calendar recorded as held
(issue 11). Each event of the file is matched to one meeting of the stored schedule, and
that meeting is recorded as ``changes.held`` records it: nothing is sent, and the
organisations present are not guessed (the attendees of a calendar are personal data and
are neither read nor kept; ``held UID --present ...`` adds them).

How an event finds its meeting, conservatively (a wrong "held" is worse than a line to
check by hand):

1. By UID: the event carries the UID of a stored meeting (our invitations and feeds), or
   the iCalUId the calendar server gave the event we created (Graph, ``remote_ical_uid``).
   The UID decides: if the event's day is not the meeting's, it is listed, not recorded,
   with the ``held UID --on DATE`` that records it.
2. Otherwise by body and date: the event's SUMMARY names one body of the catalogue (its
   name in Finnish, Swedish or English, as a whole phrase, case and dashes aside; the name
   without a trailing "(...)" also counts), and exactly one meeting of that body is stored
   on the event's day (in the installation's time zone). A SUMMARY that also names a group
   ("Kuntaryhmä 2") chooses among that body's meetings of the day. No nearest date, no
   guessing: anything else is listed with the reason.

An event is skipped, with the reason, when it is cancelled in the calendar
(``STATUS:CANCELLED``), has not begun yet (an all-day event: its day is after today), or
repeats (RRULE; our meetings never do). A meeting recorded held already is reported as
such, not as an error: importing the same file twice records nothing twice.

DTSTART may be a time with TZID (an unknown TZID is read as local time), in UTC, floating
(local time) or an all-day DATE. A file that is missing, unreadable or not iCalendar is a
``UserError`` naming the file, before anything is written.

Exit status (the command line): 0 whenever the file was read, even if no event matched;
the lists say what was not recorded, and a calendar of meetings already recorded, or of
other meetings only, is no failure. Exit 1 stays what it is elsewhere, a failure of ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from scheduler.catalogue.model import Catalogue, Names
from scheduler.errors import UserError
from scheduler.planning.records import MeetingRecord, MeetingStatus

from .bootstrap import Services
from .changes import held
from .enqueue import raise_alerts
from .feeds import write_feeds
from .schedule import refresh


class Outcome(StrEnum):
    RECORDED = "recorded"  # recorded held now
    ALREADY = "already"  # held already in the schedule: nothing written
    SKIPPED = "skipped"  # not to be imported (cancelled, not yet past, recurring)
    UNMATCHED = "unmatched"  # no one meeting of the schedule found


class Why(StrEnum):
    """Why an event was not recorded; the command line words each one."""

    CANCELLED_EVENT = "cancelled-event"
    AHEAD = "ahead"
    RECURRING = "recurring"
    NO_START = "no-start"  # params: detail
    NO_BODY = "no-body"
    BODIES = "bodies"  # the title names several bodies; params: bodies
    NO_MEETING = "no-meeting"  # params: body, day
    MEETINGS = "meetings"  # several meetings of the body that day; params: body, day, uids
    OTHER_DAY = "other-day"  # matched by UID, stored on another day; params: uid, planned, day
    CANCELLED_MEETING = "cancelled-meeting"  # params: uid
    REFUSED = "refused"  # ``held`` refused it; params: detail


@dataclass(frozen=True)
class CalendarEvent:
    """What is read of one VEVENT: no attendees, no description."""

    uid: str
    summary: str
    day: date | None  # the day it begins, in the installation's time zone
    start: datetime | None  # None for an all-day event (or no readable start)
    cancelled: bool = False
    recurring: bool = False
    unreadable: str | None = None  # why its DTSTART could not be read


@dataclass(frozen=True)
class Imported:
    """One event of the file and what became of it."""

    event: CalendarEvent
    outcome: Outcome
    record: MeetingRecord | None = None
    by: str | None = None  # "UID" or "body and date", for a matched event
    why: Why | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    file: Path
    events: tuple[Imported, ...]

    def of(self, outcome: Outcome) -> list[Imported]:
        return [e for e in self.events if e.outcome is outcome]


def import_held(services: Services, path: Path, now: datetime) -> ImportResult:
    """Record as held every past meeting of the schedule that an event of ``path`` matches;
    say for each other event why not. The schedule is brought up to date first, and planned
    again around what was recorded (the coordinator's alerts queued, the feeds rewritten)."""
    events = read_events(path, services.tz)
    refresh(services, now, read_calendars=False)
    matcher = _Matcher(services, now)
    done = tuple(matcher.take(event) for event in events)
    if any(e.outcome is Outcome.RECORDED for e in done):
        raise_alerts(services, refresh(services, now, read_calendars=False).plan, now)
        write_feeds(services, Path(services.settings.delivery.feeds),
                    services.settings.planning.language, now)
    return ImportResult(path, done)


def read_events(path: Path, tz: ZoneInfo) -> list[CalendarEvent]:
    """The VEVENTs of an iCalendar file, in the order of their days; ``UserError`` naming
    the file if it cannot be read as one."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: a folder; give the .ics file exported from the calendar") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8; export the calendar as UTF-8") from None
    try:
        components = Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise UserError(f"{path}: not a valid iCalendar file: {exc}") from None
    calendars = [c for c in components if c.name == "VCALENDAR"]
    if not calendars:
        raise UserError(f"{path}: not an iCalendar file (no BEGIN:VCALENDAR ... END:VCALENDAR)")
    events = [_event(e, tz) for calendar in calendars for e in calendar.walk("VEVENT")]
    return sorted(events, key=lambda e: (e.day or date.min, e.summary, e.uid))


def _event(component: Any, tz: ZoneInfo) -> CalendarEvent:
    uid = str(component.get("UID", "")).strip()
    summary = "".join(c for c in " ".join(str(component.get("SUMMARY", "")).split())
                      if c.isprintable())  # shown on a terminal: no control characters
    cancelled = str(component.get("STATUS", "")).strip().upper() == "CANCELLED"
    recurring = "RRULE" in component or "RDATE" in component
    base = CalendarEvent(uid, summary, None, None, cancelled, recurring)
    if "DTSTART" not in component:
        return replace(base, unreadable="it has no DTSTART")
    try:  # icalendar parses lazily: a broken DTSTART fails on access
        value = component["DTSTART"].dt
    except ValueError as exc:
        return replace(base, unreadable=f"its DTSTART cannot be read ({exc})")
    if isinstance(value, datetime):
        local = (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(tz)
        return replace(base, day=local.date(), start=local)
    if isinstance(value, date):
        return replace(base, day=value)
    return replace(base, unreadable=f"its DTSTART is not a date ({value!r})")


class _Matcher:
    """The stored schedule, indexed once, and the rules above applied event by event."""

    def __init__(self, services: Services, now: datetime) -> None:
        self.services, self.now = services, now
        self.today = now.astimezone(services.tz).date()
        catalogue = services.catalogue
        stored = [r for r in services.store.all_meetings() if r.body in catalogue.bodies]
        self.by_uid = {r.uid: r.uid for r in stored}
        self.by_uid.update({r.remote_ical_uid: r.uid for r in stored
                            if r.remote_ical_uid and r.remote_ical_uid not in self.by_uid})
        self.by_day: dict[tuple[str, date], list[str]] = {}
        for record in stored:
            day = record.start.astimezone(services.tz).date()
            self.by_day.setdefault((record.body, day), []).append(record.uid)
        self.bodies = _phrases((body.id, body.name) for body in catalogue.bodies.values())
        self.groups = _phrases(_group_names(catalogue))

    def take(self, event: CalendarEvent) -> Imported:
        if event.unreadable is not None or event.day is None:
            return Imported(event, Outcome.UNMATCHED, why=Why.NO_START,
                            params={"detail": event.unreadable or "no start"})
        if event.recurring:
            return Imported(event, Outcome.SKIPPED, why=Why.RECURRING)
        if event.cancelled:
            return Imported(event, Outcome.SKIPPED, why=Why.CANCELLED_EVENT)
        if (event.start > self.now) if event.start else (event.day > self.today):
            return Imported(event, Outcome.SKIPPED, why=Why.AHEAD)
        uid = self.by_uid.get(event.uid)
        if uid is not None:
            return self._record(event, uid, "UID")
        found = self._by_body_and_day(event, event.day)
        if isinstance(found, Imported):
            return found
        return self._record(event, found, "body and date")

    def _by_body_and_day(self, event: CalendarEvent, day: date) -> Imported | str:
        named = _named(self.bodies, event.summary)
        if not named:
            return Imported(event, Outcome.UNMATCHED, why=Why.NO_BODY)
        if len(named) > 1:
            return Imported(event, Outcome.UNMATCHED, why=Why.BODIES, params={"bodies": named})
        body = label = named[0]
        uids = self.by_day.get((body, day), [])
        records = [r for r in map(self.services.store.meeting, uids) if r is not None]
        if len(records) > 1:  # a cancelled meeting and its replacement on the same day
            records = [r for r in records if not r.cancelled] or records
        groups = sorted(_named(self.groups, event.summary))
        if groups and any(r.group for r in records):  # "HYTE-neuvottelut, Kuntaryhmä 2"
            records = [r for r in records if r.group in groups]
            label = f"{body} ({', '.join(groups)})"
        if not records:
            return Imported(event, Outcome.UNMATCHED, why=Why.NO_MEETING,
                            params={"body": label, "day": day})
        if len(records) > 1:
            return Imported(event, Outcome.UNMATCHED, why=Why.MEETINGS,
                            params={"body": label, "day": day,
                                    "uids": sorted(r.uid for r in records)})
        return records[0].uid

    def _record(self, event: CalendarEvent, uid: str, by: str) -> Imported:
        record = self.services.store.meeting(uid)
        assert record is not None and event.day is not None
        if record.status is MeetingStatus.HELD:
            return Imported(event, Outcome.ALREADY, record, by)
        if record.cancelled:
            return Imported(event, Outcome.UNMATCHED, record, by, Why.CANCELLED_MEETING,
                            {"uid": uid})
        planned = record.start.astimezone(self.services.tz).date()
        if planned != event.day:
            return Imported(event, Outcome.UNMATCHED, record, by, Why.OTHER_DAY,
                            {"uid": uid, "planned": planned, "day": event.day})
        try:
            done = held(self.services, uid, self.now)
        except UserError as refused:
            return Imported(event, Outcome.UNMATCHED, record, by, Why.REFUSED,
                            {"detail": str(refused)})
        return Imported(event, Outcome.RECORDED, done, by)


# -- names in a title --------------------------------------------------------------------------

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def _normal(text: str) -> str:
    return " ".join(text.translate(_DASHES).casefold().split())


def _phrases(named: Iterable[tuple[str, Names]]) -> list[tuple[str, re.Pattern[str]]]:
    """For each id, one pattern per spelling of its name: fi, sv, en, each also without a
    trailing "(...)" ("Keski-Suomen turvallisuus- ja valmiustoimikunta (KSTURVA)")."""
    found = []
    for ident, names in named:
        spellings = {_normal(n) for name in (names.fi, names.sv, names.en)
                     for n in (name, _TRAILING_NOTE.sub("", name)) if n.strip()}
        found += [(ident, re.compile(rf"(?<!\w){re.escape(s)}(?!\w)")) for s in spellings]
    return found


def _named(phrases: list[tuple[str, re.Pattern[str]]], summary: str) -> list[str]:
    """The ids whose name ``summary`` contains; a name found only inside a longer name of
    another id does not count (a title naming "X-verkosto, pohjoinen alue" names that body,
    not also a body called "X-verkosto")."""
    text = _normal(summary)
    spans: dict[str, tuple[int, int]] = {}
    for ident, pattern in phrases:
        for match in pattern.finditer(text):
            best = spans.get(ident)
            if best is None or match.end() - match.start() > best[1] - best[0]:
                spans[ident] = match.span()
    return sorted(ident for ident, (start, end) in spans.items()
                  if not any(other != ident and o_start <= start and end <= o_end
                             and (o_start, o_end) != (start, end)
                             for other, (o_start, o_end) in spans.items()))


def _group_names(catalogue: Catalogue) -> Iterator[tuple[str, Names]]:
    for grouping in catalogue.groupings.values():
        for member in grouping.members:
            yield member.id, member.name
