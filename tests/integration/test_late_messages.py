"""The due policy through the command line, into a real Maildir (issue 8): a meeting moved to
short notice gets its invitations at once; after a month without a dispatch, every message
that still helps goes once, and the rest are recorded as missed, with reasons, and counted."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
from icalendar import Calendar

from tests.integration.conftest import BROKEN, Installation, at

UID = "kuntakokous-2027-1@yhdyspinta"
CONVENER = "kirjaamo@jyvaskyla.example"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


def of(messages: list[EmailMessage], uid: str, kind: str) -> list[EmailMessage]:
    return [m for m in messages if str(m["X-Yhdyspinta-Meeting"]) == uid
            and str(m["X-Yhdyspinta-Action"]) == kind]


def event_of(message: EmailMessage) -> Any:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    return event


def rows(installation: Installation) -> list[tuple[str, str, str, str, str | None]]:
    """(meeting or alert, kind, recipient, state, reason) of every outbox row."""
    with sqlite3.connect(installation.root / "state.db") as db:
        return db.execute("SELECT coalesce(meeting_uid, alert), kind, recipient, state, reason "
                          "FROM outbox").fetchall()


def test_a_meeting_moved_to_the_next_working_day_is_announced_to_everyone_once(
    installation: Installation, capsys: pytest.CaptureFixture[str]
) -> None:
    today = at(2026, 12, 2)  # Wednesday
    tomorrow = "2026-12-03T11:00:00+02:00"
    assert installation.run("move", UID, tomorrow, now=today) == 0
    code = installation.run("dispatch", now=today)
    out = capsys.readouterr().out
    assert code == 0
    invites = of(installation.messages(), UID, "invite")
    attendees = {str(a).removeprefix("mailto:") for a in event_of(invites[0])["ATTENDEE"]}
    assert len(attendees) == 22  # Keuruu's one contact has a broken address
    assert sorted(m["To"].addresses[0].addr_spec for m in invites) == sorted(attendees)
    for message in invites:
        event = event_of(message)
        assert event.decoded("DTSTART") == datetime.fromisoformat(tomorrow)
        assert (event["SEQUENCE"], str(event["UID"])) == (0, UID)
    assert re.search(r"missed [1-9]\d*", out)

    before = len(installation.messages())
    assert installation.run("dispatch", now=at(2026, 12, 2, 9)) in (0, 1)
    assert len(installation.messages()) == before  # a second dispatch sends nothing


def test_after_a_month_without_dispatch_what_still_helps_goes_once_and_the_rest_is_missed(
    installation: Installation, capsys: pytest.CaptureFixture[str]
) -> None:
    # Wednesday 27.1.: the kuntakokous (Thursday 11.2.) is two weeks ahead; its agenda-item
    # request (due 14.1.) is late, so it asks for proposals by Monday 1.2., not by 21.1.
    installation.run("dispatch", now=at(2027, 1, 27))
    first = installation.messages()
    requests = of(first, UID, "request_items")
    assert len(requests) == 22
    for message in requests:
        text = message.get_body(preferencelist=("plain",))
        assert text is not None and "1.2.2027" in text.get_content() and "21.1.2027" not in \
            text.get_content()
    sent_first = {str(m["Message-ID"]) for m in first}
    missed_first = {(uid, kind, to) for uid, kind, to, state, _ in rows(installation)
                    if state == "missed"}  # the term's meetings before the first run
    capsys.readouterr()

    installation.run("dispatch", now=at(2027, 2, 26))  # 30 days later
    out, err = capsys.readouterr()
    messages = installation.messages()
    late = [m for m in messages if str(m["Message-ID"]) not in sent_first]
    assert late and len({str(m["Message-ID"]) for m in messages}) == len(messages)  # none twice

    # The kuntakokous was held meanwhile: its agenda and participant reminders no longer
    # help and were missed; the minutes follow-up still does, and went.
    stored = Counter((uid, kind, state, reason) for uid, kind, _, state, reason in rows(installation))
    assert stored[UID, "agenda", "missed", "meeting-begun"] == 1
    assert stored[UID, "remind", "missed", "meeting-begun"] == 22
    assert of(late, UID, "agenda") == [] and of(late, UID, "remind") == []
    assert [m["To"].addresses[0].addr_spec for m in of(late, UID, "minutes")] == [CONVENER]
    # The meetings of 1.4. are ahead: their preparation reminders went, late, once each.
    prepared = Counter(str(m["X-Yhdyspinta-Meeting"]) for m in late
                       if str(m["X-Yhdyspinta-Action"]) == "prepare")
    assert prepared and all(n == 1 for n in prepared.values())
    assert all(uid.endswith("-2027-1@yhdyspinta") and uid != UID for uid in prepared)

    missed = [(uid, kind, to) for uid, kind, to, state, _ in rows(installation)
              if state == "missed" and (uid, kind, to) not in missed_first]
    assert len(missed) == 23 and f"missed {len(missed)}," in out
    assert f"{UID} (kuntakokous): the meeting had begun: agenda x1, remind x22" in err
    assert all(BROKEN not in m["To"].addresses[0].addr_spec for m in late)
