"""Compliance (issue 11): each body's meetings against its targets, per calendar year and per
council term; the gaps the documents leave; who was represented at the meetings held.

Pure: the schedule's meetings, the catalogue, the working-day calendar and the day come in as
arguments; reasons are keys and parameters, put in words by ``messaging.report_texts``.

How a period's status is decided (``judge``), with ``min`` the rule's minimum:

* ``no-target``: the body has no count rule (per year, per term);
* ``ok``: held >= min (a note when more were held than the maximum, or when the held and the
  planned together go over it); also a period not yet over whose planned meetings ahead
  would make up the rest ("on course", reason ``on-course``);
* ``missed``: the period is over with held < min;
* ``at-risk``: the period is not over and the meetings planned ahead do not make up the rest;
  the reason says whether past meetings only wait to be recorded (``unrecorded``) or
  meetings are lacking (``short``), and how many working days remain.

Meetings are counted by status as ``periods`` counts them (held, cancelled, unconfirmed:
past and not recorded, planned: today or later; a round body in rounds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Literal

from scheduler.catalogue.model import Body, Catalogue, PerTerm, PerYear, Term, Text, cited

from .indicators import MeasureReport, RecordedState, assess_measures
from .periods import Counts, MeetingCounter, Per, Period
from .planner import Meeting
from .records import MeetingStatus, Reason
from .workdays import WorkCalendar

ANSWERS = ("accepted", "tentativelyAccepted", "declined", "none")  # as read back (Graph, EWS)


class Status(StrEnum):
    OK = "ok"
    AT_RISK = "at-risk"
    MISSED = "missed"
    NO_TARGET = "no-target"


@dataclass(frozen=True)
class Scope:
    """What a report covers: one year (its per-term rules in ``term``), or a whole term."""

    term: Term
    year: int | None = None  # None: the whole term

    @property
    def window(self) -> Period:
        return Period.year(self.year) if self.year is not None else Period.term(self.term)

    @property
    def years(self) -> range:
        return range(self.term.start.year, self.term.end.year + 1)

    def periods(self, per: Per) -> list[Period]:
        if per == "term":
            return [Period.term(self.term)]
        return [Period.year(y) for y in ([self.year] if self.year is not None else self.years)]


def scope_of_year(catalogue: Catalogue, year: int) -> Scope:
    """The year and the council term that covers most of it (the one running on 1 July)."""
    terms = catalogue.region.terms
    mid = date(year, 7, 1)
    found = [t for t in terms if t.start <= mid <= t.end] or \
        [t for t in terms if t.start.year <= year <= t.end.year]
    if not found:
        raise LookupError(year)
    return Scope(found[0], year)


def scope_of_term(catalogue: Catalogue, today: date) -> Scope:
    """The council term running on ``today`` (else the next, else the last)."""
    terms = sorted(catalogue.region.terms, key=lambda t: t.start)
    found = [t for t in terms if t.start <= today <= t.end] or \
        [t for t in terms if t.start > today] or terms[-1:]
    return Scope(found[0])


@dataclass(frozen=True)
class Target:
    min: int | None
    max: int | None
    per: Per
    source: str
    rests_on_expired: bool = False  # only on documents no longer valid (documents.yaml)

    @property
    def need(self) -> int:
        return self.min or 0


@dataclass(frozen=True)
class Row:
    body: str
    period: Period
    target: Target | None
    counts: Counts
    status: Status
    reason: Reason
    notes: tuple[Reason, ...] = ()
    working_days_left: int = 0
    last_held: date | None = None
    next_planned: date | None = None
    sources: tuple[str, ...] = ()
    unit: Literal["meeting", "round"] = "meeting"


@dataclass(frozen=True)
class Gap:
    """What the documents leave open about a body: its ``convener`` or its ``cadence``."""

    body: str
    kind: Literal["convener", "cadence"]
    text: Text | None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attendance:
    """One meeting's representation: the organisations present (``held --present``) and
    absent, and the attendees' answers counted per answer (never their addresses)."""

    uid: str
    body: str
    group: str | None
    day: date
    status: MeetingStatus
    invited: tuple[str, ...]
    present: tuple[str, ...]
    absent: tuple[str, ...]
    answers: tuple[tuple[str, int], ...] = ()
    minutes_url: str | None = None

    @property
    def recorded(self) -> bool:
        """Whether anyone recorded who was there."""
        return bool(self.present)


@dataclass(frozen=True)
class OrganisationTotal:
    organisation: str
    attended: int  # held meetings it was present at
    of: int  # held meetings with representation recorded that invited it (or it attended)


