"""Turn the catalogue's cadence rules into concrete, valid meeting dates, with reasons.

Pure and deterministic: the window, time zone and calendar come in as arguments; the same
input gives the same dates and the same UIDs. A UID names the meeting's slot (body, year,
ordinal or group), never its date, so a meeting keeps its UID when it moves.

Constraints on every planned date: a working day (no weekend, no Finnish public holiday),
not in a blackout period, one of the body's weekdays, inside the body's month window, and
no other meeting with the same convener that day. Whatever cannot be satisfied becomes a
problem naming the body and rule; nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from scheduler.catalogue.model import (
    Body,
    Catalogue,
    KnownMeeting,
    Months,
    PerTerm,
    PerYear,
    Precedes,
    Round,
)

from .records import MeetingStatus, Reason
from .workdays import WorkCalendar

Severity = Literal["error", "warning"]
_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_MAX_EXPLAINED_REJECTIONS = 3
# How much further from the ideal day than the first allowed day the planner looks for a
# day that no body inviting largely the same organisations holds (issue 9).
SHARED_DAY_REACH = timedelta(days=14)
_UNREMARKABLE = {"not-weekday", "blocked-weekend"}  # true of most days: not worth explaining


@dataclass(frozen=True)
class PlanProblem:
    body: str
    severity: Severity
    key: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Meeting:
    uid: str
    body: str
    slot: str
    start: datetime
    end: datetime
    conveners: tuple[str, ...]
    organisations: tuple[str, ...]
    group: str | None
    status: MeetingStatus
    sequence: int = 0
    reasons: tuple[Reason, ...] = ()
    sources: tuple[str, ...] = ()
    known: str | None = None  # the known meeting of bodies/ it is (its date[-group])
    # As the stored schedule has it (service.schedule); the planner leaves them as given.
    committed: bool = False
    communicated: bool = False
    moved_from: datetime | None = None
    present: tuple[str, ...] = ()
    minutes_url: str | None = None

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def counts(self) -> bool:
        """Whether the meeting counts towards targets (a cancelled one does not)."""
        return self.status is not MeetingStatus.CANCELLED


@dataclass(frozen=True)
class Plan:
    meetings: tuple[Meeting, ...]
    problems: tuple[PlanProblem, ...]

    def of_body(self, body_id: str) -> list[Meeting]:
        return [m for m in self.meetings if m.body == body_id]


@dataclass(frozen=True)
class Window:
    """The planning window, both ends inclusive."""

    first: date
    last: date

    def clip(self, first: date, last: date) -> tuple[date, date] | None:
        a, b = max(first, self.first), min(last, self.last)
        return (a, b) if a <= b else None

    def years(self) -> range:
        return range(self.first.year, self.last.year + 1)


def plan_meetings(
    catalogue: Catalogue,
    calendar: WorkCalendar,
    window: Window,
    tz: ZoneInfo,
    uid_domain: str = "yhdyspinta",
    calendars_busy: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
    fixed: Sequence[Meeting] = (),
    today: date | None = None,
    stored: Sequence[Meeting] = (),
) -> Plan:
    """Plan every body that has a cadence inside ``window``; report every gap and conflict.

    ``calendars_busy`` maps a convener organisation to the busy intervals read from its
    calendar (Graph getSchedule, EWS GetUserAvailability, issue 4); a meeting is not put on
    them. Without it the conveners' own calendars are simply not consulted.

    ``fixed`` are meetings decided already (issue 9: committed, or past): they are kept as
    they are, count towards the targets, occupy their day and keep their slots, and only
    what they leave open is planned. A known meeting of bodies/ that one of them stands
    for (``Meeting.known``) is not added again. One of them on or after ``today`` that the
    rules no longer allow is reported, never moved.

    ``stored`` are meetings planned earlier and not decided yet: each stays where it is,
    with its UID, while its day is still allowed, so that planning again changes only
    what the rules or the calendars now refuse.
    """
    planner = _Planner(catalogue, calendar, window, tz, uid_domain, calendars_busy or {},
                       fixed, today, stored)
    for body in _planning_order(catalogue):
        planner.plan_body(body)
    meetings = sorted(planner.meetings, key=lambda m: (m.start, m.body, m.group or "", m.uid))
    shown = [m for m in meetings if window.first <= m.day <= window.last]
    return Plan(tuple(shown), tuple(planner.problems))


def _planning_order(catalogue: Catalogue) -> list[Body]:
    """Targets of 'precedes' first; rounds (the hardest to fit) before single meetings."""

    def depth(body: Body) -> int:
        rules = body.rules_of(Precedes)
        return 0 if not rules else 1 + depth(catalogue.bodies[rules[0].body])

    return sorted(
        catalogue.bodies.values(),
        key=lambda b: (depth(b), not b.rules_of(Round), b.id),
    )


@dataclass
class _Slot:
    """A meeting still to place: its slot id, the allowed range and the ideal day."""

    slot: str
    first: date
    last: date
    ideal: date
    group: str | None
    reasons: list[Reason]


class _Planner:
    def __init__(
        self,
        catalogue: Catalogue,
        calendar: WorkCalendar,
        window: Window,
        tz: ZoneInfo,
        uid_domain: str,
        calendars_busy: Mapping[str, Sequence[tuple[datetime, datetime]]],
        fixed: Sequence[Meeting] = (),
        today: date | None = None,
        stored: Sequence[Meeting] = (),
    ) -> None:
        self.catalogue, self.calendar, self.window, self.tz = catalogue, calendar, window, tz
        self.stored: dict[str, list[Meeting]] = {}
        for meeting in sorted(stored, key=lambda m: (m.start, m.uid)):
            self.stored.setdefault(meeting.body, []).append(meeting)
        self.uid_domain = uid_domain
        self.calendars_busy: dict[str, dict[date, list[tuple[datetime, datetime]]]] = {}
        for org, intervals in calendars_busy.items():
            by_day = self.calendars_busy.setdefault(org, {})
            for begin, end in intervals:
                for day in self._days_touched(begin, end):
                    by_day.setdefault(day, []).append((begin, end))
        self.meetings: list[Meeting] = []
        self.by_body: dict[str, list[Meeting]] = {}
        self.problems: list[PlanProblem] = []
        self.busy: dict[str, dict[date, str]] = {}  # convener -> day -> body id
        self.slots: dict[str, set[str]] = {}  # body -> slots taken, cancelled ones included
        self._convener_cache: dict[str, tuple[str, ...]] = {}
        self._invited_cache: dict[tuple[str, str | None], frozenset[str]] = {}
        self._overlaps: dict[tuple[str, str | None], frozenset[tuple[str, str | None]]] = {}
        self._inviting: dict[str, list[tuple[str, str | None]]] | None = None
        self.met_on: dict[str, set[date]] = {}  # body -> days it meets (counted meetings)
        self.cancelled_on: dict[str, set[date]] = {}  # body -> days a meeting was cancelled
        self.keys_on_day: dict[date, set[tuple[str, str | None]]] = {}  # (body, group) meeting
        self.fixed_uids = {m.uid for m in fixed}
        for meeting in fixed:
            if meeting.body in catalogue.bodies:
                self._add(meeting)
        claimed = {(m.body, stamp_key(m.known)) for m in fixed if m.known}
        for body in catalogue.bodies.values():
            for known in body.meetings:
                meeting = self._known(body, known)
                if (body.id, known_key(known)) not in claimed and meeting.uid not in self.fixed_uids:
                    self._add(meeting)
        for meeting in fixed:
            if today is not None and meeting.day >= today and meeting.body in catalogue.bodies:
                self._check_decided(catalogue.bodies[meeting.body], meeting)

    # -- bookkeeping ----------------------------------------------------------------------

    def _add(self, meeting: Meeting) -> None:
        self.meetings.append(meeting)
        self.by_body.setdefault(meeting.body, []).append(meeting)
        self.slots.setdefault(meeting.body, set()).add(meeting.slot)
        if not meeting.counts:  # cancelled: its day is no day for a replacement
            self.cancelled_on.setdefault(meeting.body, set()).add(meeting.day)
        if meeting.counts:
            self.keys_on_day.setdefault(meeting.day, set()).add((meeting.body, meeting.group))
            self.met_on.setdefault(meeting.body, set()).add(meeting.day)
            for convener in meeting.conveners:
                self.busy.setdefault(convener, {}).setdefault(meeting.day, meeting.body)

    def _severity(self, natural_first: date) -> Severity:
        """A period cut short by the window's start is a warning, not an error: the part before
        the window is past (or not asked for), and what was held then belongs in the data as
        known meetings. A period wholly inside the window that has no room is an error."""
        return "warning" if natural_first < self.window.first else "error"

    def _problem(self, body: Body, severity: Severity, key: str, **params: Any) -> None:
        self.problems.append(PlanProblem(body.id, severity, key, params))

    def _meeting(
        self, body: Body, slot: str, day: date, status: MeetingStatus, group: str | None,
        reasons: Iterable[Reason] = (), sources: Iterable[str] = (),
        start: time | None = None,
    ) -> Meeting:
        begin = datetime.combine(day, start or body.shape.start, tzinfo=self.tz)
        end = (begin.astimezone(ZoneInfo("UTC")) + body.shape.duration).astimezone(self.tz)
        return Meeting(
            uid=f"{body.id}-{slot}@{self.uid_domain}",
            body=body.id,
            slot=slot,
            start=begin,
            end=end,
            conveners=self._conveners(body),
            organisations=self.catalogue.participants(body, group),
            group=group,
            status=status,
            reasons=tuple(reasons),
            sources=tuple(sources),
        )

    def _known(self, body: Body, known: KnownMeeting) -> Meeting:
        slot = known_key(known)
        reason = Reason("known-meeting", {"status": known.status, "source": known.source})
        meeting = self._meeting(
            body, slot, known.date, MeetingStatus(known.status), known.group, [reason], [known.source],
            start=known.start,
        )
        return replace(meeting, known=known_stamp(known))

    def _check_decided(self, body: Body, meeting: Meeting) -> None:
        """A decided meeting still ahead that the rules now refuse is reported (issue 9)."""
        if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.FIXED):
            return
        blocked = self.calendar.blocked(meeting.day)
        why = Reason(f"blocked-{blocked.kind}", {"day": meeting.day, "label": blocked.label}) \
            if blocked else None
        months = self._months(body)
        if why is None and months is not None and meeting.day.month not in months:
            why = Reason("outside-months", {"day": meeting.day})
        if why is not None:
            self._problem(body, "warning", "decided-against-rules", day=meeting.day,
                          uid=meeting.uid, why=why)

    def _new_slot(self, body: Body, base: str, numbered: bool) -> str:
        """A slot of ``body`` not taken yet: ``base-1``, ``base-2``... for a counted period;
        ``base`` itself, else ``base-2``... for a round's group or a preparation. A taken
        slot is never reused: a cancelled meeting's UID stays the cancelled one's."""
        taken = self.slots.setdefault(body.id, set())
        n = 1
        while True:
            slot = f"{base}-{n}" if numbered or n > 1 else base
            if slot not in taken:
                taken.add(slot)
                return slot
            n += 1

    def counted(self, body_id: str, first: date, last: date, group: str | None = None) -> list[Meeting]:
        return [
            m for m in self.by_body.get(body_id, ())
            if m.counts and first <= m.day <= last and (group is None or m.group == group)
        ]

    # -- per body -------------------------------------------------------------------------

    def plan_body(self, body: Body) -> None:
        if not body.conveners:
            self._problem(body, "warning", "no-convener", gap=body.gaps.conveners)
        if not body.cadence:
            self._problem(body, "warning", "no-cadence", gap=body.gaps.cadence)
            return
        # Preparatory meetings first: they count towards the body's own yearly targets too.
        for preparation in body.rules_of(Precedes):
            self._plan_preparations(body, preparation)
        if body.rules_of(Round):
            self._plan_rounds(body, body.rules_of(Round)[0])
        else:
            for rule in body.rules_of(PerYear):
                self._plan_per_year(body, rule)
        for term_rule in body.rules_of(PerTerm):
            self._plan_per_term(body, term_rule)
        if not body.count_rules:
            self._problem(body, "warning", "no-count-rule")

    def _months(self, body: Body) -> frozenset[int] | None:
        rules = body.rules_of(Months)
        return frozenset(rules[0].months) if rules else None

    def _plan_per_year(self, body: Body, rule: PerYear) -> None:
        months = self._months(body)
        for year in self.window.years():
            self._check_year_maximum(body, rule, year)
            need = rule.planned_count - len(self.counted(body.id, date(year, 1, 1), date(year, 12, 31)))
            if need <= 0:
                continue
            span = self._span_in_months(self.window.clip(date(year, 1, 1), date(year, 12, 31)), months)
            if span is None:
                self._problem(body, "warning", "outside-window", year=year, source=rule.source)
                continue
            context = Reason("rule-per-year", {"min": rule.min, "max": rule.max, "source": rule.source})
            self._place_count(body, f"{year}", span, need, context, date(year, 1, 1))

    def _plan_per_term(self, body: Body, rule: PerTerm) -> None:
        for term in self.catalogue.region.terms:
            span = self.window.clip(term.start, term.end)
            if span is None:
                continue
            already = len(self.counted(body.id, term.start, term.end))
            if already > rule.max_count:
                self._problem(body, "error", "too-many-term", term=term.id, found=already, max=rule.max)
            need = rule.planned_count - already
            if need <= 0:
                continue
            span = self._span_in_months(span, self._months(body))
            if span is None:
                self._problem(body, "warning", "outside-window-term", term=term.id, source=rule.source)
                continue
            context = Reason("rule-per-term", {"min": rule.min, "max": rule.max, "term": term.id,
                                               "source": rule.source})
            self._place_count(body, term.id, span, need, context, term.start)

    def _check_year_maximum(self, body: Body, rule: PerYear, year: int) -> None:
        count = len(self.counted(body.id, date(year, 1, 1), date(year, 12, 31)))
        if count > rule.max_count:
            self._problem(body, "error", "too-many-year", year=year, found=count, max=rule.max)

    @staticmethod
    def _span_in_months(
        span: tuple[date, date] | None, months: frozenset[int] | None
    ) -> tuple[date, date] | None:
        if span is None or months is None:
            return span
        first, last = span
        while first <= last and first.month not in months:  # a month at a time
            first = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        while last >= first and last.month not in months:
            last = last.replace(day=1) - timedelta(days=1)
        return (first, last) if first <= last else None

    # -- placing counted meetings ----------------------------------------------------------

    def _place_count(
        self, body: Body, period: str, span: tuple[date, date], need: int, context: Reason,
        natural_first: date,
    ) -> None:
        first, last = span
        need -= len(self._keep(body, first, last, None, need, self._rejection))
        if need <= 0:
            return
        preferred = self._preferred_span(body, span)
        aim_first, aim_last = preferred or span
        existing = self.counted(body.id, first, last)
        cancelled = [m for m in self.by_body.get(body.id, ()) if not m.counts
                     and first <= m.day <= last]
        ideals = _open_ideals(aim_first, aim_last, [m.day for m in existing], need)
        for i, ideal in enumerate(ideals):
            reasons = [context, Reason("spread", {"index": len(existing) + i + 1,
                                                  "count": len(existing) + need, "ideal": ideal})]
            if preferred:
                reasons.append(Reason("preferred-months", {"months": list(body.shape.preferred_months)}))
            if cancelled:
                reasons.append(Reason("replaces", {"day": min(m.day for m in cancelled)}))
            slot = _Slot(self._new_slot(body, period, numbered=True), first, last, ideal, None, reasons)
            placed = self._place(body, slot)
            if cancelled:  # the coordinator hears of the replacement, or that there is none
                self._replacement(body, cancelled, placed, first, last, context)
            elif placed is None:
                self._problem(body, self._severity(natural_first), "no-valid-date", first=first, last=last,
                              source=context.params.get("source"))

    def _keep(self, body: Body, first: date, last: date, group: str | None, most: int,
              rejection: Callable[[Body, date], Reason | None]) -> list[Meeting]:
        """Up to ``most`` of the body's stored meetings in [first, last] (of ``group``) whose
        day ``rejection`` still allows, kept as they are."""
        kept: list[Meeting] = []
        pool = self.stored.get(body.id, [])
        for meeting in list(pool):
            if len(kept) >= most:
                break
            if meeting.group == group and first <= meeting.day <= last \
                    and meeting.slot not in self.slots.get(body.id, set()) \
                    and rejection(body, meeting.day) is None:
                pool.remove(meeting)
                self._add(meeting)
                kept.append(meeting)
        return kept

    def _replacement(self, body: Body, cancelled: list[Meeting], placed: Meeting | None,
                     first: date, last: date, context: Reason) -> None:
        """A cancelled meeting left the period below its target (issue 9)."""
        instead = min(cancelled, key=lambda m: (abs((m.day - (placed.day if placed else m.day)).days), m.uid))
        if placed is None:
            self._problem(body, "error", "no-replacement", cancelled=instead.day, first=first,
                          last=last, source=context.params.get("source"))
        else:
            self._problem(body, "warning", "replacement", cancelled=instead.day, day=placed.day,
                          uid=placed.uid, source=context.params.get("source"))

    def _preferred_span(self, body: Body, span: tuple[date, date]) -> tuple[date, date] | None:
        """The first and last allowed day in the preferred months (scanned from both ends)."""
        wanted = frozenset(body.shape.preferred_months)
        if not wanted:
            return None
        months = self._months(body)

        def usable(day: date) -> bool:
            return day.month in wanted and (months is None or day.month in months) and self._allowed(body, day)

        first = next((d for d in _days(*span) if usable(d)), None)
        if first is None:
            return None
        last = next(d for d in _days_backwards(first, span[1]) if usable(d))
        return first, last

    def _place(self, body: Body, slot: _Slot) -> Meeting | None:
        """Put ``slot`` on the allowed day nearest its ideal day (earlier wins a tie). A day on
        which a body inviting largely the same organisations meets is taken only if no day
        free of that is allowed within SHARED_DAY_REACH of the first allowed one (issue 9:
        the same people would be invited twice in one day)."""
        rejected: list[Reason] = []
        shared: tuple[date, list[Reason]] | None = None
        for day in _outward(slot.ideal, slot.first, slot.last):
            if shared is not None and abs((day - slot.ideal).days) > abs(
                    (shared[0] - slot.ideal).days) + SHARED_DAY_REACH.days:
                break
            why = self._rejection(body, day)
            if why is None:
                why = self._shared_day(body, slot.group, day)
                if why is None:
                    return self._put(body, slot, day, rejected)
                if shared is None:
                    shared = (day, list(rejected))
            if why.key not in _UNREMARKABLE and len(rejected) < _MAX_EXPLAINED_REJECTIONS:
                rejected.append(why)
        return self._put(body, slot, shared[0], shared[1]) if shared else None

    def _put(self, body: Body, slot: _Slot, day: date, rejected: list[Reason]) -> Meeting:
        reasons = [*slot.reasons, *rejected[:_MAX_EXPLAINED_REJECTIONS], self._free(body, day)]
        meeting = self._meeting(body, slot.slot, day, MeetingStatus.PLANNED, slot.group, reasons,
                                _rule_sources(body))
        self._add(meeting)
        return meeting

    def _shared_day(self, body: Body, group: str | None, day: date) -> Reason | None:
        """Another body meeting that day invites at least half of this one's organisations
        (or half of its own, when it is the smaller)."""
        overlapping = self._overlapping(body.id, group)
        meeting_there = self.keys_on_day.get(day)
        if not meeting_there or overlapping.isdisjoint(meeting_there):
            return None
        other = min(key[0] for key in overlapping.intersection(meeting_there))
        return Reason("shared-day", {"day": day, "other": other})

    def _overlapping(self, body: str, group: str | None) -> frozenset[tuple[str, str | None]]:
        """The (body, group) pairs of other bodies inviting largely the same organisations,
        counted through an index of who invites each organisation: one pass per body."""
        key = (body, group)
        if key not in self._overlaps:
            if self._inviting is None:
                self._inviting = self._index_invitations()
            mine = self._invited(body, group)
            shared: Counter[tuple[str, str | None]] = Counter()
            for organisation in mine:
                shared.update(self._inviting.get(organisation, ()))
            self._overlaps[key] = frozenset(
                other for other, count in shared.items() if other[0] != body
                and count * 2 >= min(len(mine), len(self._invited(*other))))
        return self._overlaps[key]

    def _index_invitations(self) -> dict[str, list[tuple[str, str | None]]]:
        """Organisation -> the (body, group) pairs whose meetings invite it; a body with a
        round (or preparing one) meets per grouping member, so each member is a pair."""
        index: dict[str, list[tuple[str, str | None]]] = {}
        for body in self.catalogue.bodies.values():
            for group in [None, *self._groups_of(body)]:
                for organisation in self._invited(body.id, group):
                    index.setdefault(organisation, []).append((body.id, group))
        return index

    def _conveners(self, body: Body) -> tuple[str, ...]:
        found = self._convener_cache.get(body.id)
        if found is None:
            found = self._convener_cache[body.id] = body.convener_ids
        return found

    def _groups_of(self, body: Body) -> list[str]:
        """The grouping members ``body`` meets per: its round's, or (preparing per group)
        the round's of the body it prepares."""
        rounds = list(body.rules_of(Round))
        for rule in body.rules_of(Precedes):
            target = self.catalogue.bodies.get(rule.body)
            if rule.per_group and target is not None:
                rounds += target.rules_of(Round)
        return [m.id for rule in rounds if rule.grouping in self.catalogue.groupings
                for m in self.catalogue.groupings[rule.grouping].members]

    def _invited(self, body_id: str, group: str | None) -> frozenset[str]:
        key = (body_id, group)
        if key not in self._invited_cache:
            body = self.catalogue.bodies.get(body_id)
            self._invited_cache[key] = frozenset(
                self.catalogue.participants(body, group) if body else ())
        return self._invited_cache[key]

    def _days_touched(self, begin: datetime, end: datetime) -> Iterator[date]:
        """Every local day of the window that [begin, end) touches: a week's absence is
        busy on each of its days, not only the first."""
        day = max(begin.astimezone(self.tz).date(), self.window.first)
        last = min((end - timedelta(microseconds=1)).astimezone(self.tz).date(), self.window.last)
        while day <= last:
            yield day
            day += timedelta(days=1)

    def _calendar_busy(self, body: Body, convener: str, day: date) -> bool:
        """Whether the convener's own calendar is busy during the meeting's hours that day."""
        intervals = self.calendars_busy.get(convener, {}).get(day)
        if not intervals:
            return False
        begin = datetime.combine(day, body.shape.start, tzinfo=self.tz)
        end = begin + body.shape.duration
        return any(b < end and begin < e for b, e in intervals)

    @staticmethod
    def _free(body: Body, day: date) -> Reason:
        return Reason("free-day" if body.conveners else "free-day-no-convener", {"day": day})

    def _allowed(self, body: Body, day: date) -> bool:
        return self._rejection(body, day) is None

    def _rejection(self, body: Body, day: date) -> Reason | None:
        """Why ``body`` cannot meet on ``day``, or ``None``."""
        blocked = self.calendar.blocked(day)
        if blocked is not None:
            return Reason(f"blocked-{blocked.kind}", {"day": day, "label": blocked.label})
        if _weekday_name(day) not in body.shape.weekdays:
            return Reason("not-weekday", {"day": day})
        months = self._months(body)
        if months is not None and day.month not in months:
            return Reason("outside-months", {"day": day})
        for convener in self._conveners(body):
            other = self.busy.get(convener, {}).get(day)
            if other is not None:
                return Reason("convener-busy", {"day": day, "convener": convener, "other": other})
            if self._calendar_busy(body, convener, day):
                return Reason("convener-calendar-busy", {"day": day, "convener": convener})
        if day in self.met_on.get(body.id, ()):
            return Reason("body-busy", {"day": day})
        if day in self.cancelled_on.get(body.id, ()):
            return Reason("cancelled-day", {"day": day})
        for rule in body.rules_of(Precedes):
            if day in self.met_on.get(rule.body, ()):
                return Reason("target-busy", {"day": day, "target": rule.body})
        return None

    # -- rounds -----------------------------------------------------------------------------

    def _plan_rounds(self, body: Body, rule: Round) -> None:
        counts = body.rules_of(PerYear)
        if not counts:
            self._problem(body, "warning", "round-without-count", grouping=rule.grouping)
            return
        members = [m.id for m in self.catalogue.groupings[rule.grouping].members]
        months = self._months(body)
        for year in self.window.years():
            missing = [
                g for g in members
                if not self.counted(body.id, date(year, 1, 1), date(year, 12, 31), g)
                and not self._keep(body, date(year, 1, 1), date(year, 12, 31), g, 1,
                                   self._round_rejection)
            ]
            if not missing or counts[0].planned_count == 0:
                continue
            span = self._span_in_months(self.window.clip(date(year, 1, 1), date(year, 12, 31)), months)
            if span is None:
                self._problem(body, "warning", "outside-window", year=year, source=rule.source)
                continue
            if not self._place_round(body, rule, year, missing, span):
                self._problem(body, self._severity(date(year, 1, 1)), "no-round", year=year, groups=len(missing),
                              weekday=rule.weekday, first=span[0], last=span[1], source=rule.source)

    def _place_round(
        self, body: Body, rule: Round, year: int, groups: list[str], span: tuple[date, date]
    ) -> bool:
        """One meeting per group on ``rule.weekday`` of successive weeks, in group order.

        Consecutive weeks when possible; otherwise a blocked week (an autumn break, a holiday)
        is skipped rather than breaking the round. Fewest skipped weeks wins, then earliest.
        """
        offset = (_WEEKDAY_INDEX[rule.weekday] - span[0].weekday()) % 7
        first_day = span[0] + timedelta(days=offset)
        best: tuple[int, list[date], list[Reason]] | None = None
        start = first_day
        while start + timedelta(weeks=len(groups) - 1) <= span[1]:
            found = self._round_from(body, start, len(groups), span[1])
            if found is not None and (best is None or len(found[1]) < best[0]):
                best = (len(found[1]), found[0], found[1])
                if best[0] == 0:
                    break
            start += timedelta(weeks=1)
        if best is None:
            return False
        _, days, skipped = best
        for k, (group, day) in enumerate(zip(groups, days, strict=True)):
            reasons = [
                Reason("rule-round", {"grouping": rule.grouping, "weekday": rule.weekday,
                                      "index": k + 1, "count": len(groups), "source": rule.source}),
                *skipped[:_MAX_EXPLAINED_REJECTIONS],
                self._free(body, day),
            ]
            self._add(self._meeting(body, self._new_slot(body, f"{year}-{group}", numbered=False), day,
                                    MeetingStatus.PLANNED, group, reasons, _rule_sources(body)))
        return True

    def _round_from(
        self, body: Body, start: date, count: int, last: date
    ) -> tuple[list[date], list[Reason]] | None:
        """Free days on ``start``'s weekday from ``start`` on, skipping blocked weeks."""
        days: list[date] = []
        skipped: list[Reason] = []
        day = start
        while len(days) < count and day <= last:
            why = self._round_rejection(body, day)
            if why is None:
                days.append(day)
            elif days:
                skipped.append(why)
            else:
                return None  # a round starts on a free day
            day += timedelta(weeks=1)
        return (days, skipped) if len(days) == count else None

    def _round_rejection(self, body: Body, day: date) -> Reason | None:
        blocked = self.calendar.blocked(day)
        if blocked is not None:
            return Reason(f"blocked-{blocked.kind}", {"day": day, "label": blocked.label})
        for convener in self._conveners(body):
            other = self.busy.get(convener, {}).get(day)
            if other is not None:
                return Reason("convener-busy", {"day": day, "convener": convener, "other": other})
        return None

    # -- preparatory meetings ---------------------------------------------------------------

    def _plan_preparations(self, body: Body, rule: Precedes) -> None:
        targets = [
            m for m in self.by_body.get(rule.body, ())
            if m.status in (MeetingStatus.PLANNED, MeetingStatus.FIXED)
            and self.window.first <= m.day <= self.window.last
        ]
        for target in sorted(targets, key=lambda m: (m.start, m.uid)):
            self._prepare_for(body, rule, target)

    def _prepare_for(self, body: Body, rule: Precedes, target: Meeting) -> None:
        group = target.group if rule.per_group else None
        first, last = target.day - rule.max_lead, target.day - rule.min_lead
        if self.counted(body.id, first, last, group) \
                or self._keep(body, first, last, group, 1, self._rejection):
            return
        span = self.window.clip(first, last)
        if span is None:
            self._problem(body, "warning", "preparation-before-window", target=target.uid,
                          day=target.day)
            return
        ideal = target.day - (rule.min_lead + rule.max_lead) / 2
        reasons = [Reason("rule-precedes", {"target": rule.body, "target_day": target.day,
                                            "min_lead": rule.min_lead, "max_lead": rule.max_lead,
                                            "source": rule.source})]
        slot = _Slot(self._new_slot(body, f"for-{target.slot}", numbered=False), span[0], span[1],
                     ideal, group, reasons)
        if self._place(body, slot) is None:
            self._problem(body, self._severity(first), "no-valid-date", first=span[0], last=span[1],
                          source=rule.source)


