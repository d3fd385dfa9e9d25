"""The measures' follow-up (issue 11): each indicator's state, derived from the meetings where
it can be and recorded by hand otherwise (``yhdyspinta measure set``). Pure.

The states and how each is decided:

* a state recorded by hand always stands (a person's word over the schedule), its day and
  evidence with it; for an indicator counted per year, only a record dated in that year;
* ``count`` (a body's held meetings, ``min``/``max`` per year or term): ``done`` once held >=
  min in the period (on the day of the meeting that reached it, evidence its minutes),
  ``not-done`` once the period is over short of it, ``in-progress`` before that;
* ``milestone`` of a body (the preparedness exercise): ``done`` when the body has a held
  meeting in the term, ``in-progress`` while one is planned ahead, ``not-done`` after its
  due day (else the term's end) without one, ``unknown`` otherwise;
* any other (a milestone without a body, an ``external`` indicator): ``not-done`` after its
  due day, else ``unknown``: nothing to derive it from and nobody has recorded it yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from scheduler.catalogue.model import Catalogue, Indicator, Measure, Term

from .periods import MeetingCounter, Period
from .planner import Meeting
from .records import Reason


class State(StrEnum):
    DONE = "done"
    NOT_DONE = "not-done"
    IN_PROGRESS = "in-progress"
    UNKNOWN = "unknown"


RECORDABLE = (State.DONE, State.NOT_DONE)  # what `measure set` takes


@dataclass(frozen=True)
class RecordedState:
    """An indicator's state as a person recorded it (``measure set``)."""

    measure: str
    indicator: str
    state: State
    on: date
    evidence: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class IndicatorState:
    indicator: Indicator
    state: State
    on: date | None
    evidence: str | None
    basis: Literal["meetings", "hand", "none"]
    reason: Reason
    period: str | None = None  # the year or term a count or a body's milestone is read in
    derived: State | None = None  # what the meetings say, when a hand record overrides it


@dataclass(frozen=True)
class MeasureReport:
    measure: Measure
    indicators: tuple[IndicatorState, ...]


def assess_measures(catalogue: Catalogue, counter: MeetingCounter, today: date, term: Term,
                    year: int, recorded: Sequence[RecordedState]) -> tuple[MeasureReport, ...]:
    """Every measure of the catalogue, its indicators read in ``year`` (those counted per
    year) or in ``term``."""
    latest: dict[tuple[str, str], RecordedState] = {}
    for state in sorted(recorded, key=lambda s: s.recorded_at):
        latest[(state.measure, state.indicator)] = state
    reports = []
    for measure in sorted(catalogue.measures.values(), key=lambda m: (m.number, m.id)):
        states = tuple(indicator_state(measure, i, counter, today, term, year,
                                       latest.get((measure.id, i.id))) for i in measure.indicators)
        reports.append(MeasureReport(measure, states))
    return tuple(reports)


def indicator_state(measure: Measure, indicator: Indicator, counter: MeetingCounter, today: date,
                    term: Term, year: int, hand: RecordedState | None) -> IndicatorState:
    period = Period.year(year) if indicator.per == "year" else Period.term(term)
    derived = _derived(measure, indicator, counter, today, period)
    if hand is not None and (indicator.per != "year" or period.holds(hand.on)):
        return IndicatorState(indicator, hand.state, hand.on, hand.evidence, "hand",
                              Reason("indicator-hand", {"recorded": hand.recorded_at.date()}),
                              derived.period, derived.state if derived.basis == "meetings" else None)
    return derived


def _derived(measure: Measure, indicator: Indicator, counter: MeetingCounter, today: date,
             period: Period) -> IndicatorState:
    if indicator.kind == "count" and indicator.body:
        return _count(indicator, counter, today, period)
    if indicator.kind == "milestone" and indicator.body:
        return _milestone(measure, indicator, counter, today, period)
    due = indicator.due or measure.due
    if due is not None and due < today:
        return IndicatorState(indicator, State.NOT_DONE, None, None, "none",
                              Reason("indicator-overdue", {"due": due}))
    return IndicatorState(indicator, State.UNKNOWN, None, None, "none",
                          Reason("indicator-none", {"due": due}))


def _count(indicator: Indicator, counter: MeetingCounter, today: date, period: Period
           ) -> IndicatorState:
    body = indicator.body or ""
    counts = counter.counts(body, period)
    held = counter.held(body, period)
    params = {"body": body, "held": counts.held, "planned": counts.planned, "min": indicator.min,
              "max": indicator.max, "per": indicator.per, "period": period.id}
    need = indicator.min or 0
    if counts.held >= need and held:
        reached = held[max(need, 1) - 1]
        return IndicatorState(indicator, State.DONE, reached.day, _minutes(held), "meetings",
                              Reason("indicator-count", params), period.id)
    state = State.NOT_DONE if period.last < today else State.IN_PROGRESS
    return IndicatorState(indicator, state, None, None, "meetings",
                          Reason("indicator-count", params), period.id)


def _milestone(measure: Measure, indicator: Indicator, counter: MeetingCounter, today: date,
               period: Period) -> IndicatorState:
    body = indicator.body or ""
    held = counter.held(body, period)
    if held:
        return IndicatorState(indicator, State.DONE, held[0].day, _minutes(held), "meetings",
                              Reason("indicator-held", {"body": body, "day": held[0].day}), period.id)
    given = indicator.due or measure.due  # as the documents give it
    due = given or period.last  # else the term's end
    upcoming = counter.next_planned(body, period)
    if upcoming is not None and upcoming.day <= due:
        return IndicatorState(indicator, State.IN_PROGRESS, None, None, "meetings",
                              Reason("indicator-planned", {"body": body, "day": upcoming.day}),
                              period.id)
    state = State.NOT_DONE if due < today else State.UNKNOWN
    return IndicatorState(indicator, state, None, None, "meetings",
                          Reason("indicator-not-held", {"body": body, "due": given}), period.id)


def _minutes(held: Sequence[Meeting]) -> str | None:
    """The newest minutes among the held meetings: the evidence."""
    links = [m.minutes_url for m in held if m.minutes_url]
    return links[-1] if links else None