@dataclass(frozen=True)
class YearSeries:
    """One body's meetings per year of the term, against its target: the report's chart."""

    body: str
    years: tuple[tuple[int, Counts], ...]
    target: Target | None  # per year; a per-term target is in ``term_target``
    term_target: Target | None = None
    term_counts: Counts | None = None


@dataclass(frozen=True)
class Compliance:
    scope: Scope
    rows: tuple[Row, ...]
    gaps: tuple[Gap, ...]
    representation: tuple[Attendance, ...]
    totals: tuple[OrganisationTotal, ...]
    series: tuple[YearSeries, ...]
    measures: tuple[MeasureReport, ...] = ()


def assess(catalogue: Catalogue, meetings: Sequence[Meeting], calendar: WorkCalendar,
           today: date, scope: Scope, *,
           answers: Mapping[str, Sequence[tuple[str, str]]] | None = None,
           recorded: Sequence[RecordedState] = ()) -> Compliance:
    """Every part of the report for ``scope`` as the schedule stands on ``today``."""
    by_body: dict[str, list[Meeting]] = {}
    for meeting in meetings:
        by_body.setdefault(meeting.body, []).append(meeting)
    counter = MeetingCounter(catalogue, by_body, today)
    found = [row for body in catalogue.bodies.values()
             for row in body_rows(catalogue, body, counter, calendar, today, scope)]
    rows = tuple(sorted(found, key=lambda r: r.target is None))  # bodies with a target first
    representation = attendance(meetings, scope.window, answers or {})
    return Compliance(
        scope=scope, rows=rows, gaps=tuple(gaps(catalogue)), representation=representation,
        totals=totals(catalogue, representation),
        series=tuple(series(catalogue, counter, scope, today)),
        measures=assess_measures(catalogue, counter, today, scope.term,
                                 scope.year or _clipped(today.year, scope), recorded),
    )


def _clipped(year: int, scope: Scope) -> int:
    return min(max(year, scope.term.start.year), scope.term.end.year)


# -- rows -------------------------------------------------------------------------------------


def targets(catalogue: Catalogue, body: Body, period: Period, today: date) -> Target | None:
    """The body's count rule for ``period``; whether it rests only on documents no longer
    valid is judged on the period's last day, or today if that is still ahead."""
    rules: list[PerYear | PerTerm] = [*body.rules_of(PerYear), *body.rules_of(PerTerm)]
    for rule in rules:
        per: Per = "year" if isinstance(rule, PerYear) else "term"
        if per == period.per:
            return Target(rule.min, rule.max, per, rule.source,
                          catalogue.expired_only([rule.source], min(period.last, today)))
    return None


def body_rows(catalogue: Catalogue, body: Body, counter: MeetingCounter, calendar: WorkCalendar,
              today: date, scope: Scope) -> list[Row]:
    periods = [*(scope.periods("year") if body.rules_of(PerYear) else []),
               *(scope.periods("term") if body.rules_of(PerTerm) else [])] or [scope.window]
    return [row(catalogue, body, counter, calendar, today, period) for period in periods]


def row(catalogue: Catalogue, body: Body, counter: MeetingCounter, calendar: WorkCalendar,
        today: date, period: Period) -> Row:
    """One body in one period: its target, its meetings counted, the status and why."""
    target = targets(catalogue, body, period, today)
    counts = counter.counts(body.id, period)
    left = working_days_left(calendar, period, today)
    status, reason, notes = judge(target, counts, period, today, left,
                                  no_cadence=not body.cadence)
    groups = counter.round_groups(body.id)
    if groups and target is not None:
        notes += (Reason("round-unit", {"groups": len(groups)}),)
    if target is not None and target.rests_on_expired:
        notes += (Reason("rests-on-expired", {"documents": ", ".join(cited(target.source))}),)
    held = counter.held(body.id, period)
    upcoming = counter.next_planned(body.id, period)
    return Row(body.id, period, target, counts, status, reason, notes, left,
               held[-1].day if held else None, upcoming.day if upcoming else None,
               (target.source,) if target else tuple(body.sources),
               "round" if groups else "meeting")


