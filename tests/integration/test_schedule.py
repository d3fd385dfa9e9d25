"""The schedule as a durable record (issue 9), through the command line over the real
catalogue: one date per meeting in every command, decisions kept, known meetings of
bodies/ reconciled, `move` validated, `held` and `cancel` followed up."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar

from scheduler.cli import main
from tests.conftest import ROOT
from tests.integration.conftest import Installation, at

KK = "kuntakokous-2027-1@yhdyspinta"
TODAY = at(2026, 12, 2)


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


class Region(Installation):
    """An installation with a catalogue of its own, which a test may edit."""

    @property
    def bodies(self) -> Path:
        return self.root / "bodies"

    def run(self, *argv: str, now: datetime) -> int:
        return main(["--config", str(self.root / "yhdyspinta.toml"), "--bodies", str(self.bodies),
                     *argv], now=now)

    def edit(self, body: str, change: Any) -> None:
        path = self.bodies / f"{body}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def plan(self, capsys: pytest.CaptureFixture[str], *window: str, now: datetime = TODAY
             ) -> dict[str, dict[str, Any]]:
        capsys.readouterr()
        self.run("plan", *window, "--format", "json", now=now)
        return {m["uid"]: m for m in json.loads(capsys.readouterr().out)["meetings"]}

    def rows(self, uid: str) -> list[tuple[str, str, str, str]]:
        with sqlite3.connect(self.root / "state.db") as db:
            return db.execute("SELECT kind, recipient, state, due FROM outbox WHERE meeting_uid = ?",
                              (uid,)).fetchall()


@pytest.fixture
def region(installation: Installation) -> Region:
    shutil.copytree(ROOT / "bodies", installation.root / "bodies")
    return Region(installation.root)


def starts(meetings: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {uid: m["start"] for uid, m in meetings.items()}


def test_every_command_gives_a_meeting_the_same_date(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    term = starts(region.plan(capsys, "--from", "2025-06-01", "--to", "2029-05-31"))
    year = starts(region.plan(capsys, "--from", "2027-01-01", "--to", "2027-12-31"))
    default = starts(region.plan(capsys))
    assert year and default
    assert all(term[uid] == start for uid, start in {**year, **default}.items())
    assert set(year) == {uid for uid, start in term.items() if start.startswith("2027")}

    region.run("simulate", "--from", "2027-01-01", "--to", "2027-12-31",
               "--outbox", str(region.root / "sim"), now=TODAY)
    simulated = region.messages(region.root / "sim")
    invited = 0
    for message in simulated:
        if str(message["X-Yhdyspinta-Action"]) != "invite":
            continue
        [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
        uid = str(event["UID"])
        assert event.decoded("DTSTART") == datetime.fromisoformat(term[uid]), uid
        invited += 1
    assert invited > 100
    region.run("dispatch", "--until", "2027-03-01T00:00", now=at(2027, 1, 5))
    with sqlite3.connect(region.root / "state.db") as db:
        stored = dict(db.execute("SELECT uid, start FROM meetings").fetchall())
    assert {uid: stored[uid] for uid in term} == term


def test_a_date_written_into_bodies_takes_the_meetings_place(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    region.run("dispatch", "--until", "2027-01-25T00:00", now=at(2027, 1, 25))
    invited = {to for kind, to, state, _ in region.rows(KK) if kind == "invite" and state == "sent"}
    assert len(invited) > 20
    before = region.plan(capsys)[KK]
    region.edit("kuntakokous", lambda data: data["meetings"].append(
        {"date": "2027-02-25", "status": "fixed", "source": "kuntakokouksen kutsu 1.2.2027"}))
    region.run("dispatch", now=at(2027, 2, 1))
    after = region.plan(capsys, now=at(2027, 2, 1))
    assert after[KK]["start"].startswith("2027-02-25") and after[KK]["status"] == "fixed"
    assert after[KK]["sequence"] == 1 and after[KK]["moved_from"] == before["start"]
    assert not [uid for uid in after if uid.startswith("kuntakokous-2027-02-25")]  # no twin
    updates = {to for kind, to, state, _ in region.rows(KK) if kind == "update" and state == "sent"}
    assert updates == invited
    invites = [m for m in region.messages() if str(m["X-Yhdyspinta-Meeting"]) == KK
               and str(m["X-Yhdyspinta-Action"]) == "invite"]
    assert len(invites) == len(invited)  # nobody was invited twice
    dues = {kind: due for kind, _, _, due in region.rows(KK) if kind in ("agenda", "remind")}
    assert all(due >= "2027-02-17" for due in dues.values())  # the old date's went with it


def test_recording_one_meeting_held_moves_no_other(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    before = region.plan(capsys, "--from", "2025-06-01", "--to", "2029-05-31", now=at(2027, 5, 1))
    group = sorted(uid for uid in before if uid.startswith("maahanmuutto-aluetyoryhma-2027"))
    first = group[0]
    assert region.run("held", first, "--present", "jyvaskyla", "hva", now=at(2027, 5, 1)) == 0
    after = region.plan(capsys, "--from", "2025-06-01", "--to", "2029-05-31", now=at(2027, 5, 1))
    assert after[first]["status"] == "held" and after[first]["present"] == ["hva", "jyvaskyla"]
    assert {uid: m["start"] for uid, m in after.items() if uid != first} == \
        {uid: m["start"] for uid, m in before.items() if uid != first}


def test_held_refuses_a_meeting_still_ahead(region: Region,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert region.run("held", KK, now=TODAY) == 2
    assert "still ahead" in capsys.readouterr().err


def test_a_cancellation_below_target_proposes_a_replacement_and_alerts(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = region.plan(capsys)
    group = sorted(uid for uid in plan if uid.startswith("maahanmuutto-aluetyoryhma-2027"))
    assert len(group) == 2
    assert region.run("cancel", group[1], "--reason", "Päällekkäinen tilaisuus", now=TODAY) == 0
    after = region.plan(capsys)
    assert after[group[1]]["status"] == "cancelled"
    replacement = [uid for uid in after if uid.startswith("maahanmuutto-aluetyoryhma-2027")
                   and uid not in group]
    assert len(replacement) == 1 and after[replacement[0]]["status"] == "planned"
    assert after[replacement[0]]["start"][:10] != plan[group[1]]["start"][:10]  # not that day
    assert any("Korvaa peruttua kokousta" in r for r in after[replacement[0]]["reasons"])
    day = datetime.fromisoformat(after[replacement[0]]["start"]).date()
    texts = [part.get_content() for m in region.messages()
             if str(m["X-Yhdyspinta-Action"]) == "alert"
             and (part := m.get_body(("plain",))) is not None]
    assert any(f"{day.day}.{day.month}.{day.year}" in text and "korvaava" in text for text in texts)


@pytest.mark.parametrize(("when", "why"), [
    ("2027-02-13T12:00", "viikonloppu"),  # a Saturday
    ("2027-05-06T12:00", "helatorstai"),  # Ascension Day
    ("2026-12-28T12:00", "joulu"),  # the Christmas break
    ("2027-02-10T03:00", "virka-aika"),  # at night
    ("2026-11-30T12:00", "mennyt"),  # in the past
])
def test_move_refuses_what_the_rules_would_not_pick(
    region: Region, capsys: pytest.CaptureFixture[str], when: str, why: str
) -> None:
    region.plan(capsys)
    assert region.run("move", KK, when, now=TODAY) == 2
    err = capsys.readouterr().err
    assert why in err.lower() and "--force --reason" in err and "Traceback" not in err
    assert region.run("move", KK, when, "--force", now=TODAY) == 2  # a reason is needed
    assert "--reason" in capsys.readouterr().err
    assert region.run("move", KK, when, "--force", "--reason", "Päätetty hallituksessa",
                      now=TODAY) == 0
    moved = region.plan(capsys, "--from", "2026-01-01", "--to", "2029-05-31")[KK]
    assert moved["start"].startswith(when[:10])
    assert any("Päätetty hallituksessa" in reason for reason in moved["reasons"])


def test_move_refuses_a_clash_with_the_conveners_other_meeting(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = region.plan(capsys)
    mine, other = sorted(uid for uid in plan if uid.startswith("vaikuttamisryhma-2027"))
    day = plan[other]["start"][:10]
    assert region.run("move", mine, f"{day}T10:00", now=TODAY) == 2
    err = capsys.readouterr().err
    assert "koollekutsujalla (Keski-Suomen liitto) on silloin jo kokous" in err


def test_a_rule_change_replans_only_what_is_not_decided(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    region.run("dispatch", "--until", "2027-01-25T00:00", now=at(2027, 1, 25))  # kuntakokous told
    before = region.plan(capsys, now=at(2027, 1, 25))
    region.edit("vaikuttamisryhma", lambda data: data["shape"].update(weekdays=["wed"]))
    region.edit("kuntakokous", lambda data: data["shape"].update(weekdays=["mon"]))
    after = region.plan(capsys, now=at(2027, 1, 25))
    assert after[KK]["start"] == before[KK]["start"]  # committed: kept
    moved = [uid for uid in after if uid.startswith("vaikuttamisryhma-2028")]
    assert moved and all(datetime.fromisoformat(after[uid]["start"]).weekday() == 2 for uid in moved)
    assert set(moved) <= set(before)  # the same UIDs, new dates


def test_plan_shows_what_the_store_knows(region: Region, capsys: pytest.CaptureFixture[str]) -> None:
    region.run("dispatch", "--until", "2027-01-25T00:00", now=at(2027, 1, 25))
    plan = region.plan(capsys, "--from", "2025-06-01", "--to", "2029-05-31", now=at(2027, 1, 25))
    statuses = Counter(m["status"] for m in plan.values())
    assert statuses["unconfirmed"] > 0  # planned, past, nobody recorded it
    assert plan[KK]["communicated"] is True and plan[KK]["committed"] is True
    later = [m for m in plan.values() if m["start"] > "2028"]
    assert later and not any(m["communicated"] for m in later)


def test_the_example_calendar_spares_christmas(region: Region,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    plan = region.plan(capsys, "--from", "2025-06-01", "--to", "2029-05-31")
    for meeting in plan.values():
        start = datetime.fromisoformat(meeting["start"]).astimezone(UTC)
        assert not ((start.month == 12 and start.day >= 18) or (start.month == 1 and start.day <= 6)), \
            meeting["uid"]



def test_bodies_inviting_the_same_organisations_do_not_share_a_day(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    """The advocacy group and the migration group invite the same 24 organisations: they
    met on the same day in all eight pairs before issue 9."""
    plan = region.plan(capsys, "--from", "2025-06-01", "--to", "2029-05-31")
    days = {body: {m["start"][:10] for m in plan.values() if m["body"] == body}
            for body in ("vaikuttamisryhma", "maahanmuutto-aluetyoryhma")}
    assert days["vaikuttamisryhma"] and not days["vaikuttamisryhma"] & days["maahanmuutto-aluetyoryhma"]


def test_check_in_december_does_not_warn_about_the_year_ending(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    assert region.run("check", now=at(2026, 12, 15)) == 0
    assert "2026" not in "".join(line for line in capsys.readouterr().out.splitlines()
                                 if line.startswith("[warning] seurantakokous"))


def test_a_decided_meeting_the_rules_now_refuse_is_reported_not_moved(
    region: Region, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    region.run("dispatch", "--until", "2027-01-25T00:00", now=at(2027, 1, 25))  # kuntakokous told
    day = datetime.fromisoformat(region.plan(capsys, now=at(2027, 1, 25))[KK]["start"]).date()
    calendars = region.root / "calendars"
    shutil.copytree(ROOT / "calendars", calendars)
    (calendars / "valtuusto.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:valtuusto@test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:{day:%Y%m%d}\r\n"
        "SUMMARY:Valtuuston seminaari\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    monkeypatch.setenv("YHDYSPINTA_PLANNING_CALENDARS", str(calendars))
    capsys.readouterr()
    region.run("plan", "--format", "json", now=at(2027, 1, 25))
    data = json.loads(capsys.readouterr().out)
    [kk] = [m for m in data["meetings"] if m["uid"] == KK]
    assert kk["start"][:10] == day.isoformat()  # committed: stays
    [problem] = [p for p in data["problems"] if p["code"] == "decided-against-rules"]
    assert problem["body"] == "kuntakokous" and "Valtuuston seminaari" in problem["message"]
