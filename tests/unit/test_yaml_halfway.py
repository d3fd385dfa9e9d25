"""Hand-written YAML is met halfway: an unambiguous date or time in quotes is accepted, and
every refusal says exactly what to write instead, and writing that works.

The round trip is the point: each refused value is written into a copy of the real
``bodies/``, the suggestions (each ``write X`` in the message) are taken from the message
and written back in its place, and the catalogue must then load with the value meant. The
YAML 1.1 traps (``9:00`` is 540, ``no`` is false, ``00100`` is 64) stay refused; their
suggestions must lead to an accepted value too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from scheduler.catalogue.load import load_catalogue
from scheduler.catalogue.model import Catalogue, PerYear, Precedes, parse_clock, parse_day
from scheduler.cli import main
from scheduler.errors import Problem, UserError

REPO = Path(__file__).resolve().parents[2]
BODIES = REPO / "bodies"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KK, VR, ORGS = "kuntakokous.yaml", "vaikuttamisryhma.yaml", "organisations.yaml"
HYTE, HYTE_PLAN = "hyte-neuvottelut.yaml", "hyte-suunnittelukokoukset.yaml"
# What to write: "write X" with X in double quotes or a plain word ("write 2026-02-18").
SUGGESTION = re.compile(r'\bwrite ("[^"]*"|[^\s;,()"]+)')


@dataclass(frozen=True)
class Spot:
    """A place for one value in a file of ``bodies/``: ``old`` becomes ``new`` with the value
    in place of ``{value}``; ``path`` is the key path a problem there must name, ``read``
    gets the loaded value back."""

    file: str
    old: str
    new: str
    path: str
    read: Callable[[Catalogue], object]

    def write(self, root: Path, value: str) -> int:
        """Write ``value`` into the copy at ``root``; return the line it is on."""
        path = root / self.file
        text = path.read_text(encoding="utf-8")
        assert text.count(self.old) == 1, f"{self.file}: {self.old!r} must occur exactly once"
        before, after = text.split(self.old)
        path.write_text(before + self.new.replace("{value}", value) + after, encoding="utf-8")
        return before.count("\n") + 1 + self.new[: self.new.index("{value}")].count("\n")


def _kk(catalogue: Catalogue) -> Any:
    return catalogue.bodies["kuntakokous"]


def _postcode(catalogue: Catalogue, organisation: str) -> str:
    address = catalogue.organisations[organisation].address
    assert address is not None
    return address.postcode


SHAPE_START = Spot(KK, '  start: "12:00"\n', "  start: {value}\n", "shape.start",
                   lambda c: _kk(c).shape.start)
MEETING_DATE = Spot(KK, "  - date: 2026-02-18\n", "  - date: {value}\n", "meetings[0].date",
                    lambda c: _kk(c).meetings[0].date)
MEETING_START = Spot(KK, "  - date: 2026-02-18\n", "  - date: 2026-02-18\n    start: {value}\n",
                     "meetings[0].start", lambda c: _kk(c).meetings[0].start)
FLOW_DATE = Spot(HYTE, "{date: 2025-10-23, ", "{date: {value}, ", "meetings[0].date",
                 lambda c: c.bodies["hyte-neuvottelut"].meetings[0].date)
FLOW_START = Spot(HYTE, "{date: 2025-10-23, ", "{date: 2025-10-23, start: {value}, ",
                  "meetings[0].start", lambda c: c.bodies["hyte-neuvottelut"].meetings[0].start)
TERM_START = Spot("region.yaml", "    start: 2025-06-01\n", "    start: {value}\n",
                  "terms[0].start", lambda c: c.region.terms[0].start)
MIN = Spot(VR, "    min: 2\n", "    min: {value}\n", "cadence[0].min",
           lambda c: c.bodies["vaikuttamisryhma"].rules_of(PerYear)[0].min)
PREFERRED_MONTH = Spot(KK, "  preferred_months: [2]\n", "  preferred_months: [{value}]\n",
                       "shape.preferred_months[0]", lambda c: _kk(c).shape.preferred_months[0])
LEVEL = Spot(KK, 'level: "2"\n', "level: {value}\n", "level", lambda c: _kk(c).level)
PARTY = Spot(ORGS, "  - id: hva\n    kind: wellbeing-county\n    party: true\n",
             "  - id: hva\n    kind: wellbeing-county\n    party: {value}\n",
             "organisations[0].party", lambda c: c.organisations["hva"].party)
PER_GROUP = Spot(HYTE_PLAN, "    per_group: true\n", "    per_group: {value}\n",
                 "cadence[0].per_group",
                 lambda c: c.bodies["hyte-suunnittelukokoukset"].rules_of(Precedes)[0].per_group)
POSTCODE = Spot(ORGS, 'postcode: "40100"', "postcode: {value}",
                "organisations[1].address.postcode",
                lambda c: _postcode(c, "liitto"))
LOCATION = Spot(KK, '  location: {fi: "Jyväskylä"}\n', "  location: {fi: {value}}\n",
                "shape.location.fi", lambda c: _kk(c).shape.location.fi)


@pytest.fixture
def bodies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the real catalogue; no YHDYSPINTA_* variables, no config/ of the repo."""
    for key in list(os.environ):
        if key.startswith("YHDYSPINTA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "bodies"
    shutil.copytree(BODIES, root)
    return root


def fresh_copy(root: Path) -> Path:
    shutil.rmtree(root)
    shutil.copytree(BODIES, root)
    return root


def problems_of(root: Path) -> tuple[Problem, ...]:
    with pytest.raises(UserError) as caught:
        load_catalogue(root)
    return caught.value.problems


def suggestions(message: str) -> list[str]:
    return SUGGESTION.findall(message)


# -- what is accepted as written ------------------------------------------------------------


@pytest.mark.parametrize(
    ("spot", "written", "meant"),
    [
        pytest.param(SHAPE_START, '"9:00"', time(9, 0), id="start-9:00"),
        pytest.param(SHAPE_START, '"09:00"', time(9, 0), id="start-09:00"),
        pytest.param(SHAPE_START, '"9.00"', time(9, 0), id="start-9.00-finnish"),
        pytest.param(SHAPE_START, '"13.00"', time(13, 0), id="start-13.00-finnish"),
        pytest.param(SHAPE_START, '"13:00"', time(13, 0), id="start-13:00"),
        pytest.param(SHAPE_START, "'9:30'", time(9, 30), id="start-single-quotes"),
        # plain 09:00 is text to YAML 1.1 too (its sexagesimal numbers start 1-9)
        pytest.param(SHAPE_START, "09:00", time(9, 0), id="start-09:00-unquoted"),
        pytest.param(MEETING_START, '"9:00"', time(9, 0), id="meeting-start-9:00"),
        pytest.param(FLOW_START, '"9.00"', time(9, 0), id="flow-meeting-start-9.00"),
        pytest.param(MEETING_DATE, '"2027-02-18"', date(2027, 2, 18), id="meeting-date-quoted"),
        pytest.param(MEETING_DATE, "'2027-02-18'", date(2027, 2, 18), id="meeting-date-single"),
        pytest.param(MEETING_DATE, "2027-02-18", date(2027, 2, 18), id="meeting-date-plain"),
        pytest.param(FLOW_DATE, '"2025-10-23"', date(2025, 10, 23), id="flow-meeting-date"),
        pytest.param(TERM_START, '"2025-06-01"', date(2025, 6, 1), id="term-start-quoted"),
    ],
)
def test_an_unambiguous_date_or_time_is_accepted(
    spot: Spot, written: str, meant: object, bodies: Path
) -> None:
    spot.write(bodies, written)
    assert spot.read(load_catalogue(bodies)) == meant


# -- what is refused, and following the message works ---------------------------------------

ROUND_TRIPS = [
    # times of day: YAML 1.1 traps, numbers, and near misses in quotes
    pytest.param(SHAPE_START, "9:00", time(9, 0), id="start-9:00-unquoted-yaml11"),
    pytest.param(SHAPE_START, "12:30", time(12, 30), id="start-12:30-unquoted-yaml11"),
    pytest.param(SHAPE_START, "9.00", time(9, 0), id="start-9.00-unquoted-number"),
    pytest.param(SHAPE_START, "9.30", time(9, 30), id="start-9.30-unquoted-number"),
    pytest.param(SHAPE_START, "13.05", time(13, 5), id="start-13.05-unquoted-number"),
    pytest.param(SHAPE_START, "1300", time(13, 0), id="start-1300-unquoted-number"),
    pytest.param(SHAPE_START, "9", time(9, 0), id="start-hour-unquoted"),
    pytest.param(SHAPE_START, '"9"', time(9, 0), id="start-hour-quoted"),
    pytest.param(SHAPE_START, '"klo 9"', time(9, 0), id="start-klo-9"),
    pytest.param(SHAPE_START, '"09:00:00"', time(9, 0), id="start-with-seconds"),
    pytest.param(SHAPE_START, "0900", time(9, 0), id="start-0900"),
    pytest.param(MEETING_START, "9:00", time(9, 0), id="meeting-start-9:00-unquoted"),
    pytest.param(MEETING_START, "13.00", time(13, 0), id="meeting-start-13.00-unquoted"),
    pytest.param(FLOW_START, "9:00", time(9, 0), id="flow-meeting-start-9:00-unquoted"),
    # dates
    pytest.param(MEETING_DATE, "18.2.2026", date(2026, 2, 18), id="date-finnish"),
    pytest.param(MEETING_DATE, '"18.02.2026"', date(2026, 2, 18), id="date-finnish-quoted"),
    pytest.param(MEETING_DATE, '"2026-2-18"', date(2026, 2, 18), id="date-without-zeros"),
    pytest.param(MEETING_DATE, "2026/02/18", date(2026, 2, 18), id="date-slashes"),
    pytest.param(MEETING_DATE, "20260218", date(2026, 2, 18), id="date-as-number"),
    pytest.param(MEETING_DATE, "2026-02-18T10:00:00", date(2026, 2, 18), id="date-timestamp"),
    pytest.param(MEETING_DATE, '"2026-02-18 10:00"', date(2026, 2, 18), id="date-and-time"),
    pytest.param(FLOW_DATE, "23.10.2025", date(2025, 10, 23), id="flow-date-finnish"),
    pytest.param(TERM_START, '"1.6.2025"', date(2025, 6, 1), id="term-start-finnish"),
    # numbers, yes/no values and texts that YAML 1.1 or quoting got in the way of
    pytest.param(MIN, '"2"', 2, id="count-quoted"),
    pytest.param(MIN, "02", 2, id="count-leading-zero-yaml11"),
    pytest.param(MIN, "2.0", 2, id="count-as-decimal"),
    pytest.param(PREFERRED_MONTH, "02", 2, id="month-leading-zero-yaml11"),
    pytest.param(PREFERRED_MONTH, '"02"', 2, id="month-quoted"),
    pytest.param(LEVEL, "2", "2", id="level-unquoted"),
    pytest.param(PARTY, "no", False, id="yes-no-unquoted-no-yaml11"),
    pytest.param(PARTY, '"no"', False, id="yes-no-quoted-no"),
    pytest.param(PARTY, '"kyllä"', True, id="yes-no-quoted-kylla"),
    pytest.param(PER_GROUP, "yes", True, id="yes-no-unquoted-yes-yaml11"),
    pytest.param(PER_GROUP, "on", True, id="yes-no-unquoted-on-yaml11"),
    pytest.param(POSTCODE, "00100", "00100", id="postcode-octal-yaml11"),
    pytest.param(POSTCODE, "40100", "40100", id="postcode-number"),
    pytest.param(LOCATION, "yes", "yes", id="text-yes-yaml11"),
    pytest.param(LOCATION, "true", "true", id="text-true"),
]


@pytest.mark.parametrize(("spot", "written", "meant"), ROUND_TRIPS)
def test_a_refusal_says_what_to_write_and_writing_it_works(
    spot: Spot, written: str, meant: object, bodies: Path
) -> None:
    line = spot.write(bodies, written)
    problems = problems_of(bodies)
    assert len(problems) == 1, "\n".join(map(str, problems))
    [problem] = problems
    assert (Path(problem.file), problem.line, problem.path) == (bodies / spot.file, line, spot.path)
    offered = suggestions(problem.message)
    assert offered, f"no 'write ...' in: {problem}"

    loaded, refused = [], []
    for suggestion in offered:
        spot.write(fresh_copy(bodies), suggestion)
        try:
            loaded.append(spot.read(load_catalogue(bodies)))
        except UserError as exc:
            refused.append(f"{suggestion}: {exc}")
    # A trap offers two spellings (text in quotes, or the number / yes-no value); the key
    # decides which one fits, so one of them may be refused, never the only one.
    assert len(refused) < len(offered), f"{problem.message!r}: all refused: {refused}"
    assert any(value == meant and type(value) is type(meant) for value in loaded), (
        f"{problem.message!r}: following it gave {loaded}, expected {meant!r}")


def test_quoting_every_date_of_the_real_catalogue_changes_nothing(bodies: Path) -> None:
    for path in bodies.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        quoted = re.sub(r"((?:date|start|end): )(\d{4}-\d{2}-\d{2})\b", r'\1"\2"', text)
        path.write_text(quoted, encoding="utf-8")
    assert load_catalogue(bodies) == load_catalogue(BODIES)


# -- every problem at once, in words, exit 2 ------------------------------------------------

AT_ONCE = [  # one file with YAML 1.1 traps and four with schema problems, all reported at once
    (PARTY, "no"), (POSTCODE, "00100"), (FLOW_START, "9:00"),
    (SHAPE_START, '"9"'), (MEETING_DATE, "18.2.2026"), (LEVEL, "2"), (TERM_START, '"1.6.2025"'),
    (MIN, '"2"'),
]


def test_every_refusal_is_reported_at_once_with_file_line_and_path(
    bodies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = {(spot.file, spot.path): spot.write(bodies, written) for spot, written in AT_ONCE}
    problems = problems_of(bodies)
    assert sorted((Path(p.file).name, p.path) for p in problems) == sorted(lines), (
        "\n".join(map(str, problems)))
    for problem in problems:
        assert problem.line == lines[Path(problem.file).name, problem.path], str(problem)
        assert suggestions(problem.message), str(problem)

    capsys.readouterr()
    code = main(["--bodies", str(bodies), "check"], now=NOW)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    for problem in problems:
        assert f"  - {problem}\n" in err, f"{problem} missing from:\n{err}"


def test_in_a_real_process_the_refusals_end_in_exit_2_without_traceback(bodies: Path) -> None:
    for spot, written in AT_ONCE:
        spot.write(bodies, written)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YHDYSPINTA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "--bodies", str(bodies), "check"],
        capture_output=True, text=True, timeout=60, cwd=bodies.parent, env=env, check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n  - ") == len(AT_ONCE), result.stderr


# -- the parsers on their own ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "meant"),
    [("9:00", time(9, 0)), ("09:00", time(9, 0)), ("9.00", time(9, 0)), ("13.00", time(13, 0)),
     ("0:00", time(0, 0)), ("23:59", time(23, 59)), (time(8, 15), time(8, 15))],
)
def test_parse_clock_accepts(value: object, meant: time) -> None:
    assert parse_clock(value) == meant


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [("9", '"9:00"'), ("klo 13.30", '"13:30"'), ("kl. 9", '"9:00"'), ("1300", '"13:00"'),
     ("9:00:00", '"9:00"'), (" 9:00", '"9:00"'), (9, '"9:00"'), (1300, '"13:00"'),
     (9.0, '"9:00"'), (9.3, '"9:30"'), (13.05, '"13:05"')],
)
def test_parse_clock_refuses_a_near_miss_with_the_time_to_write(
    value: object, suggestion: str
) -> None:
    with pytest.raises(ValueError, match="expected a time of day") as caught:
        parse_clock(value)
    assert suggestions(str(caught.value)) == [suggestion]
    assert parse_clock(suggestion.strip('"')) is not None