def known_key(known: KnownMeeting) -> str:
    """How a known meeting of bodies/ is named: its date, and its group if it has one."""
    return known.date.isoformat() + (f"-{known.group}" if known.group else "")


def known_stamp(known: KnownMeeting) -> str:
    """What a stored meeting remembers of the known meeting it stands for: its key, and its
    status and time, so that an edit of them in bodies/ is applied, once."""
    clock = known.start.strftime("%H:%M") if known.start else ""
    return f"{known_key(known)}|{known.status}|{clock}"


def stamp_key(stamp: str | None) -> str | None:
    """The known meeting's key (date[-group]) in a stamp ``known_stamp`` made."""
    return stamp.split("|")[0] if stamp else None


def _open_ideals(first: date, last: date, taken: list[date], need: int) -> list[date]:
    """The ideal days of ``need`` more meetings in [first, last]: the whole period's evenly
    spread ideals, less the one nearest each meeting already there, so that a meeting
    decided on its own day leaves the others where they were (issue 9)."""
    total = len(taken) + need
    ideals = [first + (last - first) * (2 * i + 1) / (2 * total) for i in range(total)]
    for day in sorted(taken):
        if len(ideals) > need:
            ideals.remove(min(ideals, key=lambda ideal: (abs((ideal - day).days), ideal)))
    return ideals[:need]


def _rule_sources(body: Body) -> tuple[str, ...]:
    return tuple(rule.source for rule in body.cadence)


def _weekday_name(day: date) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _days_backwards(first: date, last: date) -> Iterator[date]:
    day = last
    while day >= first:
        yield day
        day -= timedelta(days=1)


def _outward(ideal: date, first: date, last: date) -> Iterator[date]:
    """Days of ``[first, last]`` by distance from ``ideal``; the earlier day first on a tie."""
    ideal = min(max(ideal, first), last)
    yield ideal
    step = 1
    while True:
        before, after = ideal - timedelta(days=step), ideal + timedelta(days=step)
        if before < first and after > last:
            return
        if before >= first:
            yield before
        if after <= last:
            yield after
        step += 1

