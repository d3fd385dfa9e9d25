"""The catalogue's vocabulary as frozen, validated data: organisations, groupings, bodies, rules.

Glossary (Finnish in the data, English in the code):
    yhteistyöelin, toimielin -> Body            kokoonkutsuja, koollekutsuja -> convener
    kokousrytmi              -> cadence (Rule)  kuntaryhmä -> grouping member (GroupMember)
    valtuustokausi           -> Term            esityslistan valmistelu -> co_preparers
    etäkokous                -> mode "remote"   tunnettu kokous -> KnownMeeting
    aukko (asiakirjat vaikenevat) -> gap

These models are the schema of ``bodies/`` (checked once, at the edge, by ``catalogue``) and
the plain values the pure core works with. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Id = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Month = Annotated[int, Field(ge=1, le=12)]
Source = Annotated[str, Field(min_length=3, max_length=500)]

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
_LONGEST = timedelta(days=366)  # no lead time or meeting is longer; more is a typo


def parse_duration(value: object) -> timedelta:
    """ISO 8601 durations as used in bodies and config: ``P6W``, ``P1D``, ``PT3H``, ``PT1H30M``."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or value in ("P", "PT") or str(value).endswith("T"):
        raise ValueError(f"expected an ISO 8601 duration such as P6W, P1D or PT2H, got {value!r}")
    weeks, days, hours, minutes = (int(part or 0) for part in match.groups())
    try:
        result = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    except OverflowError:
        result = timedelta.max
    if result > _LONGEST:
        raise ValueError(f"expected a duration of at most a year (P52W), got {value!r}")
    return result


# -- times of day ------------------------------------------------------------------------------
# Accepted as text: "13:00", "9:00", "09:00" and the Finnish "13.00", "9.00". Anything else
# that still reads as one time of day is refused with that time spelled "9:00", so the
# message always says exactly what to write. Unquoted, 9:00 is a YAML 1.1 trap (refused by
# yamlsource) and 9.00 arrives here as the number 9.0.

_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$", re.ASCII)
_CLOCK_PREFIX = re.compile(r"^(?:klo|kl\.?)\s*", re.IGNORECASE)  # "klo 9", Swedish "kl. 9"
_CLOCK_NEAR = (
    re.compile(r"^(\d{1,2})$", re.ASCII),  # "9": the hour alone
    re.compile(r"^(\d{1,2})[:.](\d{2})[:.]00$", re.ASCII),  # "09:00:00": seconds
    re.compile(r"^(\d{1,2})(\d{2})$", re.ASCII),  # "0900", "1300": run together
)


def parse_clock(value: object) -> time:
    """A time of day written ``"13:00"``, ``"9:00"`` or the Finnish way ``"13.00"``."""
    if isinstance(value, time):
        return value
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match:
        return time(int(match.group(1)), int(match.group(2)))
    expected = 'expected a time of day in quotes such as "13:00"'
    suggestion = _clock_suggestion(value)
    if suggestion is None:
        raise ValueError(f'{expected}, from "0:00" to "23:59"; got {_shown(value)}')
    raise ValueError(f'{expected}; got {_shown(value)}; write "{suggestion}"')


