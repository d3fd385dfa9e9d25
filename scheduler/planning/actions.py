"""The action chain of one meeting: what is due to whom, and when (pure; clock passed in).

From the body's lead times (defaults fit Finnish municipal practice: preparation 6 weeks
before, agenda-item request 4, invitation 3, agenda 1 week, reminder 1 working day before,
minutes follow-up 1 week after). Recomputed from the meeting's current start, so a moved
meeting moves its chain. A due day that is not a working day, or that falls in a blackout
(a holiday break, the Christmas break, July), moves to the last free working day before it
for the messages before the meeting, and to the next one after for the follow-up (issues 3
and 9); the participants' reminder only skips non-working days, as it must come the day
before whatever the break.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from scheduler.catalogue.model import LeadTimes

from .records import Kind
from .workdays import WorkCalendar

Audience = Literal["conveners", "preparers", "members", "participants"]
DUE_AT = time(9, 0)  # office hours: messages go out in the morning, local time

ACTION_KINDS: tuple[Kind, ...] = (
    Kind.PREPARE, Kind.REQUEST_ITEMS, Kind.INVITE, Kind.AGENDA, Kind.REMIND, Kind.MINUTES
)


@dataclass(frozen=True)
class Action:
    kind: Kind
    due: datetime
    audience: tuple[Audience, ...]


def action_chain(start: datetime, lead: LeadTimes, calendar: WorkCalendar, tz: ZoneInfo) -> list[Action]:
    """Every action of a meeting starting at ``start``, in the order they fall due."""
    day = start.astimezone(tz).date()

    def before(delta: timedelta) -> datetime:
        return datetime.combine(_free_on_or_before(day - delta, calendar), DUE_AT, tzinfo=tz)

    reminder_day = _working_on_or_before(day - timedelta(days=1), calendar)
    if lead.remind > timedelta(days=1):
        reminder_day = _working_on_or_before(day - lead.remind, calendar)
    chain = [
        Action(Kind.PREPARE, before(lead.prepare), ("conveners", "preparers")),
        Action(Kind.REQUEST_ITEMS, before(lead.request_items), ("members",)),
        Action(Kind.INVITE, before(lead.invite), ("participants",)),
        Action(Kind.AGENDA, before(lead.agenda), ("conveners",)),
        Action(Kind.REMIND, datetime.combine(reminder_day, DUE_AT, tzinfo=tz), ("participants",)),
        Action(Kind.MINUTES, datetime.combine(_free_on_or_after(day + lead.minutes, calendar),
                                              DUE_AT, tzinfo=tz), ("conveners",)),
    ]
    return sorted(chain, key=lambda action: (action.due, ACTION_KINDS.index(action.kind)))


def due_times(chain: list[Action]) -> dict[Kind, datetime]:
    return {action.kind: action.due for action in chain}


def _working_on_or_before(day: date, calendar: WorkCalendar) -> date:
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _free_on_or_before(day: date, calendar: WorkCalendar) -> date:
    while not calendar.is_free(day):
        day -= timedelta(days=1)
    return day


def _free_on_or_after(day: date, calendar: WorkCalendar) -> date:
    while not calendar.is_free(day):
        day += timedelta(days=1)
    return day
