"""The feed's iCalendar: RRULE VTIMEZONE checked against zoneinfo, parse-back, no injection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduler.messaging.ical import FeedEvents, vtimezone, write_feed
from scheduler.planning.planner import Meeting

HEL = ZoneInfo("Europe/Helsinki")
STAMP = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def meeting(**changes: object) -> Meeting:
    values: dict[str, object] = {
        "uid": "kuntakokous-2027-1@yhdyspinta", "body": "kuntakokous", "slot": "2027-1",
        "start": datetime(2027, 3, 30, 13, tzinfo=HEL), "end": datetime(2027, 3, 30, 16, tzinfo=HEL),
        "conveners": ("jyvaskyla",), "organisations": ("jyvaskyla", "hva"), "group": None,
        "status": "planned",
    }
    values.update(changes)
    return Meeting(**values)  # type: ignore[arg-type]


def feed(*events: bytes) -> bytes:
    chunks: list[bytes] = []
    write_feed(chunks.append, "Europe/Helsinki", "Kuntakokous", events)
    return b"".join(chunks)


@pytest.mark.parametrize("year", [2026, 2027, 2028, 2029, 2035])
def test_vtimezone_rules_match_zoneinfo(year: int) -> None:
    part: Any
    for part in vtimezone("Europe/Helsinki").subcomponents:
        assert "RDATE" not in part
        rule = rrulestr(part["RRULE"].to_ical().decode(), dtstart=part["DTSTART"].dt)
        change = rule.after(datetime(year, 1, 1))  # noqa: DTZ001 - VTIMEZONE local time
        assert change is not None
        before = (change - timedelta(hours=1, minutes=1)).replace(tzinfo=HEL).utcoffset()
        after = (change + timedelta(hours=1, minutes=1)).replace(tzinfo=HEL).utcoffset()
        assert before == part["TZOFFSETFROM"].td
        assert after == part["TZOFFSETTO"].td


def test_event_parses_back_to_the_meeting() -> None:
    raw = feed(FeedEvents(STAMP).event(meeting(), title="Kuntakokous 2027", description="a, b; c\nd",
                                       location="Jyväskylä"))
    event: Any
    [event] = Calendar.from_ical(raw).events
    assert event.uid == "kuntakokous-2027-1@yhdyspinta"
    assert event.start == datetime(2027, 3, 30, 13, tzinfo=HEL)
    assert event.start.utcoffset() == timedelta(hours=3)
    assert event["DESCRIPTION"] == "a, b; c\nd"
    assert event["LOCATION"] == "Jyväskylä"
    assert event["DTSTAMP"].dt == STAMP
    assert event["STATUS"] == "TENTATIVE"
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))


@pytest.mark.parametrize(
    "evil",
    [
        "Kokous\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil",
        "x\nEND:VCALENDAR\nBEGIN:VCALENDAR",
        "Kokous\u2028ATTENDEE:mailto:evil@example.org",
        "=?utf-8?q?Kokous?=; ORGANIZER:mailto:x",
        'quotes "and" \\backslashes\\ , ; :',
    ],
)
def test_titles_cannot_inject_properties(evil: str) -> None:
    raw = feed(FeedEvents(STAMP).event(meeting(), title=evil, description=evil, location=evil))
    calendar = Calendar.from_ical(raw)
    [event] = calendar.events
    assert event["SUMMARY"] == evil.replace("\r\n", "\n")
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    lines = raw.split(b"\r\n")
    assert lines.count(b"BEGIN:VEVENT") == 1
    assert lines.count(b"END:VCALENDAR") == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aäö€😀\\,;:^ x\n"), max_size=400))
def test_folding_keeps_lines_short_and_unfolds_to_the_original(text: str) -> None:
    raw = feed(FeedEvents(STAMP).event(meeting(), title="t", description=text, location=None))
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never split inside a character
    event: Any
    [event] = Calendar.from_ical(raw).events
    assert event["DESCRIPTION"] == text


def test_invitations_drop_control_characters() -> None:
    from scheduler.catalogue.contacts import Recipient
    from scheduler.messaging.invites import Invitation, request

    invitation = Invitation("u@y", 0, datetime(2027, 2, 11, 12, tzinfo=HEL),
                            datetime(2027, 2, 11, 14, tzinfo=HEL), "Ko\x00kous\x1b[31m", "a\x0bb\r\nc")
    who = Recipient("a@b.example", "Nimi\x0c", "fi", None)
    raw = request(invitation, who, [who], STAMP, "Europe/Helsinki")
    assert not any(byte < 32 and byte not in (10, 13) for byte in raw)
    event: Any = Calendar.from_ical(raw).events[0]
    assert event["SUMMARY"] == "Kokous[31m"
    assert event["DESCRIPTION"] == "ab\nc"
    assert len(event.get("ATTENDEE") if isinstance(event.get("ATTENDEE"), list) else [event["ATTENDEE"]]) == 1
