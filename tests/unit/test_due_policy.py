"""The due policy, kind by kind (planning.due; the README's table): what a late message does."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from scheduler.catalogue.model import LeadTimes
from scheduler.planning.actions import action_chain, due_times
from scheduler.planning.due import MIN_REPLY_DAYS, Miss, Missed, Send, Verdict, decide
from scheduler.planning.records import Kind
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI

CALENDAR = WorkCalendar()
START = datetime(2027, 2, 17, 13, 0, tzinfo=HELSINKI)  # a Wednesday
CHAIN = due_times(action_chain(START, LeadTimes(), CALENDAR, HELSINKI))


def verdict(kind: Kind, now: datetime, start: datetime = START) -> Verdict:
    due = CHAIN.get(kind, now)
    return decide(kind, due, now, start, CHAIN, CALENDAR, HELSINKI)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=HELSINKI)


@pytest.mark.parametrize("kind", list(Kind))
def test_every_message_goes_on_its_due_time(kind: Kind) -> None:
    on_time = CHAIN.get(kind, START - timedelta(days=10))
    assert isinstance(verdict(kind, on_time), Send)


@pytest.mark.parametrize("kind", [Kind.INVITE, Kind.AGENDA, Kind.REMIND])
def test_a_late_message_about_the_meeting_goes_while_the_meeting_is_ahead(kind: Kind) -> None:
    assert verdict(kind, START - timedelta(minutes=5)) == Send()
    assert verdict(kind, START) == Miss(Missed.MEETING_BEGUN)
    assert verdict(kind, START + timedelta(days=2)) == Miss(Missed.MEETING_BEGUN)


@pytest.mark.parametrize("kind", [Kind.UPDATE, Kind.CANCEL, Kind.ALERT])
def test_a_change_and_an_alert_always_go(kind: Kind) -> None:
    assert verdict(kind, START + timedelta(days=30)) == Send()


def test_the_preparation_reminder_goes_until_the_agenda_is_due() -> None:
    assert verdict(Kind.PREPARE, CHAIN[Kind.AGENDA] - timedelta(hours=1)) == Send()
    assert verdict(Kind.PREPARE, CHAIN[Kind.AGENDA]) == Miss(Missed.AGENDA_DUE)


def test_an_item_request_on_time_asks_for_a_reply_by_the_invitation_day() -> None:
    assert verdict(Kind.REQUEST_ITEMS, CHAIN[Kind.REQUEST_ITEMS]) == Send(date(2027, 1, 27))


def test_a_late_item_request_keeps_its_date_while_there_is_time_to_answer() -> None:
    # A day late (due 20.1.): the invitation day, 27.1., is still four working days away.
    assert CHAIN[Kind.REQUEST_ITEMS].date() == date(2027, 1, 20)
    assert verdict(Kind.REQUEST_ITEMS, at(date(2027, 1, 21))) == Send(date(2027, 1, 27))


def test_a_late_item_request_gets_a_new_date_the_convener_can_still_use() -> None:
    # Thursday 28.1.: the usual date has passed; three working days on is Tuesday 2.2.,
    # before the agenda is due (10.2.).
    found = verdict(Kind.REQUEST_ITEMS, at(date(2027, 1, 28)))
    assert found == Send(date(2027, 2, 2))
    assert isinstance(found, Send) and found.reply_by is not None
    assert found.reply_by > date(2027, 1, 28)
    assert MIN_REPLY_DAYS == 3


def test_an_item_request_with_no_usable_date_left_is_missed() -> None:
    # Monday 8.2.: three working days on is 11.2., after the agenda (10.2.).
    assert verdict(Kind.REQUEST_ITEMS, at(date(2027, 2, 8))) == Miss(Missed.NO_REPLY_TIME)


def test_no_reply_by_date_is_ever_in_the_past() -> None:
    day = CHAIN[Kind.REQUEST_ITEMS].date()
    while day < START.date():
        found = verdict(Kind.REQUEST_ITEMS, at(day))
        if isinstance(found, Send):
            assert found.reply_by is not None and found.reply_by > day, day
            assert found.reply_by <= CHAIN[Kind.AGENDA].date(), day
        day += timedelta(days=1)


def test_the_minutes_follow_up_goes_for_four_weeks_after_its_day() -> None:
    due = CHAIN[Kind.MINUTES]
    assert verdict(Kind.MINUTES, due + timedelta(weeks=4)) == Send()
    assert verdict(Kind.MINUTES, due + timedelta(weeks=4, minutes=1)) == Miss(Missed.FOLLOW_UP_LATE)