def judge(target: Target | None, counts: Counts, period: Period, today: date, days_left: int,
          *, no_cadence: bool = False) -> tuple[Status, Reason, tuple[Reason, ...]]:
    """The status of one period and the reason in words (see the module's docstring)."""
    if target is None:
        return Status.NO_TARGET, Reason("no-cadence" if no_cadence else "no-count", {}), ()
    base: dict[str, Any] = {"min": target.min, "max": target.max, "per": target.per, "held": counts.held,
            "planned": counts.planned, "unconfirmed": counts.unconfirmed, "days": days_left}
    notes: list[Reason] = []
    if counts.unconfirmed and counts.held + counts.planned >= target.need:
        notes.append(Reason("unconfirmed", base))
    if target.max is not None and counts.held > target.max:
        notes.append(Reason("over-max", base))
    elif target.max is not None and counts.held + counts.planned > target.max:
        notes.append(Reason("planned-over-max", {**base, "total": counts.held + counts.planned}))
    if counts.held >= target.need:
        return Status.OK, Reason("met", base), tuple(notes)
    if period.last < today:
        return Status.MISSED, Reason("missed", base), tuple(_unrecorded_note(counts, base))
    if counts.held + counts.planned >= target.need:
        return Status.OK, Reason("on-course", base), tuple(notes)
    missing = target.need - counts.held - counts.planned
    if counts.unconfirmed >= missing:
        return Status.AT_RISK, Reason("unrecorded", base), tuple(notes)
    return Status.AT_RISK, Reason("short", {**base, "missing": missing}), \
        tuple(_unrecorded_note(counts, base))


def _unrecorded_note(counts: Counts, base: dict[str, Any]) -> list[Reason]:
    return [Reason("unconfirmed", base)] if counts.unconfirmed else []


def working_days_left(calendar: WorkCalendar, period: Period, today: date) -> int:
    """Working days from ``today`` (or the period's first day) to its last, both included."""
    day, count = max(today, period.first), 0
    while day <= period.last:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return count


# -- gaps, representation, the chart ---------------------------------------------------------


def gaps(catalogue: Catalogue) -> Iterable[Gap]:
    """Bodies for which the documents name no convener, or set no cadence."""
    for body in catalogue.bodies.values():
        if not body.conveners or body.gaps.conveners is not None:
            yield Gap(body.id, "convener", body.gaps.conveners, tuple(body.sources))
        if not body.cadence or body.gaps.cadence is not None:
            yield Gap(body.id, "cadence", body.gaps.cadence, tuple(body.sources))


def attendance(meetings: Sequence[Meeting], window: Period,
               answers: Mapping[str, Sequence[tuple[str, str]]]) -> tuple[Attendance, ...]:
    """The held meetings of the window, and any other not cancelled that has answers."""
    found: list[Attendance] = []
    for meeting in sorted(meetings, key=lambda m: (m.start, m.body, m.group or "")):
        given = answers.get(meeting.uid, ())
        held = meeting.status is MeetingStatus.HELD
        if not window.holds(meeting.day) or not (held or (given and meeting.counts)):
            continue
        present = tuple(meeting.present) if held else ()
        absent = tuple(o for o in meeting.organisations if o not in present) if present else ()
        tally = Counter(answer for _, answer in given)
        found.append(Attendance(
            meeting.uid, meeting.body, meeting.group, meeting.day, meeting.status,
            tuple(meeting.organisations), present, absent,
            tuple((a, tally[a]) for a in (*ANSWERS, *sorted(set(tally) - set(ANSWERS))) if tally[a]),
            meeting.minutes_url))
    return tuple(found)


def totals(catalogue: Catalogue, meetings: Sequence[Attendance]) -> tuple[OrganisationTotal, ...]:
    """Per organisation: at how many of the held meetings it was invited to (representation
    recorded) it was present. Meetings without a record of who was there do not count."""
    attended: Counter[str] = Counter()
    of: Counter[str] = Counter()
    for meeting in meetings:
        if not meeting.recorded:
            continue
        for organisation in dict.fromkeys((*meeting.invited, *meeting.present)):
            of[organisation] += 1
            attended[organisation] += organisation in meeting.present
    order = {org: i for i, org in enumerate(catalogue.organisations)}
    return tuple(OrganisationTotal(org, attended[org], of[org])
                 for org in sorted(of, key=lambda o: (order.get(o, len(order)), o)))


def series(catalogue: Catalogue, counter: MeetingCounter, scope: Scope, today: date
           ) -> Iterable[YearSeries]:
    """Meetings per year of the term for every body with a target."""
    term = Period.term(scope.term)
    for body in catalogue.bodies.values():
        yearly = targets(catalogue, body, Period.year(scope.term.start.year), today)
        whole = targets(catalogue, body, term, today)
        if yearly is None and whole is None:
            continue
        years = tuple((y, counter.counts(body.id, Period.year(y))) for y in scope.years)
        yield YearSeries(body.id, years, yearly, whole, counter.counts(body.id, term))
