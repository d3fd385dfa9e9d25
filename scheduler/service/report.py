"""The report use case (issue 11): the stored schedule brought up to date, then compliance
per body and period, the gaps, the representation and the measures' follow-up; and
``measure set``, an indicator's state recorded by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from scheduler.errors import UserError
from scheduler.planning.compliance import Compliance, Scope, assess, scope_of_term, scope_of_year
from scheduler.planning.indicators import RECORDABLE, RecordedState, State

from .bootstrap import Services
from .schedule import refresh

_URL = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$")
_LONGEST_URL = 500


@dataclass(frozen=True)
class Report:
    compliance: Compliance
    generated: datetime
    today: date

    @property
    def scope(self) -> Scope:
        return self.compliance.scope


def report(services: Services, now: datetime, *, year: int | None = None,
           term: bool = False) -> Report:
    """The report for ``year`` (default: the current year), or for the whole council term
    running now (``term``: each year of it and the term)."""
    if year is not None and term:
        raise UserError("give --year or --term, not both")
    today = now.astimezone(services.tz).date()
    scope = scope_of_term(services.catalogue, today) if term else _year(services, year or today.year)
    plan = refresh(services, now, read_calendars=False).plan
    answers = {r.uid: r.responses for r in services.store.all_meetings() if r.responses}
    found = assess(services.catalogue, plan.meetings, services.calendar, today, scope,
                   answers=answers, recorded=services.store.measure_states())
    return Report(found, now, today)


def _year(services: Services, year: int) -> Scope:
    try:
        return scope_of_year(services.catalogue, year)
    except LookupError:
        terms = ", ".join(t.id for t in services.catalogue.region.terms)
        raise UserError(f"--year {year}: no council term of bodies/region.yaml covers it "
                        f"(terms: {terms})") from None


def set_measure(services: Services, measure: str, indicator: str, state: str, now: datetime,
                *, on: date | None = None, evidence: str | None = None) -> RecordedState:
    """Record ``indicator`` of ``measure`` as ``done`` or ``not-done`` by hand."""
    catalogue = services.catalogue
    if not catalogue.measures:
        raise UserError("the catalogue has no measures: bodies/measures.yaml is missing or empty")
    if measure not in catalogue.measures:
        raise UserError(f"unknown measure {measure!r}; the measures are: "
                        f"{', '.join(sorted(catalogue.measures))}")
    known = [i.id for i in catalogue.measures[measure].indicators]
    if indicator not in known:
        raise UserError(f"measure {measure!r} has no indicator {indicator!r}; its indicators "
                        f"are: {', '.join(known)}")
    if state not in {str(s) for s in RECORDABLE}:
        raise UserError(f"expected done or not-done, got {state!r}")
    today = now.astimezone(services.tz).date()
    if on is not None and on > today:
        raise UserError(f"--on {on} is still ahead; record the indicator once it is done")
    if evidence is not None and (len(evidence) > _LONGEST_URL or not _URL.match(evidence)):
        raise UserError(f"--evidence: expected a web address starting with https:// (at most "
                        f"{_LONGEST_URL} characters), got {evidence!r}")
    recorded = RecordedState(measure, indicator, State(state), on or today, evidence, now)
    services.store.set_measure_state(recorded)
    return recorded