def _clock_suggestion(value: object) -> str | None:
    """The one time of day a refused value reads as, spelled ``9:00``; None if not exactly one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # unquoted 9 (the hour) or 1300 (hours and minutes)
        return _clock_text(value, 0) if value < 100 else _clock_text(*divmod(value, 100))
    if isinstance(value, float):
        return _clock_of_number(value)
    if not isinstance(value, str):
        return None
    text = _CLOCK_PREFIX.sub("", value.strip())
    if _CLOCK.match(text):
        return _clock_text(int(text[:-3]), int(text[-2:]))
    for pattern in _CLOCK_NEAR:
        if match := pattern.match(text):
            hour, minute = (int(part) for part in (*match.groups(), "0")[:2])
            return _clock_text(hour, minute)
    return None


def _clock_of_number(value: float) -> str | None:
    # Unquoted 9.30 (half past nine, the Finnish way) arrives as 9.3: the digits after the
    # point are the minutes, padded to two.
    hours, _, fraction = repr(value).partition(".")
    if not hours.isdigit() or not fraction.isdigit() or len(fraction) > 2:
        return None
    return _clock_text(int(hours), int(fraction.ljust(2, "0")))


def _clock_text(hour: int, minute: int) -> str | None:
    return f"{hour}:{minute:02d}" if 0 <= hour <= 23 and 0 <= minute <= 59 else None


# -- dates -------------------------------------------------------------------------------------
# A date is written YYYY-MM-DD, quoted or not (unquoted YAML reads it as a date already).
# Other spellings of one real day are refused with that day written YYYY-MM-DD.

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_WITH_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ]\d{1,2}[:.]\d{2}(?::\d{2})?$", re.ASCII)
_DATE_NEAR = (  # (pattern, which groups hold the year, month and day)
    (re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$", re.ASCII), (1, 2, 3)),  # "2026-2-18"
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", re.ASCII), (3, 2, 1)),  # "18.2.2026"
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII), (1, 2, 3)),  # "20260218"
    (_WITH_TIME, (1, 2, 3)),  # "2026-02-18 10:00"
)


def parse_day(value: object) -> date:
    """A date written ``2026-02-18``, with or without quotes."""
    if isinstance(value, datetime):  # unquoted 2026-02-18T10:00:00 is a YAML timestamp
        value = f"{value:%Y-%m-%d %H:%M}"
    elif isinstance(value, date):
        return value
    if isinstance(value, str) and (match := _ISO_DATE.match(value)):
        day = _real_day(*(int(part) for part in match.groups()))
        if day is None:
            raise ValueError(f"expected a real date written YYYY-MM-DD; got {value!r}, "
                             "which is not a day of the calendar")
        return day
    suggestion = _day_suggestion(value)
    if suggestion is None:
        raise ValueError(f"expected a date written YYYY-MM-DD such as 2026-02-18; "
                         f"got {_shown(value)}")
    if isinstance(value, str) and _WITH_TIME.match(value.strip()):
        raise ValueError(f"expected a date alone, written YYYY-MM-DD (a meeting's time of day "
                         f"goes in its start); got {value!r}; write {suggestion.isoformat()}")
    raise ValueError(f"expected a date written YYYY-MM-DD; got {_shown(value)}; "
                     f"write {suggestion.isoformat()}")


def _day_suggestion(value: object) -> date | None:
    """The one real day a refused value reads as; None if not exactly one."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    for pattern, order in _DATE_NEAR:
        if match := pattern.match(value.strip()):
            year, month, day = (int(match.group(group)) for group in order)
            return _real_day(year, month, day)
    return None