@pytest.mark.parametrize("value", ["25:00", "24:00", "9:0", "9:60", "aamupäivä", "9-11", 24,
                                   2400, -1, 9.999, True, None, [9]])
def test_parse_clock_refuses_without_guessing(value: object) -> None:
    with pytest.raises(ValueError, match='expected a time of day .* from "0:00" to "23:59"; got'):
        parse_clock(value)


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [("2026-2-18", "2026-02-18"), ("18.2.2026", "2026-02-18"), ("2026/02/18", "2026-02-18"),
     ("20260218", "2026-02-18"), (20260218, "2026-02-18"), ("2026-02-18 10:00", "2026-02-18"),
     (datetime(2026, 2, 18, 10, 0, tzinfo=UTC), "2026-02-18"), (" 2026-02-18", "2026-02-18")],
)
def test_parse_day_refuses_another_spelling_with_the_date_to_write(
    value: object, suggestion: str
) -> None:
    with pytest.raises(ValueError, match="expected a date") as caught:
        parse_day(value)
    assert suggestions(str(caught.value)) == [suggestion]
    assert parse_day(suggestion) == date.fromisoformat(suggestion)


@pytest.mark.parametrize("value", ["2026-02-30", "30.2.2026", "huomenna", "2026", 2026, True,
                                   None, "18.2.26", "2/18/2026"])
def test_parse_day_refuses_without_guessing(value: object) -> None:
    with pytest.raises(ValueError, match="expected a .*date .*; got") as caught:
        parse_day(value)
    assert not suggestions(str(caught.value))


def test_parse_day_accepts_iso_text_and_dates() -> None:
    assert parse_day("2027-02-18") == parse_day(date(2027, 2, 18)) == date(2027, 2, 18)
