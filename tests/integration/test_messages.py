"""The message pipeline end to end, into a real Maildir: the action chain, iMIP structure,
languages, updates and cancellations, bad addresses, idempotence (issue 3)."""

from __future__ import annotations

from collections import defaultdict
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from icalendar import Calendar

from tests.integration.conftest import BROKEN, SWEDISH, Installation, at, contacts_yaml

CHAIN = ["prepare", "request_items", "invite", "agenda", "remind", "minutes"]


def calendar_of(message: EmailMessage) -> tuple[str, Any]:
    """The text/calendar part's ``method`` parameter and its parsed VEVENT."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    cal = Calendar.from_ical(part.get_content())
    [event] = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == part.get_param("method")
    return str(part.get_param("method")), event


def action(message: EmailMessage) -> str:
    return str(message["X-Yhdyspinta-Action"])


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


def test_simulated_year_has_every_chain_in_order_and_a_rerun_adds_nothing(
    installation: Installation, capsys: pytest.CaptureFixture[str]
) -> None:
    outbox = installation.root / "sim"
    code = installation.run("simulate", "--from", "2026-01-01", "--to", "2026-12-31",
                            "--outbox", str(outbox), now=at(2026, 11, 22))
    err = capsys.readouterr().err
    assert code == 1  # one address is broken: reported, and the rest still went
    assert "invalid address" in err and BROKEN in err and "kuntakokous" in err
    messages = installation.messages(outbox)
    assert len(messages) > 300
    by_meeting: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for message in messages:
        # strip(): a long value (alert:varautumisen-yhteistyoryhma:...) is folded onto the
        # next line, and the parser keeps the fold's leading space
        by_meeting[str(message["X-Yhdyspinta-Meeting"]).strip()].append(
            (parsedate_to_datetime(str(message["Date"])), action(message)))
    kk = sorted(by_meeting["kuntakokous-2026-02-18@yhdyspinta"])
    assert [kind for kind in CHAIN if kind in {k for _, k in kk}] == CHAIN
    for meeting, sent in by_meeting.items():
        if meeting.startswith("alert:"):
            continue
        order = [CHAIN.index(kind) for _, kind in sorted(sent)]
        assert order == sorted(order)
    assert len({str(m["Message-ID"]) for m in messages}) == len(messages)

    again = installation.run("simulate", "--from", "2026-01-01", "--to", "2026-12-31",
                             "--outbox", str(outbox), now=at(2026, 11, 22))
    assert again == 0
    assert len(installation.messages(outbox)) == len(messages)


def test_invitations_are_imip_requests_from_the_convener(installation: Installation) -> None:
    installation.run("dispatch", "--until", "2026-03-01T00:00", now=at(2026, 1, 5))
    invites = [m for m in installation.messages() if action(m) == "invite"]
    assert invites
    for message in invites:
        assert message.get_content_type() == "multipart/mixed"
        first: Any = message.get_payload()[0]  # type: ignore[index]
        assert first.get_content_type() == "multipart/alternative"  # Outlook looks only here
        kinds = [p.get_content_type() for p in first.get_payload()]
        assert kinds == ["text/plain", "text/html", "text/calendar"]
        method, event = calendar_of(message)
        assert method == "REQUEST"
        organizer = str(event["ORGANIZER"]).removeprefix("mailto:")
        assert message["From"].addresses[0].addr_spec == organizer
        attendees = {str(a).removeprefix("mailto:") for a in event.get("ATTENDEE", [])}
        assert message["To"].addresses[0].addr_spec in attendees
        assert event["DTSTAMP"].dt.utcoffset().total_seconds() == 0
        assert event["SEQUENCE"] == 0


def test_each_recipient_reads_their_own_language(installation: Installation) -> None:
    installation.run("dispatch", "--until", "2026-03-01T00:00", now=at(2026, 1, 5))
    mine = [m for m in installation.messages() if m["To"].addresses[0].addr_spec == SWEDISH]
    assert mine
    assert all("Kommunmöte" in str(m["Subject"]) for m in mine)
    finnish = [m for m in installation.messages() if action(m) == "invite"
               and m["To"].addresses[0].addr_spec == "kirjaamo@hankasalmi.example"
               and "kuntakokous" in str(m["X-Yhdyspinta-Meeting"])]
    assert finnish and "Kuntakokous" in str(finnish[0]["Subject"])


# The kuntakokous of 18.2.2026 is held in bodies/ (002); a meeting still ahead is the next one.
NEXT_KK = "kuntakokous-2027-1@yhdyspinta"  # 11.2.2027: its invitations go in January


def test_move_sends_everyone_an_update_with_a_higher_sequence_once(
    installation: Installation,
) -> None:
    uid = NEXT_KK
    installation.run("dispatch", "--until", "2027-02-01T00:00", now=at(2027, 1, 30))
    invited = {m["To"].addresses[0].addr_spec for m in installation.messages() if action(m) == "invite"
               and str(m["X-Yhdyspinta-Meeting"]) == uid}
    assert len(invited) > 20
    # 3.3.2027 is in the example calendar's winter holiday: `move` needs --force (issue 9).
    forced = ("--force", "--reason", "Ainoa yhteinen päivä")
    installation.run("move", uid, "2027-03-03T12:00", *forced, now=at(2027, 2, 2))
    installation.run("move", uid, "2027-03-03T12:00", *forced, now=at(2027, 2, 2, 9))  # same again
    updates = [m for m in installation.messages() if action(m) == "update"]
    assert {m["To"].addresses[0].addr_spec for m in updates} == invited
    sequences = set()
    for message in updates:
        method, event = calendar_of(message)
        assert (method, str(event["UID"])) == ("REQUEST", uid)
        sequences.add(event["SEQUENCE"])
        assert event["DTSTART"].dt.isoformat() == "2027-03-03T12:00:00+02:00"
    assert sequences == {1}


def test_cancel_sends_method_cancel_with_the_same_uid(installation: Installation) -> None:
    uid = NEXT_KK
    installation.run("dispatch", "--until", "2027-02-01T00:00", now=at(2027, 1, 30))
    installation.run("cancel", uid, "--reason", "Päällekkäinen tilaisuus", now=at(2027, 2, 2))
    cancels = [m for m in installation.messages() if action(m) == "cancel"]
    assert cancels
    for message in cancels:
        method, event = calendar_of(message)
        assert (method, str(event["UID"]), str(event["STATUS"])) == ("CANCEL", uid, "CANCELLED")
        assert event["SEQUENCE"] == 1
    before = {str(m["Message-ID"]) for m in installation.messages()}
    installation.run("dispatch", "--until", "2027-02-20T00:00", now=at(2027, 2, 10))
    later = [m for m in installation.messages()
             if str(m["Message-ID"]) not in before and str(m["X-Yhdyspinta-Meeting"]) == uid]
    assert later == []  # no reminders for a cancelled meeting


def test_a_removed_participant_gets_a_cancel_and_the_rest_an_update(
    installation: Installation,
) -> None:
    uid = "kuntakokous-2026-02-18@yhdyspinta"
    installation.run("dispatch", "--until", "2026-02-01T00:00", now=at(2026, 1, 30))
    installation.write_contacts(contacts_yaml(swedish=False))
    installation.run("dispatch", "--until", "2026-02-03T00:00", now=at(2026, 2, 2))
    messages = [m for m in installation.messages() if str(m["X-Yhdyspinta-Meeting"]) == uid]
    cancels = [m for m in messages if action(m) == "cancel"]
    assert [m["To"].addresses[0].addr_spec for m in cancels] == [SWEDISH]
    method, event = calendar_of(cancels[0])
    assert method == "CANCEL" and "STATUS" not in event and event["SEQUENCE"] == 1
    updates = [m for m in messages if action(m) == "update"]
    assert SWEDISH not in {m["To"].addresses[0].addr_spec for m in updates}
    assert len(updates) > 20


def test_the_subscribable_feed_follows_moves_and_cancellations(installation: Installation) -> None:
    uid = NEXT_KK
    installation.run("dispatch", "--until", "2027-02-01T00:00", now=at(2027, 1, 30))
    installation.run("move", uid, "2027-03-03T12:00", "--force", "--reason", "Ainoa yhteinen päivä",
                     now=at(2027, 2, 2))  # in the example winter holiday (issue 9)
    feed = installation.root / "feeds" / "kuntakokous.ics"
    raw = feed.read_bytes()
    assert b"METHOD" not in raw
    event: Any
    [event] = [e for e in Calendar.from_ical(raw).walk("VEVENT") if str(e["UID"]) == uid]
    assert event["DTSTART"].dt.isoformat() == "2027-03-03T12:00:00+02:00"
    assert event["SEQUENCE"] == 1
    installation.run("cancel", uid, now=at(2027, 2, 3))
    [event] = [e for e in Calendar.from_ical(feed.read_bytes()).walk("VEVENT") if str(e["UID"]) == uid]
    assert (str(event["STATUS"]), event["SEQUENCE"]) == ("CANCELLED", 2)


def test_the_coordinator_hears_of_bodies_nobody_convenes(installation: Installation) -> None:
    installation.run("dispatch", "--until", "2026-03-01T00:00", now=at(2026, 1, 5))
    alerts = [m for m in installation.messages() if action(m) == "alert"]
    assert {m["To"].addresses[0].addr_spec for m in alerts} == {"koordinaattori@liitto.example"}
    subjects = " ".join(str(m["Subject"]) for m in alerts)
    assert "Maakunnan kuntajohtajakokous" in subjects
    assert "Kuntakokous" not in subjects.replace("Maakunnan kuntajohtajakokous", "")
    installation.run("dispatch", "--until", "2026-03-01T00:00", now=at(2026, 1, 5, 9))
    assert len([m for m in installation.messages() if action(m) == "alert"]) == len(alerts)
