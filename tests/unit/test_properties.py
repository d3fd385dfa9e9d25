"""Property tests: over random rule sets, never a non-working day, every target met or reported."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.planning.planner import Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI, body, make_catalogue

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


@st.composite
def rule_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    bodies = []
    for i in range(draw(st.integers(1, 6))):
        low = draw(st.integers(0, 4))
        high = draw(st.one_of(st.none(), st.integers(low, low + 3)))
        rules: list[dict[str, Any]] = [{"kind": "per-year", "min": low, "max": high, "source": "prop"}]
        if low == 0 and high is None:
            rules[0]["max"] = 2
        if draw(st.booleans()):
            months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True))
            rules.append({"kind": "months", "months": sorted(months), "source": "prop"})
        weekdays = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True))
        conveners = tuple(draw(st.lists(st.sampled_from("abc"), min_size=0, max_size=2, unique=True)))
        bodies.append(body(f"b{i}", rules, conveners=conveners, shape={"weekdays": weekdays}))
    return bodies


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    start = date(2026, 1, 1)
    blocked = draw(st.lists(st.integers(0, 3 * 365), max_size=60))
    months = draw(st.lists(st.integers(1, 12), max_size=3, unique=True))
    return WorkCalendar({start + timedelta(days=d): "esto" for d in blocked}, frozenset(months))


@settings(max_examples=60, deadline=None)
@given(rule_sets(), calendars(), st.integers(0, 200), st.integers(30, 3 * 365))
def test_never_on_a_non_working_day_and_every_target_met_or_reported(
    bodies: list[dict[str, Any]], calendar: WorkCalendar, offset: int, length: int
) -> None:
    first = date(2026, 1, 1) + timedelta(days=offset)
    window = Window(first, first + timedelta(days=length))
    catalogue = make_catalogue(bodies)
    plan = plan_meetings(catalogue, calendar, window, HELSINKI)
    for meeting in plan.meetings:
        assert calendar.is_free(meeting.day), meeting
        assert window.first <= meeting.day <= window.last
    clashes = [(c, m.day) for m in plan.meetings for c in m.conveners]
    assert len(clashes) == len(set(clashes))
    reported = {(p.body, p.params.get("year"), p.params.get("first")) for p in plan.problems}
    for b in catalogue.bodies.values():
        rule = b.cadence[0]
        for year in window.years():
            n = sum(1 for m in plan.meetings if m.body == b.id and m.day.year == year)
            if n != rule.planned_count:  # type: ignore[union-attr]
                assert any(body_id == b.id for body_id, _, _ in reported), (b.id, year, n)


@settings(max_examples=30, deadline=None)
@given(rule_sets(), calendars())
def test_planning_twice_gives_the_same_plan(bodies: list[dict[str, Any]], calendar: WorkCalendar) -> None:
    window = Window(date(2026, 1, 1), date(2027, 12, 31))
    catalogue = make_catalogue(bodies)
    again = WorkCalendar(dict(calendar.blackouts), calendar.blackout_months)
    assert plan_meetings(catalogue, calendar, window, HELSINKI) == plan_meetings(
        catalogue, again, window, HELSINKI
    )
