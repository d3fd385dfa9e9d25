"""An independent check of a plan against the catalogue's rules, written apart from the
planner so that the tests do not grade the planner with its own logic."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

from scheduler.catalogue.model import Catalogue, Months, PerTerm, PerYear, Precedes, Round
from scheduler.planning.planner import Meeting, Plan, Window
from scheduler.planning.workdays import WorkCalendar


def violations(plan: Plan, catalogue: Catalogue, calendar: WorkCalendar, window: Window) -> list[str]:
    """Every broken rule of every *planned* meeting, and every unmet target not reported."""
    found: list[str] = []
    planned = [m for m in plan.meetings if m.status == "planned"]
    for m in planned:
        if not calendar.is_free(m.day):
            found.append(f"{m.uid}: {m.day} is not free ({calendar.blocked(m.day)})")
        body = catalogue.bodies[m.body]
        if ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[m.day.weekday()] not in body.shape.weekdays \
                and not body.rules_of(Round):
            found.append(f"{m.uid}: {m.day} not on the body's weekdays")
        found.extend(
            f"{m.uid}: month {m.day.month} outside {rule.months}"
            for rule in body.rules_of(Months) if m.day.month not in rule.months
        )
        if not (window.first <= m.day <= window.last):
            found.append(f"{m.uid}: outside the window")
    found += _convener_clashes(planned)
    reported = {p.body for p in plan.problems}
    for body in catalogue.bodies.values():
        if body.id in reported:
            continue
        meetings = [m for m in plan.meetings if m.body == body.id and m.counts]
        found += _count_violations(body.id, body.rules_of(PerYear), meetings, window, body, catalogue)
        # Known meetings outside the window still count towards the term.
        days = {m.day for m in meetings} | {k.date for k in body.meetings if k.status != "cancelled"}
        found += _term_violations(body.id, body.rules_of(PerTerm), days, catalogue)
        found += _round_violations(body.id, body.rules_of(Round), meetings, catalogue, window)
        found += _precedes_violations(body.id, body.rules_of(Precedes), plan, window)
    return found


def _convener_clashes(meetings: list[Meeting]) -> list[str]:
    days = Counter((c, m.day) for m in meetings for c in m.conveners)
    return [f"convener {c} has {n} meetings on {d}" for (c, d), n in days.items() if n > 1]


def _count_violations(body_id: str, rules: list[PerYear], meetings: list[Meeting], window: Window,
                      body: object, catalogue: Catalogue) -> list[str]:
    found = []
    for rule in rules:
        for year in window.years():
            if not (window.first <= date(year, 1, 1) and date(year, 12, 31) <= window.last):
                continue  # partial years are checked by the property tests
            n = sum(1 for m in meetings if m.day.year == year)
            if not rule.min_count <= n <= rule.max_count:
                found.append(f"{body_id}: {n} meetings in {year}, rule {rule.min}..{rule.max}")
    return found


def _term_violations(body_id: str, rules: list[PerTerm], days: set[date],
                     catalogue: Catalogue) -> list[str]:
    found = []
    for rule in rules:
        for term in catalogue.region.terms:
            n = sum(1 for day in days if term.start <= day <= term.end)
            if not rule.min_count <= n <= rule.max_count:
                found.append(f"{body_id}: {n} meetings in term {term.id}")
    return found


def _round_violations(body_id: str, rules: list[Round], meetings: list[Meeting],
                      catalogue: Catalogue, window: Window) -> list[str]:
    found = []
    for rule in rules:
        members = [m.id for m in catalogue.groupings[rule.grouping].members]
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(rule.weekday)
        for year in window.years():
            ours = sorted((m for m in meetings if m.day.year == year and m.status == "planned"),
                          key=lambda m: m.day)
            if not ours:
                continue
            if [m.group for m in ours] != members[-len(ours):]:
                found.append(f"{body_id} {year}: round order {[m.group for m in ours]}")
            if any(m.day.weekday() != weekday for m in ours):
                found.append(f"{body_id} {year}: round not on {rule.weekday}")
            if any((b.day - a.day) % timedelta(weeks=1) for a, b in itertools.pairwise(ours)):
                found.append(f"{body_id} {year}: round days not whole weeks apart")
    return found


def _precedes_violations(body_id: str, rules: list[Precedes], plan: Plan, window: Window) -> list[str]:
    found = []
    for rule in rules:
        targets = [m for m in plan.meetings if m.body == rule.body and m.status in ("planned", "fixed")]
        for target in targets:
            first, last = target.day - rule.max_lead, target.day - rule.min_lead
            if first < window.first:
                continue
            preps = [m for m in plan.meetings if m.body == body_id and first <= m.day <= last
                     and (not rule.per_group or m.group == target.group)]
            if not preps:
                found.append(f"{body_id}: nothing prepares {target.uid} in {first}..{last}")
    return found
