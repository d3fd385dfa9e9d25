"""`held --import FILE.ics` (issue 11): the past meetings of an exported calendar recorded
as held, matched by UID or by body and date; every other event listed with its reason, in
plain words; the same file imported twice records nothing twice."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Event

from scheduler.service.imports import read_events
from tests.conftest import HELSINKI
from tests.integration.conftest import Installation, at

NOW = at(2027, 6, 15)  # 2027-06-15 11:00 in Helsinki
KK_2027 = "kuntakokous-2027-1@yhdyspinta"
VR_2027 = "vaikuttamisryhma-2027-1@yhdyspinta"
MA_2027 = "maahanmuutto-aluetyoryhma-2027-1@yhdyspinta"
SK_2027 = "seurantakokous-2027-1@yhdyspinta"
HYTE_2026_2 = "hyte-neuvottelut-2026-hyte-2@yhdyspinta"
HYTE_2027_1 = "hyte-neuvottelut-2027-hyte-1@yhdyspinta"
KJ_2027 = "kuntajohtajakokous-for-2027-1@yhdyspinta"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


def schedule(installation: Installation, capsys: pytest.CaptureFixture[str]
             ) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert installation.run("plan", "--from", "2025-06-01", "--to", "2029-05-31",
                            "--format", "json", now=NOW) == 0
    return {m["uid"]: m for m in json.loads(capsys.readouterr().out)["meetings"]}


def start(meeting: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(meeting["start"])


def event(uid: str, summary: str, begins: date | datetime, *, status: str | None = None
          ) -> Event:
    found = Event()
    found.add("UID", uid)
    found.add("SUMMARY", summary)
    found.add("DTSTAMP", datetime(2027, 6, 1, tzinfo=UTC))
    found.add("DTSTART", begins)
    if isinstance(begins, datetime):
        found.add("DTEND", begins + timedelta(hours=2))
    found.add("ATTENDEE", "mailto:maija.meikalainen@jyvaskyla.example")  # never kept
    if status:
        found.add("STATUS", status)
    return found


def write(path: Path, events: list[Event]) -> Path:
    calendar = Calendar()
    calendar.add("PRODID", "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN")
    calendar.add("VERSION", "2.0")
    for one in events:
        calendar.add_component(one)
    path.write_bytes(calendar.to_ical())
    return path


@pytest.fixture
def exported(installation: Installation, capsys: pytest.CaptureFixture[str]) -> Path:
    """A convener's calendar export: our invitations (our UIDs) beside meetings entered by
    hand (the calendar's own UIDs), as the stored schedule has them."""
    meetings = schedule(installation, capsys)
    kk, vr, ma, sk = (start(meetings[uid]) for uid in (KK_2027, VR_2027, MA_2027, SK_2027))
    hyte, ahead, kj = (start(meetings[uid]) for uid in (HYTE_2026_2, HYTE_2027_1, KJ_2027))
    assert kk < vr < ma < sk < NOW < ahead and hyte < NOW and kj < NOW
    assert meetings[KK_2027]["status"] == "unconfirmed"
    no_kk_day = kk.date() + timedelta(days=7)
    assert not [m for m in meetings.values()
                if m["body"] == "kuntakokous" and start(m).date() == no_kk_day]
    return write(installation.root / "outlook.ics", [
        # ours, with the zone (TZID=Europe/Helsinki)
        event(KK_2027, "Kuntakokous 2027", kk),
        # entered by hand: the Finnish name, the day in UTC
        event("040000008200E00074C5B7101A82E0080000000010", "Keski-Suomen vaikuttamisryhmä",
              vr.astimezone(UTC)),
        # entered by hand as an all-day event
        event("AAMkAGI2TG93AAA=", "Maahanmuuton ja pakolaisten kuntaan ohjaamisen "
              "aluetyöryhmä (Teams)", ma.date()),
        # a HYTE round: the body and the group named; the same day named for another group
        event("hand-1@example", "HYTE-neuvottelut, kuntaryhmä 2", hyte),
        event("hand-3@example", "HYTE-neuvottelut, kuntaryhmä 3", hyte),
        # the body named, but on a day the schedule has none of its meetings
        event("hand-2@example", "Kuntakokous (epävirallinen)", no_kk_day),
        # cancelled in the calendar
        event(SK_2027, "Yhteistyön vuosittainen seurantakokous 2027", sk, status="CANCELLED"),
        # ours, still ahead
        event(HYTE_2027_1, "HYTE-neuvottelut 2027, Kuntaryhmä 1", ahead),
        # ours, but the calendar has it a day later than the schedule
        event(KJ_2027, "Maakunnan kuntajohtajakokous 2027", kj + timedelta(days=1)),
        # nothing of ours
        event("lunch@example", "Lounas", kk - timedelta(days=1)),
    ])


def test_import_records_the_matching_meetings_and_lists_the_rest(
    installation: Installation, capsys: pytest.CaptureFixture[str], exported: Path
) -> None:
    before = schedule(installation, capsys)
    code = installation.run("held", "--import", str(exported), now=NOW)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()

    def day(uid: str) -> str:
        return start(before[uid]).date().isoformat()

    recorded = [line for line in lines if line.startswith("held: ")]
    assert recorded == [
        f"held: {HYTE_2026_2} {day(HYTE_2026_2)} hyte-neuvottelut (by body and date)",
        f"held: {KK_2027} {day(KK_2027)} kuntakokous (by UID)",
        f"held: {VR_2027} {day(VR_2027)} vaikuttamisryhma (by body and date)",
        f"held: {MA_2027} {day(MA_2027)} maahanmuutto-aluetyoryhma (by body and date)",
    ]
    no_kk_day = (start(before[KK_2027]).date() + timedelta(days=7)).isoformat()
    kj_next = (start(before[KJ_2027]).date() + timedelta(days=1)).isoformat()
    assert lines[len(recorded):] == [
        (f'skipped: {day(SK_2027)} "Yhteistyön vuosittainen seurantakokous 2027": '
         "cancelled in the calendar"),
        f'skipped: {day(HYTE_2027_1)} "HYTE-neuvottelut 2027, Kuntaryhmä 1": not yet past',
        (f'not matched: {day(HYTE_2026_2)} "HYTE-neuvottelut, kuntaryhmä 3": the schedule has '
         f"no meeting of hyte-neuvottelut (hyte-3) on {day(HYTE_2026_2)}; if one of its "
         f"meetings was held that day instead, record it with `held UID --on "
         f"{day(HYTE_2026_2)}`"),
        (f'not matched: {kj_next} "Maakunnan kuntajohtajakokous 2027": {KJ_2027} is on '
         f"{day(KJ_2027)} in the schedule; if it was held on {kj_next}, record it with "
         f"`held {KJ_2027} --on {kj_next}`"),
        (f'not matched: {(start(before[KK_2027]).date() - timedelta(days=1)).isoformat()} '
         '"Lounas": its title names no body of the catalogue'),
        (f'not matched: {no_kk_day} "Kuntakokous (epävirallinen)": the schedule has no meeting '
         f"of kuntakokous on {no_kk_day}; if one of its meetings was held that day instead, "
         f"record it with `held UID --on {no_kk_day}`"),
        f"{exported}: 10 events: 4 recorded held, 0 already held, 2 skipped, 4 not matched",
    ]

    after = schedule(installation, capsys)
    for uid in (KK_2027, VR_2027, MA_2027, HYTE_2026_2):
        assert after[uid]["status"] == "held", uid
        assert after[uid]["start"] == before[uid]["start"]  # held on its day, at its time
        assert after[uid]["present"] == []  # not read from the attendees
    for uid in (SK_2027, KJ_2027):
        assert after[uid]["status"] == "unconfirmed", uid
    assert after[HYTE_2027_1]["status"] == "planned"
    assert {uid: m["start"] for uid, m in after.items()} == \
        {uid: m["start"] for uid, m in before.items()}  # nothing else moved
    assert "maija" not in (installation.root / "state.db").read_bytes().decode("latin-1")


def test_importing_the_same_file_twice_records_nothing_twice(
    installation: Installation, capsys: pytest.CaptureFixture[str], exported: Path
) -> None:
    assert installation.run("held", "--import", str(exported), now=NOW) == 0
    capsys.readouterr()
    first = schedule(installation, capsys)
    assert installation.run("held", "--import", str(exported), now=NOW + timedelta(days=1)) == 0
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.startswith("held: ")]
    already = sorted(line.split()[2] for line in out.splitlines()
                     if line.startswith("already held: "))
    assert already == sorted([KK_2027, VR_2027, MA_2027, HYTE_2026_2])
    assert out.splitlines()[-1].endswith("0 recorded held, 4 already held, 2 skipped, 4 not matched")
    assert schedule(installation, capsys) == first