def _real_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _shown(value: object) -> str:
    """A refused value in a message: text quoted, numbers and yes/no values named."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return repr(value)


# Dates a catalogue may name: far-off years are typos (and 9999-12-31 + a lead time overflows).
# The range comes before the parser so that its message shows the dates as YYYY-MM-DD.
Day = Annotated[
    date, Field(ge=date(1990, 1, 1), le=date(2100, 12, 31)), BeforeValidator(parse_day)
]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Clock = Annotated[time, BeforeValidator(parse_clock)]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("expected a duration longer than zero")
    return value


def _at_most_a_week(value: timedelta) -> timedelta:
    if value > timedelta(days=7):
        raise ValueError("expected a meeting of at most a week (P7D)")
    return value


PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
MeetingLength = Annotated[PositiveDuration, AfterValidator(_at_most_a_week)]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Names(Frozen):
    """A name in the three languages the service speaks: Finnish, Swedish, English."""

    fi: Annotated[str, Field(min_length=1)]
    sv: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def get(self, language: str) -> str:
        return str(getattr(self, language, self.fi))


class Text(Frozen):
    """Free text: Finnish required, Swedish and English where someone has written them."""

    fi: Annotated[str, Field(min_length=1)]
    sv: str | None = None
    en: str | None = None

    def get(self, language: str) -> str:
        return getattr(self, language, None) or self.fi


class Address(Frozen):
    street: str
    postcode: Annotated[str, Field(pattern=r"^\d{5}$")]
    city: str


class Organisation(Frozen):
    id: Id
    kind: Literal["municipality", "regional-council", "wellbeing-county", "state", "other"]
    party: bool = False
    name: Names
    business_id: Annotated[str, Field(pattern=r"^\d{7}-\d$")] | None = None
    address: Address | None = None
    source: Source
    note: Text | None = None  # e.g. how a name in the documents was read ("Oletus: ...")


class GroupMember(Frozen):
    id: Id
    name: Names
    organisations: list[Id]
    note: Text | None = None


class Grouping(Frozen):
    """A named set of organisations, flat (``organisations``) or split into ``members``."""

    id: Id
    name: Names
    organisations: list[Id] = []
    members: list[GroupMember] = []
    partition_of: Id | None = None
    source: Source
    note: Text | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Grouping:
        if self.organisations and self.members:
            raise ValueError("give either organisations or members, not both")
        return self


class Term(Frozen):
    id: Annotated[str, Field(pattern=r"^\d{4}-\d{4}$")]
    start: Day
    end: Day
    source: Source

    @model_validator(mode="after")
    def _ordered(self) -> Term:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        if self.end - self.start > timedelta(days=6 * 366):
            raise ValueError(f"a council term of {self.start}..{self.end} is longer than six years")
        return self


class Region(Frozen):
    id: Id
    name: Names
    terms: Annotated[list[Term], Field(min_length=1)]
    source: Source


class Participant(Frozen):
    """An organisation or a whole grouping (member) taking part, with its role."""

    organisation: Id | None = None
    group: Id | None = None
    role: Text | None = None
    source: Source | None = None
    note: Text | None = None  # an inference is marked "Oletus: ..." (issue 11)

    @model_validator(mode="after")
    def _exactly_one(self) -> Participant:
        if (self.organisation is None) == (self.group is None):
            raise ValueError("give exactly one of organisation or group")
        return self


class CoPreparer(Frozen):
    organisation: Id | None = None
    body: Id | None = None
    source: Source

    @model_validator(mode="after")
    def _exactly_one(self) -> CoPreparer:
        if (self.organisation is None) == (self.body is None):
            raise ValueError("give exactly one of organisation or body")
        return self


class _CountRule(Frozen):
    min: Annotated[int, Field(ge=0, le=366)] | None = None
    max: Annotated[int, Field(ge=0, le=366)] | None = None
    plan: Annotated[int, Field(ge=0, le=366)] | None = None
    source: Source
    note: Text | None = None

    @model_validator(mode="after")
    def _bounds(self) -> _CountRule:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.plan is not None and not self.min_count <= self.plan <= self.max_count:
            raise ValueError(f"plan ({self.plan}) must lie between min and max")
        return self

    @property
    def min_count(self) -> int:
        return self.min or 0

    @property
    def max_count(self) -> int:
        return 10_000 if self.max is None else self.max

    @property
    def planned_count(self) -> int:
        """How many meetings to plan: ``plan``, else the minimum (else the maximum)."""
        if self.plan is not None:
            return self.plan
        return self.min if self.min is not None else self.max_count


class PerYear(_CountRule):
    """Meetings per calendar year: kuntakokous >= 1, vaikuttamisryhmä 2-3."""

    kind: Literal["per-year"]


class PerTerm(_CountRule):
    """Meetings per council term: the strategic forum and the preparedness exercise, once."""

    kind: Literal["per-term"]


class Months(Frozen):
    """Every meeting of the body falls in these months: the follow-up in May."""

    kind: Literal["months"]
    months: Annotated[list[Month], Field(min_length=1)]
    source: Source
    note: Text | None = None


class Round(Frozen):
    """Each occurrence is a round: one meeting per member of a grouping, consecutive weeks."""

    kind: Literal["round"]
    grouping: Id
    weekday: Weekday
    source: Source
    note: Text | None = None


class Precedes(Frozen):
    """One meeting of this body between ``max_lead`` and ``min_lead`` before each meeting of
    another body (with ``per_group``: of the same grouping member)."""

    kind: Literal["precedes"]
    body: Id
    min_lead: PositiveDuration
    max_lead: PositiveDuration
    per_group: bool = False
    source: Source
    note: Text | None = None

    @model_validator(mode="after")
    def _window(self) -> Precedes:
        if self.min_lead > self.max_lead:
            raise ValueError("min_lead must not be longer than max_lead")
        return self


Rule = Annotated[PerYear | PerTerm | Months | Round | Precedes, Field(discriminator="kind")]


class Shape(Frozen):
    """How a meeting of the body usually looks; a default, not a rule."""

    weekdays: Annotated[list[Weekday], Field(min_length=1)] = ["tue", "wed", "thu"]
    start: Clock = time(9, 0)
    duration: MeetingLength = timedelta(hours=2)
    mode: Literal["remote", "in-person", "hybrid"] = "remote"
    location: Text | None = None
    online_url: Annotated[str, Field(pattern=r"^https://[^\s]+$", max_length=500)] | None = None
    preferred_months: list[Month] = []
    note: Text | None = None


class LeadTimes(Frozen):
    """The action chain's lead times (used from the invitations issue on)."""

    prepare: PositiveDuration = timedelta(weeks=6)
    request_items: PositiveDuration = timedelta(weeks=4)
    invite: PositiveDuration = timedelta(weeks=3)
    agenda: PositiveDuration = timedelta(weeks=1)
    remind: PositiveDuration = timedelta(days=1)
    minutes: PositiveDuration = timedelta(weeks=1)


