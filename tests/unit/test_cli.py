"""The command line on the real catalogue: the JSON contract, CSV, tables and .ics files."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from scheduler.cli import main
from tests.conftest import ROOT

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TERM = ["plan", "--from", "2026-01-01", "--to", "2029-05-31"]
DOMAIN_BODIES = {  # every body of shared/domain.md, with the conveners the documents name
    "strateginen-foorumi": ["liitto", "hva"], "kuntakokous": ["jyvaskyla"],
    "seurantakokous": [], "kuntajohtajakokous": [], "kansanedustajakokous": [],
    "ksturva": ["liitto"], "vaestonsuojelu-yhteistyoryhma": [],
    "sivistysjohtajien-verkosto": ["liitto"], "asumisen-tyoryhma": ["hva"],
    "tietopohja-tyoryhma": [], "vaikuttamisryhma": ["liitto"], "valmiusharjoitus": [],
    "hyte-neuvottelut": ["hva"], "hva-kunta-neuvottelu": [],
    "maahanmuutto-aluetyoryhma": ["elinvoimakeskus"], "opiskeluhuolto-yhteistyoryhma": [],
    "hyte-verkosto": [], "hytetu-ohjausryhma": [],
}


@pytest.fixture(autouse=True)
def _in_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)
    # The schedule is stored (issue 9): each test in a database of its own, not var/.
    monkeypatch.setenv("YHDYSPINTA_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), now=NOW)
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *TERM, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"meetings", "problems"}
    keys = {"uid", "body", "title", "start", "end", "conveners", "organisations", "group",
            "status", "sequence", "reasons"}
    for meeting in data["meetings"]:
        assert keys <= set(meeting)
        start = datetime.fromisoformat(meeting["start"])
        assert start.utcoffset() is not None
        # issue 9: a planned meeting whose day has passed unrecorded is "unconfirmed"
        assert meeting["status"] in {"planned", "fixed", "held", "cancelled", "unconfirmed"}
        assert isinstance(meeting["communicated"], bool) and "moved_from" in meeting
        assert set(meeting["conveners"]) <= set(meeting["organisations"])
        assert meeting["reasons"]
    for problem in data["problems"]:
        assert problem["severity"] in {"error", "warning"}
        assert problem["message"]
    assert not [p for p in data["problems"] if p["severity"] == "error"]


def test_plan_shows_the_known_kuntakokous_and_plans_the_next(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *TERM, "--format", "json")
    kk = [m for m in json.loads(out)["meetings"] if m["body"] == "kuntakokous"]
    assert kk[0]["start"].startswith("2026-02-18") and kk[0]["status"] == "held"  # 002
    assert [m["start"][:4] for m in kk] == ["2026", "2027", "2028", "2029"]
    assert all(m["conveners"] == ["jyvaskyla"] for m in kk)
    assert len(kk[1]["organisations"]) == 24


def test_plan_reports_the_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *TERM, "--format", "json")
    problems = json.loads(out)["problems"]
    no_convener = {p["body"] for p in problems if p["code"] == "no-convener"}
    assert {"seurantakokous", "kuntajohtajakokous", "valmiusharjoitus"} <= no_convener
    assert any(p["code"] == "example-calendar" for p in problems)


def test_plan_in_english_and_swedish(capsys: pytest.CaptureFixture[str]) -> None:
    _, out_en, _ = run(capsys, "--lang", "en", *TERM, "--format", "json")
    _, out_sv, _ = run(capsys, "--lang", "sv", *TERM, "--format", "json")
    en, sv = json.loads(out_en)["meetings"][0], json.loads(out_sv)["meetings"][0]
    assert en["uid"] == sv["uid"] and en["reasons"] != sv["reasons"]
    assert any("working day" in r or "Known meeting" in r for r in en["reasons"])


def test_bodies_json_lists_every_body_of_the_domain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "bodies", "--format", "json")
    assert code == 0
    bodies = {b["id"]: b for b in json.loads(out)}
    for ident, conveners in DOMAIN_BODIES.items():
        assert bodies[ident]["conveners"] == conveners, ident
    for b in bodies.values():
        assert set(b["name"]) == {"fi", "sv", "en"}
        assert b["sources"] and isinstance(b["rules"], list) and isinstance(b["organisations"], list)
        if not b["conveners"]:
            assert b["gaps"]["conveners"]["fi"]


def test_check_passes_on_the_real_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.startswith("OK: 53 bodies")


def test_csv_has_a_row_per_meeting(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *TERM, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    _, js, _ = run(capsys, *TERM, "--format", "json")
    assert [r["uid"] for r in rows] == [m["uid"] for m in json.loads(js)["meetings"]]


def test_table_uses_finnish_dates(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *TERM)
    assert "ke 18.2.2026" in out and "12.00–16.00" in out and "Kuntakokous 2026" in out


def test_ics_export_writes_one_parseable_file_per_body(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, *TERM, "--format", "json", "--ics", str(tmp_path))
    assert code == 0
    meetings: list[dict[str, Any]] = json.loads(out)["meetings"]
    assert {p.stem for p in tmp_path.glob("*.ics")} == {m["body"] for m in meetings}
    for path in tmp_path.glob("*.ics"):
        raw = path.read_bytes()
        calendar = Calendar.from_ical(raw)
        [tz] = calendar.walk("VTIMEZONE")
        assert tz["TZID"] == "Europe/Helsinki"
        assert all("RRULE" in part and "RDATE" not in part for part in tz.subcomponents)
        assert b"METHOD" not in raw  # a feed, not an iTIP message
        ours = {m["uid"]: m for m in meetings if m["body"] == path.stem}
        for event in calendar.events:
            expected = ours[str(event["UID"])]
            assert event.start == datetime.fromisoformat(expected["start"])
            assert event["DTSTART"].params["TZID"] == "Europe/Helsinki"
            assert event["SUMMARY"] == expected["title"]


def test_bad_dates_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--from", "2026-02-30"], now=NOW)
    assert exc.value.code == 2
    code, _, err = run(capsys, "plan", "--from", "2027-01-01", "--to", "2026-01-01")
    assert code == 2 and "before" in err and "Traceback" not in err