def test_a_feed_of_ours_imports_as_it_is(
    installation: Installation, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan --ics` writes the per-body calendars: the past kuntakokous meetings are
    recorded held, the coming ones skipped."""
    assert installation.run("plan", "--from", "2025-06-01", "--to", "2029-05-31",
                            "--ics", str(installation.root / "ics"), now=NOW) == 0
    capsys.readouterr()
    feed = installation.root / "ics" / "kuntakokous.ics"
    assert installation.run("held", "--import", str(feed), now=NOW) == 0
    out = capsys.readouterr().out
    meetings = schedule(installation, capsys)
    kk = {uid: m for uid, m in meetings.items() if m["body"] == "kuntakokous"}
    past = {uid for uid, m in kk.items() if start(m) < NOW}
    assert KK_2027 in past and len(past) < len(kk)
    assert {uid for uid, m in kk.items() if m["status"] == "held"} == past
    # the kuntakokous of 18.2.2026 is held in bodies/ already (002): "already held"
    assert sum(line.startswith(("held: ", "already held: ")) for line in out.splitlines()) \
        == len(past)
    assert sum(line.endswith(": not yet past") for line in out.splitlines()) == len(kk) - len(past)


OUTLOOK = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
BEGIN:VTIMEZONE
TZID:FLE Standard Time
BEGIN:STANDARD
DTSTART:16011028T040000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0300
TZOFFSETTO:+0200
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0200
TZOFFSETTO:+0300
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:a
SUMMARY:Kuntakokous
DTSTART;TZID=FLE Standard Time:20270211T000500
END:VEVENT
BEGIN:VEVENT
UID:b
SUMMARY:Kuntakokous
DTSTART;TZID=Somewhere/Else:20270212T000500
END:VEVENT
BEGIN:VEVENT
UID:c
SUMMARY:Kuntakokous
DTSTART:20270213T120000
END:VEVENT
BEGIN:VEVENT
UID:d
SUMMARY:Kuntakokous
DTSTART:20270213T230000Z
END:VEVENT
BEGIN:VEVENT
UID:e
SUMMARY:Kuntakokous
DTSTART:2027021
END:VEVENT
BEGIN:VEVENT
UID:f
SUMMARY:Kuntakokous
RRULE:FREQ=WEEKLY
DTSTART;VALUE=DATE:20270215
END:VEVENT
END:VCALENDAR
"""


def test_an_outlook_zone_and_a_floating_time_are_read_as_local_days(tmp_path: Path) -> None:
    """Outlook names its zone itself and defines it in a VTIMEZONE; a TZID nobody knows and
    a time without a zone are local time; UTC is converted (23.00 UTC is the next day)."""
    path = tmp_path / "export.ics"
    path.write_bytes(b"\xef\xbb\xbf" + OUTLOOK.replace("\n", "\r\n").encode())  # with a BOM
    events = {e.uid: e for e in read_events(path, HELSINKI)}
    assert {uid: e.day for uid, e in events.items()} == {
        "a": date(2027, 2, 11), "b": date(2027, 2, 12), "c": date(2027, 2, 13),
        "d": date(2027, 2, 14), "e": None, "f": date(2027, 2, 15)}
    assert events["c"].start == datetime(2027, 2, 13, 12, tzinfo=HELSINKI)
    assert events["e"].unreadable and "DTSTART" in events["e"].unreadable
    assert events["f"].recurring and events["f"].start is None


@pytest.mark.parametrize(("content", "words"), [
    (None, "no such file"),
    (b"hello\r\n", "not a valid iCalendar file"),
    (b"", "not an iCalendar file"),
    (b"\xff\xfeB\x00E\x00", "not UTF-8"),
])
def test_a_file_that_cannot_be_read_is_named(
    installation: Installation, capsys: pytest.CaptureFixture[str], content: bytes | None,
    words: str
) -> None:
    path = installation.root / "export.ics"
    if content is not None:
        path.write_bytes(content)
    code = installation.run("held", "--import", str(path), now=NOW)
    out, err = capsys.readouterr()
    assert code == 2 and f"yhdyspinta: {path}: {words}" in err
    assert "Traceback" not in err and not out


@pytest.mark.parametrize("argv", [["held"], ["held", KK_2027, "--import", "x.ics"]])
def test_held_takes_a_uid_or_a_file(installation: Installation,
                                    capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        installation.run(*argv, now=NOW)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "usage: yhdyspinta held" in err and ("UID" in err and "--import" in err)


def test_one_meetings_options_are_refused_with_an_import(
    installation: Installation, capsys: pytest.CaptureFixture[str], exported: Path
) -> None:
    code = installation.run("held", "--import", str(exported), "--present", "hva", now=NOW)
    err = capsys.readouterr().err
    assert code == 2 and "--present is for one meeting" in err
    assert schedule(installation, capsys)[KK_2027]["status"] == "unconfirmed"