class KnownMeeting(Frozen):
    """A meeting that is already fixed, held or cancelled; it counts towards the targets.

    It takes the place of the meeting the schedule has for the same body, group and year
    (term, for a body counted per term), keeping that meeting's UID (issue 9); ``extra``
    makes it a meeting of its own, in addition to those."""

    date: Day
    start: Clock | None = None
    status: Literal["fixed", "held", "cancelled"]
    group: Id | None = None
    title: Text | None = None
    extra: bool = False
    source: Source
    note: Text | None = None


class Gaps(Frozen):
    """What the documents leave unsaid, stated explicitly so reports can show it."""

    conveners: Text | None = None
    cadence: Text | None = None
    members: Text | None = None  # the documents name no (or only some) members


class Body(Frozen):
    id: Id
    name: Names
    level: Literal["1", "2", "3", "4", "measure", "statutory", "network", "informal"]
    description: Text | None = None
    conveners: list[Participant]
    members: list[Participant] = []
    co_preparers: list[CoPreparer] = []
    cadence: list[Rule]
    gaps: Gaps = Gaps()
    shape: Shape = Shape()
    lead_times: LeadTimes = LeadTimes()
    meetings: list[KnownMeeting] = []
    sources: Annotated[list[Source], Field(min_length=1)]
    note: Text | None = None  # what is read into the documents, marked "Oletus: ..."

    def rules_of(self, kind: type[_R]) -> list[_R]:
        return [rule for rule in self.cadence if isinstance(rule, kind)]

    @property
    def count_rules(self) -> list[PerYear | PerTerm | Precedes]:
        return [r for r in self.cadence if isinstance(r, PerYear | PerTerm | Precedes)]

    @property
    def convener_ids(self) -> tuple[str, ...]:
        return tuple(p.organisation for p in self.conveners if p.organisation)


_R = TypeVar("_R", PerYear, PerTerm, Months, Round, Precedes)

# A document number is three digits on their own: "612/2021" is a statute, not document 612.
_NUMBER = r"\d{3}(?!\d|/\d{4})"
_CITED = re.compile(rf"^\s*({_NUMBER})((?:\s*(?:,|/|\+|&|ja|och|and)\s*{_NUMBER})*)")


def cited(source: str) -> tuple[str, ...]:
    """The numbers of the documents a ``source`` text cites: it names them first
    ("000 yhdyspintasuunnitelma 2026 …", "001 ja 002 …")."""
    found = _CITED.match(source)
    if not found:
        return ()
    return (found.group(1), *re.findall(r"\d{3}", found.group(2)))


class SourceDocument(Frozen):
    """A document the catalogue rests on (``documents.yaml``), with the period it is valid
    for: a rule that rests only on documents no longer valid is still the last agreed rule,
    and reports say so (issue 11)."""

    id: Annotated[str, Field(pattern=r"^\d{3}$")]  # the number every ``source`` starts with
    title: Text
    issued: Day | None = None  # when it was written or signed
    valid_from: Day | None = None
    valid_until: Day | None = None  # None: in force until replaced (or not stated)
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SourceDocument:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(f"valid_until {self.valid_until} is before valid_from {self.valid_from}")
        return self

    def valid_on(self, day: date) -> bool:
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_until is None or day <= self.valid_until))


