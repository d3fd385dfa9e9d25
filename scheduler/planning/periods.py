"""Periods (a calendar year, a council term) and a body's meetings in one, counted by status:
what compliance and the measures' follow-up both read (issue 11). Pure.

A meeting counts as held, cancelled, unconfirmed (past, not recorded: a planned or fixed
meeting whose day is before ``today``) or planned (today or later). A body meeting in rounds
(HYTE) is counted in rounds: a round is held once each group of it has met.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from scheduler.catalogue.model import Catalogue, Round, Term

from .planner import Meeting
from .records import MeetingStatus

Per = Literal["year", "term"]


@dataclass(frozen=True)
class Period:
    """A calendar year (``"2026"``) or a council term (``"2025-2029"``), both ends included."""

    id: str
    per: Per
    first: date
    last: date

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(str(year), "year", date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def term(cls, term: Term) -> Period:
        return cls(term.id, "term", term.start, term.end)


@dataclass(frozen=True)
class Counts:
    planned: int = 0  # today or later, not cancelled
    held: int = 0
    unconfirmed: int = 0  # past, not recorded held
    cancelled: int = 0


class MeetingCounter:
    """A body's meetings in a period, counted by status (in rounds for a round body)."""

    def __init__(self, catalogue: Catalogue, by_body: Mapping[str, list[Meeting]],
                 today: date) -> None:
        self.catalogue, self.by_body, self.today = catalogue, by_body, today

    def meetings(self, body: str, period: Period) -> list[Meeting]:
        return sorted((m for m in self.by_body.get(body, ()) if period.holds(m.day)),
                      key=lambda m: m.start)

    def kind(self, meeting: Meeting) -> str:
        if meeting.status is MeetingStatus.HELD:
            return "held"
        if meeting.status is MeetingStatus.CANCELLED:
            return "cancelled"
        if meeting.status is MeetingStatus.UNCONFIRMED or meeting.day < self.today:
            return "unconfirmed"
        return "planned"

    def counts(self, body: str, period: Period) -> Counts:
        groups = self.round_groups(body)
        if groups:
            return self._rounds(body, period, groups)
        return _tally(self.kind(m) for m in self.meetings(body, period))

    def round_groups(self, body: str) -> tuple[str, ...]:
        found = self.catalogue.bodies.get(body)
        rules = found.rules_of(Round) if found else []
        return tuple(m for rule in rules for m in self.catalogue.group_members_ids(rule.grouping))

    def _rounds(self, body: str, period: Period, groups: tuple[str, ...]) -> Counts:
        """Complete rounds: held once every group held; planned once every group's is at
        least planned; and so on. Cancelled: meetings cancelled, whichever group."""
        per_group = {g: _tally(self.kind(m) for m in self.meetings(body, period) if m.group == g)
                     for g in groups}
        held = min(c.held for c in per_group.values())
        ahead = min(c.held + c.planned for c in per_group.values())
        anyhow = min(c.held + c.planned + c.unconfirmed for c in per_group.values())
        return Counts(planned=ahead - held, held=held, unconfirmed=anyhow - ahead,
                      cancelled=sum(c.cancelled for c in per_group.values()))

    def held(self, body: str, period: Period) -> list[Meeting]:
        return [m for m in self.meetings(body, period) if self.kind(m) == "held"]

    def next_planned(self, body: str, period: Period) -> Meeting | None:
        return next((m for m in self.meetings(body, period) if self.kind(m) == "planned"), None)


def _tally(kinds: Iterable[str]) -> Counts:
    found = Counter(kinds)
    return Counts(planned=found["planned"], held=found["held"],
                  unconfirmed=found["unconfirmed"], cancelled=found["cancelled"])
