"""The due policy: whether a message still goes when its time has come and gone without it
going out (downtime, a late first run, a meeting moved or added at short notice), one rule
per kind (README, "Myöhässä olevat viestit / Late messages").

Participants always learn of a meeting that is still ahead: an invitation goes at once,
however late, while the meeting is ahead; an update or a cancellation always goes, as a
change reaches everyone who was told (their calendars keep a true record, even of a meeting
already past). A reminder goes late only while it still helps.
An agenda-item request never asks for a reply by a date already past: it gets a new
reply-by date the convener can still use, or is missed. Whatever does not go is recorded as
missed with the reason here; nothing disappears. Pure: the clock comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .records import Kind
from .workdays import WorkCalendar

# Working days a member organisation is given, at least, to answer a late agenda-item
# request (the chain's own gap between request and invitation is a week).
MIN_REPLY_DAYS = 3
# How late the minutes follow-up may still come: past this, the convener has long moved on.
MINUTES_LATE_LIMIT = timedelta(weeks=4)


class Missed(StrEnum):
    """Why a message did not go."""

    MEETING_BEGUN = "meeting-begun"  # the meeting has begun: telling of it no longer helps
    AGENDA_DUE = "agenda-due"  # preparation: the agenda is due already; its reminder goes
    NO_REPLY_TIME = "no-reply-time"  # item request: no usable reply-by date before the agenda
    FOLLOW_UP_LATE = "follow-up-late"  # minutes follow-up: more than four weeks late


@dataclass(frozen=True)
class Send:
    """The message goes; an agenda-item request with this reply-by date."""

    reply_by: date | None = None


@dataclass(frozen=True)
class Miss:
    reason: Missed


Verdict = Send | Miss


def decide(kind: Kind, due: datetime, now: datetime, start: datetime,
           chain: Mapping[Kind, datetime], calendar: WorkCalendar, tz: ZoneInfo) -> Verdict:
    """What becomes of a ``kind`` message due at ``due`` about a meeting starting at
    ``start``, at ``now``. ``chain`` is the meeting's action chain (kind -> due time)."""
    if kind in (Kind.ALERT, Kind.UPDATE, Kind.CANCEL):
        return Send()  # the coordinator must know; whoever was told must hear of a change
    if kind is Kind.MINUTES:
        return Send() if now <= due + MINUTES_LATE_LIMIT else Miss(Missed.FOLLOW_UP_LATE)
    if now >= start:
        return Miss(Missed.MEETING_BEGUN)
    if kind is Kind.PREPARE:
        return Send() if now < chain[Kind.AGENDA] else Miss(Missed.AGENDA_DUE)
    if kind is Kind.REQUEST_ITEMS:
        return _item_request(due, now, chain, calendar, tz)
    return Send()  # invite, agenda, remind: while the meeting is ahead


def _item_request(due: datetime, now: datetime, chain: Mapping[Kind, datetime],
                  calendar: WorkCalendar, tz: ZoneInfo) -> Verdict:
    """The reply-by date is the invitation's day (the agenda is drawn up after it). Sent on
    its day or earlier, the request keeps it; sent late, it keeps it only while at least
    MIN_REPLY_DAYS working days remain, else it asks for a reply MIN_REPLY_DAYS working
    days from now, if that is still before the agenda is due."""
    today = now.astimezone(tz).date()
    usual = chain[Kind.INVITE].astimezone(tz).date()
    earliest = _working_days_after(today, MIN_REPLY_DAYS, calendar)
    on_time = today <= due.astimezone(tz).date()
    if usual >= earliest or (on_time and usual >= today):
        return Send(reply_by=usual)
    if earliest <= chain[Kind.AGENDA].astimezone(tz).date():
        return Send(reply_by=earliest)
    return Miss(Missed.NO_REPLY_TIME)


def _working_days_after(day: date, count: int, calendar: WorkCalendar) -> date:
    while count:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day