class Indicator(Frozen):
    """How a measure's progress is followed up: a yes/no milestone, a count of a body's held
    meetings (``body``, ``min``/``max`` per ``per``), or an external indicator (a survey,
    a strategy indicator) recorded by hand."""

    id: Id
    title: Text
    kind: Literal["milestone", "count", "external"]
    body: Id | None = None  # the body whose held meetings show it, where they can
    min: Annotated[int, Field(ge=0, le=366)] | None = None
    max: Annotated[int, Field(ge=0, le=366)] | None = None
    per: Literal["year", "term"] | None = None
    deadline: Text | None = None  # as the documents say it ("vuoden 2026 aikana")
    due: Day | None = None  # the last day that wording gives, for reports
    source: Source
    note: Text | None = None

    @model_validator(mode="after")
    def _count_needs_a_target(self) -> Indicator:
        if self.kind == "count" and (self.body is None or self.per is None
                                     or (self.min is None and self.max is None)):
            raise ValueError("a count indicator needs body, per and min or max")
        if self.kind != "count" and (self.min is not None or self.max is not None
                                     or self.per is not None):
            raise ValueError("min, max and per belong to count indicators only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Measure(Frozen):
    """One measure of the interface plan (``measures.yaml``): who is responsible, which
    bodies it concerns, its indicators and deadline, as the documents give them."""

    id: Id
    number: Annotated[int, Field(ge=1, le=99)]
    title: Names
    responsible: list[Participant]
    bodies: list[Id] = []
    indicators: Annotated[list[Indicator], Field(min_length=1)]
    deadline: Text | None = None
    due: Day | None = None
    source: Source
    note: Text | None = None

    @model_validator(mode="after")
    def _unique_indicators(self) -> Measure:
        ids = [indicator.id for indicator in self.indicators]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"indicator ids must be unique within a measure: {', '.join(twice)}")
        return self


@dataclass(frozen=True)
class Catalogue:
    """Everything in ``bodies/``, cross-checked: ids resolve, groups partition what they claim."""

    region: Region
    organisations: dict[str, Organisation]
    groupings: dict[str, Grouping]
    bodies: dict[str, Body]
    documents: dict[str, SourceDocument] = field(default_factory=dict)  # documents.yaml
    measures: dict[str, Measure] = field(default_factory=dict)  # measures.yaml

    def expired_only(self, sources: Iterable[str], day: date) -> bool:
        """Whether ``sources`` cite documents and every one cited is no longer valid on
        ``day``: the rule is the last agreed one, and the reader should know (issue 11)."""
        found = [self.documents[number] for text in sources for number in cited(text)
                 if number in self.documents]
        return bool(found) and not any(document.valid_on(day) for document in found)

    def group_members(self, group_id: str) -> tuple[str, ...]:
        """Organisation ids of a grouping (all its members) or of one grouping member."""
        if group_id in self.groupings:
            grouping = self.groupings[group_id]
            ids = list(grouping.organisations)
            for member in grouping.members:
                ids.extend(member.organisations)
            return tuple(dict.fromkeys(ids))
        for grouping in self.groupings.values():
            for member in grouping.members:
                if member.id == group_id:
                    return tuple(member.organisations)
        raise KeyError(group_id)

    def _contains(self, grouping_id: str, member_id: str) -> bool:
        return member_id in self.group_members_ids(grouping_id)

    def group_members_ids(self, grouping_id: str) -> tuple[str, ...]:
        """Ids of a grouping's members (``hyte-1`` ...); empty for a flat grouping or unknown id."""
        grouping = self.groupings.get(grouping_id)
        return tuple(m.id for m in grouping.members) if grouping else ()

    def member_of(self, group_id: str) -> GroupMember | None:
        for grouping in self.groupings.values():
            for member in grouping.members:
                if member.id == group_id:
                    return member
        return None

    def participants(self, body: Body, group: str | None = None) -> tuple[str, ...]:
        """Every organisation invited to a meeting of ``body``, conveners first.

        For a meeting of one grouping member (a HYTE group), a participant given as the whole
        grouping narrows to that member's organisations.
        """
        ids = list(body.convener_ids)
        for participant in body.members:
            if participant.organisation:
                ids.append(participant.organisation)
            elif participant.group and group and self._contains(participant.group, group):
                ids.extend(self.group_members(group))
            elif participant.group:
                ids.extend(self.group_members(participant.group))
        return tuple(dict.fromkeys(ids))
