"""Known meetings of bodies/ and the stored schedule (issue 9): a date decided elsewhere and
written into a body's ``meetings:`` takes the place of the meeting already scheduled for
that body and period, keeping its UID, instead of becoming a second meeting.

Matching: a known meeting is the stored meeting that already stands for it (the same date
and group in ``known``), or the one with its own UID (``<body>-<date>@…``); failing both,
the body's scheduled, still planned meeting of the same group in the same year (the same
council term for a body counted per term) that is nearest to the date and stands for no
other known meeting. One written ``extra: true`` is never matched: it is a meeting of its
own. Pure: records in, changed records out; the caller stores them and tells whoever the
change concerns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from scheduler.catalogue.model import Body, Catalogue, KnownMeeting, PerTerm, PerYear
from scheduler.planning.planner import known_key, known_stamp, stamp_key
from scheduler.planning.records import MeetingRecord, MeetingStatus


def reconcile_known(catalogue: Catalogue, records: Mapping[str, MeetingRecord], tz: ZoneInfo,
                    uid_domain: str) -> list[tuple[MeetingRecord, MeetingRecord]]:
    """(before, after) for each stored meeting a known meeting changes."""
    changes: list[tuple[MeetingRecord, MeetingRecord]] = []
    taken: set[str] = set()
    by_body: dict[str, list[MeetingRecord]] = {}
    for stored in records.values():
        by_body.setdefault(stored.body, []).append(stored)
    for body in catalogue.bodies.values():
        if not body.meetings:
            continue
        mine = by_body.get(body.id, [])
        keys = {known_key(known) for known in body.meetings}
        standing = {stamp_key(r.known): r for r in mine if stamp_key(r.known) in keys}
        for known in body.meetings:
            key = known_key(known)
            record = standing.get(key) or records.get(f"{body.id}-{key}@{uid_domain}")
            if record is None and not known.extra:
                record = _candidate(catalogue, body, known, mine, keys, taken)
            if record is None:
                continue  # the planner adds it as a meeting of its own
            taken.add(record.uid)
            if record.known == known_stamp(known):
                continue  # applied already: a person's later move or cancel stands
            after = _as_known(record, known, tz)
            if after != record:
                changes.append((record, after))
    return changes



def _candidate(catalogue: Catalogue, body: Body, known: KnownMeeting,
               mine: list[MeetingRecord], keys: set[str], taken: set[str]
               ) -> MeetingRecord | None:
    period = _period(catalogue, body, known)
    found = [r for r in mine
             if r.group == known.group and r.uid not in taken
             and r.status is MeetingStatus.PLANNED and stamp_key(r.known) not in keys
             and period[0] <= r.start.date() <= period[1]]
    if not found:
        return None
    return min(found, key=lambda r: (abs((r.start.date() - known.date).days), r.uid))


def _period(catalogue: Catalogue, body: Body, known: KnownMeeting) -> tuple[date, date]:
    """The year of the known date; the council term for a body counted only per term."""
    if body.rules_of(PerTerm) and not body.rules_of(PerYear):
        for term in catalogue.region.terms:
            if term.start <= known.date <= term.end:
                return term.start, term.end
    return date(known.date.year, 1, 1), date(known.date.year, 12, 31)


def _as_known(record: MeetingRecord, known: KnownMeeting, tz: ZoneInfo) -> MeetingRecord:
    """``record`` on the known date and in its status, decided; told people get a new
    SEQUENCE when the date or the status changes what they hold."""
    clock = known.start or record.start.astimezone(tz).time()
    start = datetime.combine(known.date, time(clock.hour, clock.minute), tzinfo=tz)
    status = MeetingStatus(known.status)
    moved = start != record.start
    news = record.communicated and (moved or (status is MeetingStatus.CANCELLED
                                              and not record.cancelled))
    return replace(
        record, start=start, end=start + (record.end - record.start), status=status,
        known=known_stamp(known), committed=True,
        moved=record.moved or (moved and record.communicated),
        previous=record.start if moved and record.communicated else record.previous,
        sequence=record.sequence + 1 if news else record.sequence,
    )
