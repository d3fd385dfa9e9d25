"""The rule engine and planner: every rule kind, holidays, blackouts, DST, determinism."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from scheduler.catalogue.model import Catalogue
from scheduler.planning.planner import Plan, Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI, body, make_catalogue
from tests.rulecheck import violations

FULL = Window(date(2026, 1, 1), date(2028, 12, 31))
GROUPS = [{
    "id": "ryhmat", "name": {"fi": "r", "sv": "r", "en": "r"}, "source": "test",
    "members": [{"id": f"g{i}", "name": {"fi": f"g{i}", "sv": f"g{i}", "en": f"g{i}"},
                 "organisations": [o]} for i, o in enumerate(("b", "c", "d", "e"), start=1)],
}]


def run(catalogue: Catalogue, window: Window = FULL, calendar: WorkCalendar | None = None) -> Plan:
    return plan_meetings(catalogue, calendar or WorkCalendar(), window, HELSINKI)


def per_year(**bounds: Any) -> dict[str, Any]:
    return {"kind": "per-year", "source": "test", **bounds}


def errors(plan: Plan) -> list[str]:
    return [p.key for p in plan.problems if p.severity == "error"]


def test_per_year_minimum_plans_one_meeting_each_year() -> None:
    plan = run(make_catalogue([body("x", [per_year(min=1)])]))
    assert [m.day.year for m in plan.meetings] == [2026, 2027, 2028]
    assert not plan.problems


def test_per_year_two_to_three_plans_two_spread_over_the_year() -> None:
    plan = run(make_catalogue([body("x", [per_year(min=2, max=3)])]))
    by_year: dict[int, list[date]] = {}
    for m in plan.meetings:
        by_year.setdefault(m.day.year, []).append(m.day)
    assert all(len(days) == 2 for days in by_year.values())
    for year, days in by_year.items():
        assert days[0] < date(year, 7, 1) < days[1], days
        assert days[1] - days[0] > timedelta(days=120)


def test_per_year_plan_count_overrides_the_minimum() -> None:
    plan = run(make_catalogue([body("x", [per_year(min=2, max=3, plan=3)])]))
    assert len(plan.meetings) == 9


def test_per_term_once_plans_a_single_meeting_in_the_term() -> None:
    rule = {"kind": "per-term", "min": 1, "max": 1, "source": "test"}
    plan = run(make_catalogue([body("x", [rule])]), Window(date(2026, 1, 1), date(2029, 5, 31)))
    assert len(plan.meetings) == 1
    assert plan.meetings[0].uid == "x-2025-2029-1@yhdyspinta"


def test_held_meeting_counts_towards_the_term() -> None:
    rule = {"kind": "per-term", "min": 1, "max": 1, "source": "test"}
    held = [{"date": date(2025, 10, 24), "status": "held", "source": "002"}]
    plan = run(make_catalogue([body("x", [rule], meetings=held)]), Window(date(2026, 1, 1), date(2029, 5, 31)))
    assert plan.meetings == ()
    assert not plan.problems


def test_fixed_meeting_counts_and_is_listed() -> None:
    fixed = [{"date": date(2026, 2, 18), "status": "fixed", "source": "002"}]
    plan = run(make_catalogue([body("x", [per_year(min=1)], meetings=fixed)]))
    assert next((m.day, m.status) for m in plan.meetings) == (date(2026, 2, 18), "fixed")
    assert [m.day.year for m in plan.meetings] == [2026, 2027, 2028]


def test_cancelled_meeting_does_not_count() -> None:
    gone = [{"date": date(2026, 2, 18), "status": "cancelled", "source": "test"}]
    plan = run(make_catalogue([body("x", [per_year(min=1)], meetings=gone)]))
    assert sum(1 for m in plan.meetings if m.day.year == 2026 and m.status == "planned") == 1


def test_known_meetings_above_the_maximum_are_an_error() -> None:
    known = [{"date": date(2026, d, 10), "status": "held", "source": "test"} for d in (2, 3, 4, 5)]
    plan = run(make_catalogue([body("x", [per_year(min=2, max=3)], meetings=known)]))
    assert "too-many-year" in errors(plan)


def test_month_window_keeps_every_meeting_in_may() -> None:
    rules = [per_year(min=1, max=1), {"kind": "months", "months": [5], "source": "001"}]
    plan = run(make_catalogue([body("x", rules)]))
    assert [m.day.month for m in plan.meetings] == [5, 5, 5]


def test_round_is_one_meeting_per_group_on_consecutive_thursdays() -> None:
    rules = [per_year(min=1), {"kind": "round", "grouping": "ryhmat", "weekday": "thu", "source": "004"},
             {"kind": "months", "months": [10, 11], "source": "004"}]
    cat = make_catalogue([body("x", rules, members=[{"group": "ryhmat"}])], groupings=GROUPS)
    plan = run(cat, Window(date(2026, 1, 1), date(2026, 12, 31)))
    days = [m.day for m in plan.meetings]
    assert [m.group for m in plan.meetings] == ["g1", "g2", "g3", "g4"]
    assert all(d.weekday() == 3 for d in days)
    assert [b - a for a, b in itertools.pairwise(days)] == [timedelta(weeks=1)] * 3
    assert plan.meetings[1].organisations == ("a", "c")  # convener + that group only


def test_round_skips_a_blocked_week_instead_of_failing() -> None:
    rules = [per_year(min=1), {"kind": "round", "grouping": "ryhmat", "weekday": "thu", "source": "test"},
             {"kind": "months", "months": [10], "source": "test"}]
    # October 2026 has Thursdays 1, 8, 15, 22, 29: block the 15th.
    calendar = WorkCalendar({date(2026, 10, 15): "syysloma"})
    plan = run(make_catalogue([body("x", rules)], groupings=GROUPS), Window(date(2026, 1, 1), date(2026, 12, 31)), calendar)
    assert [m.day.day for m in plan.meetings] == [1, 8, 22, 29]
    assert any(r.key == "blocked-blackout" for r in plan.meetings[0].reasons)


def test_round_that_cannot_fit_is_reported_with_body_and_rule() -> None:
    rules = [per_year(min=1), {"kind": "round", "grouping": "ryhmat", "weekday": "thu", "source": "004 §"},
             {"kind": "months", "months": [12], "source": "test"}]
    calendar = WorkCalendar({date(2026, 12, d): "loma" for d in range(1, 32)})
    plan = run(make_catalogue([body("x", rules)], groupings=GROUPS), Window(date(2026, 1, 1), date(2026, 12, 31)), calendar)
    assert plan.meetings == ()
    [problem] = [p for p in plan.problems if p.severity == "error"]
    assert (problem.body, problem.key, problem.params["source"]) == ("x", "no-round", "004 §")


def test_preparatory_meeting_falls_inside_its_lead_window() -> None:
    target = body("main", [per_year(min=1)], conveners=("a",))
    prep = body("prep", [{"kind": "precedes", "body": "main", "min_lead": "P3W", "max_lead": "P8W",
                          "source": "001"}], conveners=("b",))
    plan = run(make_catalogue([target, prep]))
    mains = plan.of_body("main")
    preps = plan.of_body("prep")
    assert len(preps) == len(mains) == 3
    for m, p in zip(mains, preps, strict=True):
        assert timedelta(weeks=3) <= m.day - p.day <= timedelta(weeks=8)


def test_a_preparing_body_with_its_own_yearly_count_fills_up_to_it() -> None:
    target = body("main", [per_year(min=1)])
    prep = body("prep", [{"kind": "precedes", "body": "main", "min_lead": "P3W", "max_lead": "P8W",
                          "source": "001"}, per_year(min=3)], conveners=("b",))
    plan = run(make_catalogue([target, prep]), Window(date(2026, 1, 1), date(2026, 12, 31)))
    [main] = plan.of_body("main")
    preps = plan.of_body("prep")
    assert len(preps) == 3
    assert any(timedelta(weeks=3) <= main.day - p.day <= timedelta(weeks=8) for p in preps)


def test_preparation_per_group_follows_each_group() -> None:
    rules = [per_year(min=1), {"kind": "round", "grouping": "ryhmat", "weekday": "thu", "source": "test"},
             {"kind": "months", "months": [10, 11], "source": "test"}]
    prep = body("prep", [{"kind": "precedes", "body": "neg", "per_group": True, "min_lead": "P2W",
                          "max_lead": "P6W", "source": "004"}], conveners=())
    cat = make_catalogue([body("neg", rules), prep], groupings=GROUPS)
    plan = run(cat, Window(date(2026, 1, 1), date(2026, 12, 31)))
    for neg in plan.of_body("neg"):
        [p] = [p for p in plan.of_body("prep") if p.group == neg.group]
        assert timedelta(weeks=2) <= neg.day - p.day <= timedelta(weeks=6)
        assert p.day != neg.day


def test_no_two_meetings_of_one_convener_on_the_same_day() -> None:
    bodies = [body(f"b{i}", [per_year(min=3)], shape={"weekdays": ["wed"]}) for i in range(12)]
    plan = run(make_catalogue(bodies))
    days = [m.day for m in plan.meetings]
    assert len(days) == 12 * 3 * 3
    assert len(set(days)) == len(days)
    assert not errors(plan)


def test_infeasible_month_is_reported_not_dropped() -> None:
    rules = [per_year(min=1), {"kind": "months", "months": [7], "source": "kesä §"}]
    plan = run(make_catalogue([body("x", rules)]), calendar=WorkCalendar(blackout_months=frozenset({7})))
    assert plan.meetings == ()
    assert errors(plan) == ["no-valid-date"] * 3
    assert all(p.body == "x" for p in plan.problems)


def test_a_year_cut_short_by_the_window_is_a_warning_not_an_error() -> None:
    rules = [per_year(min=1), {"kind": "round", "grouping": "ryhmat", "weekday": "thu", "source": "004"},
             {"kind": "months", "months": [10, 11], "source": "004"}]
    cat = make_catalogue([body("x", rules)], groupings=GROUPS)
    late = run(cat, Window(date(2026, 11, 22), date(2027, 12, 31)))
    assert [(p.key, p.severity, p.params["year"]) for p in late.problems] == [("no-round", "warning", 2026)]
    assert {m.day.year for m in late.meetings} == {2027}


def test_a_preparation_window_cut_by_the_window_start_is_a_warning() -> None:
    fixed = [{"date": date(2026, 2, 10), "status": "fixed", "source": "test"}]
    target = body("main", [per_year(min=1)], meetings=fixed)
    prep = body("prep", [{"kind": "precedes", "body": "main", "min_lead": "P3W", "max_lead": "P8W",
                          "source": "001"}], conveners=("b",))
    calendar = WorkCalendar({date(2026, 1, d): "loma" for d in range(1, 21)})
    plan = run(make_catalogue([target, prep]), Window(date(2026, 1, 5), date(2026, 12, 31)), calendar)
    assert [(p.key, p.severity) for p in plan.problems] == [("no-valid-date", "warning")]


def test_gaps_are_reported_as_warnings() -> None:
    silent = body("quiet", [], conveners=(), gaps={"conveners": {"fi": "ei"}, "cadence": {"fi": "ei"}})
    plan = run(make_catalogue([silent]))
    assert sorted(p.key for p in plan.problems) == ["no-cadence", "no-convener"]
    assert {p.severity for p in plan.problems} == {"warning"}


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 6), "Loppiainen"),
        (date(2026, 4, 3), "Pitkäperjantai"),
        (date(2026, 4, 6), "Toinen pääsiäispäivä"),
        (date(2026, 5, 1), "Vappu"),
        (date(2026, 5, 14), "Helatorstai"),
        (date(2026, 6, 19), "Juhannusaatto"),
        (date(2026, 12, 24), "Jouluaatto"),
        (date(2026, 12, 25), "Joulupäivä"),
        (date(2027, 12, 6), "Itsenäisyyspäivä"),
    ],
)
def test_holidays_are_never_planned(day: date, name: str) -> None:
    calendar = WorkCalendar()
    blocked = calendar.blocked(day)
    assert blocked is not None and blocked.kind == "holiday" and name.lower() in blocked.label.lower()
    every_day = body("x", [per_year(min=1)], shape={"weekdays": ["mon", "tue", "wed", "thu", "fri"]})
    plan = run(make_catalogue([every_day]), Window(day, day), calendar)
    assert plan.meetings == ()
    assert [p.key for p in plan.problems] == ["no-valid-date"]


def test_flag_days_that_are_working_days_stay_working_days() -> None:
    # tech.md section 7: the WORKDAY category would wrongly block e.g. 4.6. (flag day).
    assert WorkCalendar().is_free(date(2026, 6, 4))
    assert WorkCalendar().is_free(date(2026, 2, 27))  # Kalevalan päivä


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (date(2026, 3, 27), timedelta(hours=2)),   # Friday before the last Sunday of March
        (date(2026, 3, 30), timedelta(hours=3)),   # Monday after it
        (date(2026, 10, 23), timedelta(hours=3)),  # Friday before the last Sunday of October
        (date(2026, 10, 26), timedelta(hours=2)),  # Monday after it
        (date(2027, 3, 25), timedelta(hours=2)),   # 2027: Easter falls on the DST Sunday
        (date(2027, 3, 30), timedelta(hours=3)),
        (date(2027, 10, 29), timedelta(hours=3)),
        (date(2027, 11, 1), timedelta(hours=2)),
    ],
)
def test_dst_weeks_give_the_right_utc_offset(day: date, offset: timedelta) -> None:
    shape = {"weekdays": ["mon", "tue", "thu", "fri"], "start": "13:00", "duration": "PT3H"}
    plan = run(make_catalogue([body("x", [per_year(min=1)], shape=shape)]), Window(day, day))
    [meeting] = plan.meetings
    assert meeting.start.utcoffset() == offset
    assert (meeting.start.hour, meeting.end.hour) == (13, 16)
    assert meeting.end - meeting.start == timedelta(hours=3)


def test_same_input_gives_the_same_plan_and_uids(real_catalogue: Catalogue) -> None:
    window = Window(date(2026, 1, 1), date(2029, 5, 31))
    calendar = WorkCalendar({date(2026, 10, 20): "x"}, frozenset({7}))
    first = plan_meetings(real_catalogue, calendar, window, HELSINKI)
    second = plan_meetings(real_catalogue, WorkCalendar({date(2026, 10, 20): "x"}, frozenset({7})),
                           window, HELSINKI)
    assert first == second
    assert len({m.uid for m in first.meetings}) == len(first.meetings)


def test_uid_names_the_slot_not_the_date() -> None:
    cat = make_catalogue([body("x", [per_year(min=1)])])
    free = run(cat)
    blocked = run(cat, calendar=WorkCalendar({m.day: "varattu" for m in free.meetings}))
    assert [m.uid for m in free.meetings] == [m.uid for m in blocked.meetings]
    assert all(a.day != b.day for a, b in zip(free.meetings, blocked.meetings, strict=True))


def test_every_planned_meeting_explains_its_date() -> None:
    plan = run(make_catalogue([body("x", [per_year(min=2, max=3)])]),
               calendar=WorkCalendar(blackout_months=frozenset({7})))
    for meeting in plan.meetings:
        keys = [r.key for r in meeting.reasons]
        assert keys[0] == "rule-per-year" and keys[-1] == "free-day"


def test_real_catalogue_plan_for_the_term_breaks_no_rule(real_catalogue: Catalogue) -> None:
    window = Window(date(2026, 1, 1), date(2029, 5, 31))
    calendar = WorkCalendar({date(2026, 10, 12) + timedelta(days=i): "syysloma" for i in range(5)},
                            frozenset({7}))
    plan = plan_meetings(real_catalogue, calendar, window, HELSINKI)
    assert not errors(plan)
    assert violations(plan, real_catalogue, calendar, window) == []
    planned_bodies = {m.body for m in plan.meetings if m.status == "planned"}
    with_cadence = {b.id for b in real_catalogue.bodies.values() if b.cadence}
    # Bodies whose targets are already met by known meetings plan nothing new.
    assert planned_bodies == with_cadence - {"strateginen-foorumi", "hva-kunta-neuvottelu"}


def test_busy_slots_in_the_conveners_calendar_are_avoided() -> None:
    shape = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "13:00", "duration": "PT2H"}
    cat = make_catalogue([body("x", [per_year(min=1)], shape=shape)])
    window = Window(date(2027, 3, 8), date(2027, 3, 12))
    free = plan_meetings(cat, WorkCalendar(), window, HELSINKI)
    [first] = free.meetings
    morning = (datetime(2027, 3, 10, 8, tzinfo=HELSINKI), datetime(2027, 3, 10, 12, tzinfo=HELSINKI))
    during = (datetime(2027, 3, 10, 14, tzinfo=HELSINKI), datetime(2027, 3, 10, 15, tzinfo=HELSINKI))
    assert first.day == date(2027, 3, 10)
    same = plan_meetings(cat, WorkCalendar(), window, HELSINKI, calendars_busy={"a": [morning]})
    assert same.meetings[0].day == first.day  # busy only in the morning: 13-15 is free
    moved = plan_meetings(cat, WorkCalendar(), window, HELSINKI, calendars_busy={"a": [during]})
    assert moved.meetings[0].day != first.day
    assert any(r.key == "convener-calendar-busy" for r in moved.meetings[0].reasons)


def test_a_busy_week_is_busy_on_every_day_of_it() -> None:
    # An out-of-office from Monday morning to Friday evening blocks each day, not only Monday.
    shape = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "13:00", "duration": "PT2H"}
    cat = make_catalogue([body("x", [per_year(min=1)], shape=shape)])
    window = Window(date(2027, 3, 8), date(2027, 3, 19))
    away = (datetime(2027, 3, 8, 8, tzinfo=HELSINKI), datetime(2027, 3, 12, 17, tzinfo=HELSINKI))
    plan = plan_meetings(cat, WorkCalendar(), window, HELSINKI, calendars_busy={"a": [away]})
    [meeting] = plan.meetings
    assert meeting.day >= date(2027, 3, 15)
    assert any(r.key == "convener-calendar-busy" for r in meeting.reasons)
