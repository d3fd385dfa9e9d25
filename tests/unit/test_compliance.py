"""Compliance and the measures' follow-up, pure (issue 11): every status and how it changes,
the notes (over the maximum, resting on expired documents, rounds), representation, and the
indicators derived from meetings or recorded by hand. A small catalogue of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from scheduler.catalogue.model import (
    Body,
    Catalogue,
    Grouping,
    Measure,
    Organisation,
    Region,
    SourceDocument,
)
from scheduler.messaging.report_texts import reason_text
from scheduler.planning.compliance import (
    Compliance,
    Row,
    Status,
    Target,
    assess,
    judge,
    scope_of_term,
    scope_of_year,
    working_days_left,
)
from scheduler.planning.indicators import RecordedState, State
from scheduler.planning.periods import Counts, Period
from scheduler.planning.planner import Meeting
from scheduler.planning.records import MeetingStatus, Reason
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI

TODAY = date(2026, 12, 2)
CALENDAR = WorkCalendar()
Y2026 = Period.year(2026)
ORGS = ("liitto", "hva", "jyvaskyla", "muurame", "laukaa")
SOURCE = "000 yhdyspintasuunnitelma 2026"


def _names(text: str) -> dict[str, str]:
    return {"fi": text, "sv": text, "en": text}


def body(ident: str, *rules: dict[str, Any], conveners: tuple[str, ...] = ("liitto",),
         **extra: Any) -> Body:
    return Body.model_validate({
        "id": ident, "name": _names(ident), "level": "measure",
        "conveners": [{"organisation": c} for c in conveners],
        "members": [{"organisation": o} for o in ORGS if o not in conveners],
        "cadence": list(rules), "sources": [SOURCE], **extra})


def per_year(low: int | None, high: int | None = None, source: str = SOURCE) -> dict[str, Any]:
    return {"kind": "per-year", "min": low, "max": high, "source": source}


def catalogue(*bodies: Body, measures: tuple[Measure, ...] = ()) -> Catalogue:
    region = Region.model_validate({
        "id": "keski-suomi", "name": _names("Keski-Suomi"), "source": SOURCE,
        "terms": [{"id": "2025-2029", "start": "2025-06-01", "end": "2029-05-31",
                   "source": SOURCE}]})
    organisations = {o: Organisation.model_validate(
        {"id": o, "kind": "municipality", "name": _names(o.title()), "source": SOURCE})
        for o in ORGS}
    groups = Grouping.model_validate({
        "id": "ryhmat", "name": _names("Ryhmät"), "source": SOURCE,
        "members": [{"id": "ryhma-1", "name": _names("Ryhmä 1"), "organisations": ["jyvaskyla"]},
                    {"id": "ryhma-2", "name": _names("Ryhmä 2"), "organisations": ["laukaa"]}]})
    documents = {
        "000": SourceDocument.model_validate({"id": "000", "title": {"fi": "Suunnitelma"},
                                              "valid_from": "2026-01-01"}),
        "001": SourceDocument.model_validate({"id": "001", "title": {"fi": "Puitesopimus"},
                                              "valid_from": "2023-01-01",
                                              "valid_until": "2025-12-31"}),
    }
    return Catalogue(region, organisations, {"ryhmat": groups}, {b.id: b for b in bodies},
                     documents, {m.id: m for m in measures})


def meeting(body_id: str, day: date, status: MeetingStatus = MeetingStatus.PLANNED, *,
            group: str | None = None, present: tuple[str, ...] = (),
            minutes: str | None = None, n: int = 1) -> Meeting:
    start = datetime.combine(day, time(13), tzinfo=HELSINKI)
    return Meeting(f"{body_id}-{day.year}-{group or n}@test", body_id, f"{day.year}-{n}", start,
                   start + timedelta(hours=2), ("liitto",), ORGS, group, status,
                   present=present, minutes_url=minutes)


def report(cat: Catalogue, meetings: list[Meeting], *, today: date = TODAY, year: int = 2026,
           **options: Any) -> Compliance:
    return assess(cat, meetings, CALENDAR, today, scope_of_year(cat, year), **options)


def the_row(found: Compliance, body_id: str, period: str = "2026") -> Row:
    [row] = [r for r in found.rows if r.body == body_id and r.period.id == period]
    return row


# -- judge: every status ----------------------------------------------------------------------

TARGET = Target(2, 3, "year", SOURCE)


@pytest.mark.parametrize(("counts", "today", "status", "key"), [
    (Counts(held=2), TODAY, Status.OK, "met"),
    (Counts(held=3), date(2027, 1, 10), Status.OK, "met"),
    (Counts(held=1, planned=1), TODAY, Status.OK, "on-course"),
    (Counts(planned=2), date(2026, 1, 5), Status.OK, "on-course"),
    (Counts(held=1), TODAY, Status.AT_RISK, "short"),
    (Counts(held=0, planned=1), TODAY, Status.AT_RISK, "short"),
    (Counts(held=1, unconfirmed=1), TODAY, Status.AT_RISK, "unrecorded"),
    (Counts(unconfirmed=2), TODAY, Status.AT_RISK, "unrecorded"),
    (Counts(held=1, unconfirmed=1), date(2027, 1, 10), Status.MISSED, "missed"),
    (Counts(held=0, cancelled=2), date(2027, 1, 10), Status.MISSED, "missed"),
])
def test_each_status_and_its_reason(counts: Counts, today: date, status: Status, key: str) -> None:
    found, reason, _ = judge(TARGET, counts, Y2026, today, 20)
    assert (found, reason.key) == (status, key)


def test_no_count_rule_is_no_target() -> None:
    assert judge(None, Counts(held=4), Y2026, TODAY, 20)[:2] == (
        Status.NO_TARGET, Reason("no-count", {}))
    assert judge(None, Counts(), Y2026, TODAY, 20, no_cadence=True)[1].key == "no-cadence"


def test_at_risk_says_how_many_are_missing_and_how_many_working_days_remain() -> None:
    _, reason, notes = judge(TARGET, Counts(held=0, planned=1, unconfirmed=0), Y2026, TODAY, 20)
    assert reason.params["missing"] == 1 and reason.params["days"] == 20
    assert reason_text(reason, "fi", str) == (
        "Tavoitteesta (2–3 kertaa vuodessa) puuttuu 1 kokous ilman suunniteltua ajankohtaa: "
        "pidetty 0, suunniteltu 1. Työpäiviä on jäljellä 20.")
    assert reason_text(reason, "en", str).endswith("20 working days remain.")
    assert notes == ()


def test_missed_notes_the_meetings_not_recorded() -> None:
    _, reason, notes = judge(TARGET, Counts(held=1, unconfirmed=1), Y2026, date(2027, 2, 1), 0)
    assert reason.key == "missed" and [n.key for n in notes] == ["unconfirmed"]
    assert reason_text(notes[0], "fi", str) == "Kirjaamatta 1 mennyt kokous (yhdyspinta held)."


def test_more_than_the_maximum_is_ok_with_a_note() -> None:
    status, _, notes = judge(TARGET, Counts(held=4), Y2026, TODAY, 20)
    assert status is Status.OK and [n.key for n in notes] == ["over-max"]
    status, _, notes = judge(TARGET, Counts(held=2, planned=2), Y2026, TODAY, 20)
    assert status is Status.OK and [n.key for n in notes] == ["planned-over-max"]
    assert notes[0].params["total"] == 4


def test_only_a_maximum_is_always_met() -> None:
    status, reason, _ = judge(Target(None, 2, "year", SOURCE), Counts(), Y2026, TODAY, 20)
    assert (status, reason.key) == (Status.OK, "met")


# -- from meetings to rows --------------------------------------------------------------------

def test_a_year_moves_from_on_course_to_at_risk_to_ok_to_missed() -> None:
    cat = catalogue(body("ryhma", per_year(2, 3)))
    first, second = date(2026, 3, 10), date(2026, 10, 6)
    spring = date(2026, 2, 1)
    assert the_row(report(cat, [meeting("ryhma", first), meeting("ryhma", second, n=2)],
                          today=spring), "ryhma").reason.key == "on-course"
    # both dates passed unrecorded: at risk until they are recorded
    unrecorded = [meeting("ryhma", first), meeting("ryhma", second, n=2)]
    row = the_row(report(cat, unrecorded), "ryhma")
    assert (row.status, row.reason.key, row.counts.unconfirmed) == (Status.AT_RISK, "unrecorded", 2)
    assert row.working_days_left == 20
    one_held = [meeting("ryhma", first, MeetingStatus.HELD), meeting("ryhma", second, n=2)]
    assert the_row(report(cat, one_held), "ryhma").status is Status.AT_RISK
    both = [meeting("ryhma", first, MeetingStatus.HELD),
            meeting("ryhma", second, MeetingStatus.HELD, n=2)]
    row = the_row(report(cat, both), "ryhma")
    assert (row.status, row.counts.held, row.last_held) == (Status.OK, 2, second)
    row = the_row(report(cat, one_held, today=date(2027, 1, 15)), "ryhma")
    assert (row.status, row.reason.key) == (Status.MISSED, "missed")


def test_a_cancelled_meeting_counts_as_cancelled_not_towards_the_target() -> None:
    cat = catalogue(body("ryhma", per_year(1)))
    row = the_row(report(cat, [meeting("ryhma", date(2026, 5, 5), MeetingStatus.CANCELLED)]),
                  "ryhma")
    assert (row.status, row.counts.cancelled, row.counts.held) == (Status.AT_RISK, 1, 0)
    assert row.reason.key == "short"


def test_a_fixed_meeting_past_is_unconfirmed_and_one_ahead_is_planned() -> None:
    cat = catalogue(body("ryhma", per_year(2)))
    found = report(cat, [meeting("ryhma", date(2026, 2, 18), MeetingStatus.FIXED),
                         meeting("ryhma", date(2026, 12, 10), MeetingStatus.FIXED, n=2)])
    assert the_row(found, "ryhma").counts == Counts(planned=1, unconfirmed=1)


def test_a_body_without_a_count_rule_has_no_target_and_gaps_are_listed() -> None:
    silent = body("verkosto", conveners=(), gaps={"conveners": {"fi": "Ei nimetty."}})
    cat = catalogue(silent, body("ryhma", per_year(1)))
    found = report(cat, [])
    row = the_row(found, "verkosto")
    assert (row.status, row.reason.key, row.target) == (Status.NO_TARGET, "no-cadence", None)
    assert [(g.body, g.kind) for g in found.gaps] == [("verkosto", "convener"),
                                                      ("verkosto", "cadence")]
    assert found.gaps[0].text is not None and found.gaps[0].text.fi == "Ei nimetty."
    assert found.rows[-1].body == "verkosto"  # bodies with a target come first


def test_a_target_resting_only_on_an_expired_document_says_so() -> None:
    old = "001 puitesopimus 2023–2025, Taso 2"
    cat = catalogue(body("kokous", per_year(1, source=old)), body("ryhma", per_year(1)))
    found = report(cat, [])
    row = the_row(found, "kokous")
    assert row.target is not None and row.target.rests_on_expired
    assert [n.key for n in row.notes] == ["rests-on-expired"]
    assert row.notes[0].params["documents"] == "001"
    assert not any(n.key == "rests-on-expired" for n in the_row(found, "ryhma").notes)
    # in 2025 the framework agreement was still in force
    earlier = the_row(report(cat, [], year=2025), "kokous", "2025").target
    assert earlier is not None and not earlier.rests_on_expired


def test_a_term_rule_gives_a_term_row_and_the_term_report_every_year() -> None:
    term_rule = {"kind": "per-term", "min": 1, "max": 1, "source": SOURCE}
    cat = catalogue(body("harjoitus", term_rule), body("ryhma", per_year(1)))
    found = report(cat, [meeting("harjoitus", date(2027, 6, 1))])
    row = the_row(found, "harjoitus", "2025-2029")
    assert (row.status, row.reason.key, row.next_planned) == (Status.OK, "on-course",
                                                              date(2027, 6, 1))
    whole = assess(cat, [], CALENDAR, TODAY, scope_of_term(cat, TODAY))
    assert [r.period.id for r in whole.rows if r.body == "ryhma"] == [
        "2025", "2026", "2027", "2028", "2029"]
    assert [r.period.id for r in whole.rows if r.body == "harjoitus"] == ["2025-2029"]
    assert [y for y, _ in whole.series[0].years] == [2025, 2026, 2027, 2028, 2029]


def test_a_round_is_held_once_every_group_has_met() -> None:
    rules = (per_year(1), {"kind": "round", "grouping": "ryhmat", "weekday": "thu",
                           "source": SOURCE})
    cat = catalogue(body("hyte", *rules, conveners=("hva",)))
    day = date(2026, 10, 22)
    one = [meeting("hyte", day, MeetingStatus.HELD, group="ryhma-1"),
           meeting("hyte", day + timedelta(days=7), group="ryhma-2")]
    row = the_row(report(cat, one), "hyte")
    assert (row.counts.held, row.counts.unconfirmed, row.status) == (0, 1, Status.AT_RISK)
    assert row.unit == "round" and [n.key for n in row.notes] == ["round-unit"]
    both = [one[0], meeting("hyte", day + timedelta(days=7), MeetingStatus.HELD, group="ryhma-2")]
    assert the_row(report(cat, both), "hyte").status is Status.OK


def test_working_days_left_skip_weekends_and_holidays() -> None:
    assert working_days_left(CALENDAR, Y2026, TODAY) == 20  # less 24.-25.12.
    assert working_days_left(CALENDAR, Y2026, date(2027, 1, 1)) == 0


# -- representation ---------------------------------------------------------------------------

def test_representation_per_meeting_and_in_total() -> None:
    cat = catalogue(body("ryhma", per_year(2)))
    meetings = [
        meeting("ryhma", date(2026, 3, 10), MeetingStatus.HELD,
                present=("liitto", "hva", "jyvaskyla"), minutes="https://example.fi/1"),
        meeting("ryhma", date(2026, 9, 8), MeetingStatus.HELD, present=("liitto", "laukaa"), n=2),
        meeting("ryhma", date(2026, 11, 3), MeetingStatus.HELD, n=3),  # nobody recorded who
        meeting("ryhma", date(2026, 12, 15), n=4),
    ]
    answers = {meetings[3].uid: [("a@x", "accepted"), ("b@x", "declined"), ("c@x", "accepted")]}
    found = report(cat, meetings, answers=answers)
    first, second, third, ahead = found.representation
    assert first.present == ("liitto", "hva", "jyvaskyla")
    assert first.absent == ("muurame", "laukaa") and first.minutes_url == "https://example.fi/1"
    assert second.absent == ("hva", "jyvaskyla", "muurame")
    assert not third.recorded and third.absent == ()
    assert ahead.status is MeetingStatus.PLANNED and ahead.answers == (("accepted", 2),
                                                                      ("declined", 1))
    totals = {t.organisation: (t.attended, t.of) for t in found.totals}
    assert totals == {"liitto": (2, 2), "hva": (1, 2), "jyvaskyla": (1, 2), "muurame": (0, 2),
                      "laukaa": (1, 2)}


# -- measures ---------------------------------------------------------------------------------

def measure(*indicators: dict[str, Any], due: str | None = None) -> Measure:
    return Measure.model_validate({
        "id": "toimenpide-4", "number": 4, "title": _names("Vaikuttaminen"),
        "responsible": [{"organisation": "liitto"}], "bodies": ["ryhma"],
        "indicators": list(indicators), "source": SOURCE, **({"due": due} if due else {})})


COUNT = {"id": "kokoontunut", "title": {"fi": "Kokoontunut 2–3 kertaa"}, "kind": "count",
         "body": "ryhma", "min": 2, "max": 3, "per": "year", "source": SOURCE}
EXERCISE = {"id": "harjoitus-pidetty", "title": {"fi": "Harjoitus pidetty"}, "kind": "milestone",
            "body": "harjoitus", "due": "2029-05-31", "source": SOURCE}
REPORT = {"id": "selvitys", "title": {"fi": "Selvitys tehty"}, "kind": "milestone",
          "due": "2026-12-31", "source": SOURCE}
SURVEY = {"id": "thl", "title": {"fi": "THL"}, "kind": "external", "source": SOURCE}


def states(found: Compliance) -> dict[str, tuple[State, date | None, str | None, str]]:
    return {s.indicator.id: (s.state, s.on, s.evidence, s.basis)
            for m in found.measures for s in m.indicators}


def measures_catalogue() -> Catalogue:
    term_rule = {"kind": "per-term", "min": 1, "max": 1, "source": SOURCE}
    return catalogue(body("ryhma", per_year(2, 3)), body("harjoitus", term_rule),
                     measures=(measure(COUNT, EXERCISE, REPORT, SURVEY),))


def test_indicators_derived_from_the_meetings() -> None:
    cat = measures_catalogue()
    spring, autumn = date(2026, 3, 10), date(2026, 10, 6)
    planned = [meeting("ryhma", spring), meeting("ryhma", autumn, n=2),
               meeting("harjoitus", date(2027, 6, 1))]
    found = states(report(cat, planned, today=date(2026, 2, 1)))
    assert found["kokoontunut"][0] is State.IN_PROGRESS
    assert found["harjoitus-pidetty"][:2] == (State.IN_PROGRESS, None)
    assert found["selvitys"][0] is State.UNKNOWN and found["thl"][0] is State.UNKNOWN
    held = [meeting("ryhma", spring, MeetingStatus.HELD, minutes="https://example.fi/a"),
            meeting("ryhma", autumn, MeetingStatus.HELD, minutes="https://example.fi/b", n=2),
            meeting("harjoitus", date(2026, 11, 10), MeetingStatus.HELD)]
    found = states(report(cat, held))
    assert found["kokoontunut"] == (State.DONE, autumn, "https://example.fi/b", "meetings")
    assert found["harjoitus-pidetty"] == (State.DONE, date(2026, 11, 10), None, "meetings")
    # a year over short of the count, a report past its due day
    late = states(report(cat, held[:1], today=date(2027, 1, 20), year=2026))
    assert late["kokoontunut"][0] is State.NOT_DONE and late["selvitys"][0] is State.NOT_DONE


def test_a_state_recorded_by_hand_stands() -> None:
    cat = measures_catalogue()
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    recorded = [
        RecordedState("toimenpide-4", "selvitys", State.DONE, date(2026, 11, 20),
                      "https://example.fi/selvitys.pdf", at),
        RecordedState("toimenpide-4", "kokoontunut", State.DONE, date(2026, 11, 25), None, at),
        RecordedState("toimenpide-4", "thl", State.NOT_DONE, date(2025, 5, 1), None,
                      at - timedelta(days=1)),
        RecordedState("toimenpide-4", "thl", State.DONE, date(2026, 6, 1), None, at),
    ]
    found = report(cat, [], recorded=recorded)
    got = states(found)
    assert got["selvitys"] == (State.DONE, date(2026, 11, 20), "https://example.fi/selvitys.pdf",
                               "hand")
    assert got["thl"] == (State.DONE, date(2026, 6, 1), None, "hand")  # the latest record
    assert got["kokoontunut"][:2] == (State.DONE, date(2026, 11, 25))
    by_id = {s.indicator.id: s for s in found.measures[0].indicators}
    assert by_id["kokoontunut"].derived is State.IN_PROGRESS  # what the meetings say
    # a record for a per-year count applies to its own year only
    assert states(report(cat, [], year=2027, today=date(2027, 3, 1),
                         recorded=recorded))["kokoontunut"][3] == "meetings"


def test_scopes() -> None:
    cat = catalogue()
    assert scope_of_year(cat, 2026).term.id == "2025-2029"
    assert scope_of_term(cat, TODAY).year is None
    with pytest.raises(LookupError):
        scope_of_year(cat, 2040)
