"""The action chain of a meeting: default lead times, working days only, moves with it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from scheduler.catalogue.model import LeadTimes
from scheduler.planning.actions import action_chain
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI


def chain(start: datetime, lead: LeadTimes | None = None) -> dict[str, datetime]:
    return {a.kind: a.due for a in action_chain(start, lead or LeadTimes(), WorkCalendar(), HELSINKI)}


def test_defaults_fit_municipal_practice() -> None:
    start = datetime(2027, 2, 17, 13, 0, tzinfo=HELSINKI)  # Wednesday
    due = chain(start)
    assert due["prepare"].date() == date(2027, 1, 6) - timedelta(days=1)  # 6.1. is Epiphany
    assert due["request_items"].date() == date(2027, 1, 20)
    assert due["invite"].date() == date(2027, 1, 27)
    assert due["agenda"].date() == date(2027, 2, 10)
    assert due["remind"].date() == date(2027, 2, 16)
    assert due["minutes"].date() == date(2027, 2, 24)
    assert all(moment.hour == 9 and moment.tzinfo is HELSINKI for moment in due.values())


def test_the_chain_is_in_due_order() -> None:
    actions = action_chain(datetime(2027, 5, 18, 13, tzinfo=HELSINKI), LeadTimes(), WorkCalendar(), HELSINKI)
    assert [a.kind for a in actions] == ["prepare", "request_items", "invite", "agenda", "remind", "minutes"]
    assert [a.due for a in actions] == sorted(a.due for a in actions)


def test_reminder_is_one_working_day_before_even_after_a_weekend() -> None:
    monday = datetime(2027, 3, 1, 9, tzinfo=HELSINKI)
    assert chain(monday)["remind"].date() == date(2027, 2, 26)  # Friday


@pytest.mark.parametrize("start_day", [date(2026, 12, 29), date(2027, 1, 12), date(2027, 6, 29),
                                       date(2027, 4, 7), date(2027, 12, 28)])
def test_nothing_falls_due_on_a_non_working_day(start_day: date) -> None:
    calendar = WorkCalendar()
    for lead in (LeadTimes(), LeadTimes.model_validate({"prepare": "P5D", "minutes": "P2D"})):
        for moment in chain(datetime.combine(start_day, datetime.min.time(), tzinfo=HELSINKI), lead).values():
            assert calendar.is_working_day(moment.date()), moment


def test_a_moved_meeting_moves_its_chain() -> None:
    before = chain(datetime(2027, 2, 17, 13, tzinfo=HELSINKI))
    after = chain(datetime(2027, 3, 17, 13, tzinfo=HELSINKI))
    assert all(after[k] > before[k] for k in before)


def test_a_message_due_in_a_blackout_goes_on_the_last_free_working_day_before_it() -> None:
    """Issue 9: the preparation mail of kuntakokous 2028 fell on 30.12.2027, in the break."""
    days = {date(2027, 12, 18) + timedelta(days=n): "joulutauko" for n in range(20)}  # -6.1.
    calendar = WorkCalendar(days)
    due: dict[str, datetime] = {a.kind: a.due for a in action_chain(
        datetime(2028, 2, 10, 12, tzinfo=HELSINKI), LeadTimes(), calendar, HELSINKI)}
    assert due["prepare"].date() == date(2027, 12, 17)  # Friday before the break
    assert due["request_items"].date() == date(2028, 1, 13)
    # The participants' reminder comes the working day before, whatever the break:
    monday = datetime(2028, 1, 10, 12, tzinfo=HELSINKI)
    reminder: dict[str, datetime] = {
        a.kind: a.due for a in action_chain(monday, LeadTimes(), calendar, HELSINKI)}
    assert reminder["remind"].date() == date(2028, 1, 7) and date(2028, 1, 7) not in days
