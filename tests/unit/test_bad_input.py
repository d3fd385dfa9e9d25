"""The bad-input corpus: every way an operator can get ``bodies/``, the config or the blackout
calendars wrong must end in exit 2 and a message naming the file, the line, the key path and
the offending value or what was expected; never a traceback, an internal error or a crash.

Each case copies the real ``bodies/`` into ``tmp_path``, applies one corruption and runs the
loader and the CLI (in-process with a fixed clock; in a subprocess where a crash could take
pytest down with it). Standalone bad files live in ``tests/data/bad/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler.catalogue.load import load_catalogue
from scheduler.cli import main
from scheduler.errors import Problem, UserError

REPO = Path(__file__).resolve().parents[2]
BODIES = REPO / "bodies"
BAD = REPO / "tests" / "data" / "bad"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the real catalogue plans cleanly from here

# Wording of pydantic and the YAML parser that means nothing to an operator.
JARGON = ("Input should be", "Value error", "Input tag", "String should match", "discriminator",
          "valid dictionary", "datetime.date(", "<unicode string>")


# -- helpers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Replace the one occurrence of ``old`` in ``file`` (under the copied ``bodies/``)."""

    file: str
    old: str
    new: str

    def apply(self, root: Path) -> None:
        path = root / self.file
        text = path.read_text(encoding="utf-8")
        assert text.count(self.old) == 1, f"{self.file}: {self.old!r} must occur exactly once"
        path.write_text(text.replace(self.old, self.new), encoding="utf-8")


@dataclass(frozen=True)
class Case:
    """One corruption and where its problem must be reported.

    ``marker`` is text on the line the problem must name (in the corrupted file); ``words``
    must all appear in the message (the offending value, what was expected); the lines of
    ``mentions`` must be quoted in the message as ``line N``.
    """

    id: str
    edits: tuple[Edit, ...]
    file: str
    marker: str
    path: str
    words: tuple[str, ...]
    mentions: tuple[str, ...] = ()


def line_of(path: Path, marker: str) -> int:
    """The 1-based line of the one line of ``path`` containing ``marker``."""
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if marker in line]
    assert len(lines) == 1, f"{path.name}: marker {marker!r} is on lines {lines}, expected one"
    return lines[0]


def dump(problems: tuple[Problem, ...]) -> str:
    return "\n".join(f"  {problem}" for problem in problems) or "  (none)"


def problems_of(root: Path) -> tuple[Problem, ...]:
    with pytest.raises(UserError) as caught:
        load_catalogue(root)
    assert caught.value.problems, f"UserError without problems: {caught.value}"
    return caught.value.problems


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in-process; return the exit code (internal errors included) and stderr."""
    capsys.readouterr()
    try:
        code: Any = main(list(argv), now=NOW)
    except SystemExit as exc:  # _internal_error and argparse exit this way
        code = exc.code
    return code, capsys.readouterr().err


def assert_user_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, f"expected exit 2 for bad input, got {code}; stderr:\n{err}"
    assert "Traceback" not in err
    assert "internal error" not in err, err
    for needle in needles:
        assert needle in err, f"{needle!r} missing from stderr:\n{err}"


def assert_plain_words(message: str) -> None:
    jargon = [word for word in JARGON if word in message]
    assert not jargon, f"library jargon {jargon} in {message!r}"
    assert message.count("got ") <= 1, f"the value is repeated: {message!r}"


def to_latin1(path: Path) -> int:
    """Re-save ``path`` as latin-1; return the line of its first non-ASCII byte."""
    raw = path.read_text(encoding="utf-8").encode("latin-1", errors="replace")
    first = next(i for i, byte in enumerate(raw) if byte >= 0x80)
    path.write_bytes(raw)
    return raw[:first].count(b"\n") + 1


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YHDYSPINTA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No YHDYSPINTA_* variables of the developer, no config/ of the repository."""
    for key in list(os.environ):
        if key.startswith("YHDYSPINTA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def bodies(tmp_path: Path) -> Path:
    """A private copy of the real catalogue."""
    root = tmp_path / "bodies"
    shutil.copytree(BODIES, root)
    return root


@pytest.fixture
def calendars(tmp_path: Path) -> Path:
    root = tmp_path / "calendars"
    root.mkdir()
    return root


@pytest.fixture
def config(tmp_path: Path, calendars: Path) -> Path:
    """A valid configuration whose blackout calendars are the (empty) ``calendars`` fixture."""
    path = tmp_path / "yhdyspinta.toml"
    path.write_text(f'[planning]\ntimezone = "Europe/Helsinki"\ncalendars = "{calendars.as_posix()}"\n'
                    f'[messages]\ntemplates = "{(REPO / "templates" / "mail").as_posix()}"\n',
                    encoding="utf-8")
    return path


def check(capsys: pytest.CaptureFixture[str], config: Path, bodies: Path) -> tuple[int, str]:
    return run_cli(capsys, "--config", str(config), "--bodies", str(bodies), "check")


def test_the_unmodified_copy_is_clean(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Baseline: without a corruption the loader and ``check`` succeed, so exit 2 below is
    the corruption's doing."""
    load_catalogue(bodies)
    code, err = check(capsys, config, bodies)
    assert (code, err) == (0, "")


def test_quoted_dates_and_finnish_times_pass_check(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The friendlier spellings change nothing: the same catalogue, the same clean check."""
    Edit(KK, '  start: "12:00"\n', '  start: "12.00"\n').apply(bodies)
    Edit(KK, "  - date: 2026-02-18\n", '  - date: "2026-02-18"\n').apply(bodies)
    Edit("region.yaml", "    start: 2025-06-01\n", '    start: "2025-06-01"\n').apply(bodies)
    assert load_catalogue(bodies) == load_catalogue(BODIES)
    code, err = check(capsys, config, bodies)
    assert (code, err) == (0, "")


# -- one corruption, one located problem ------------------------------------------------------

KK, KJK, VR = "kuntakokous.yaml", "kuntajohtajakokous.yaml", "vaikuttamisryhma.yaml"
MODE = "  mode: in-person\n"

YAML11_BOOLS = [
    Case(f"yaml11-bool-{word}", (Edit(KK, MODE, f"  mode: {word}\n"),), KK, f"mode: {word}",
         "shape.mode", (f"'{word}'", f'"{word}"'))
    for word in ("no", "yes", "on", "off", "No")
]

CASES = [
    Case("syntax-under-indented", (Edit(KK, MODE, " mode: in-person\n"),), KK,
         "mode: in-person", "", ("not valid YAML",)),
    Case("syntax-over-indented", (Edit(KK, '  start: "12:00"\n', '    start: "12:00"\n'),), KK,
         'start: "12:00"', "", ("not valid YAML",)),
    Case("control-character", (Edit(KK, 'level: "2"\n', 'level: "2\x0b"\n'),), KK,
         "level:", "", ("control character",)),
    Case("duplicate-key", (Edit(KK, 'level: "2"\n', 'level: "2"\nlevel: "3"\n'),), KK,
         'level: "3"', "level", ("duplicate key",), mentions=('level: "2"',)),
    Case("unknown-organisation-in-conveners",
         (Edit(KK, "  - organisation: jyvaskyla\n", "  - organisation: jyvaskula\n"),), KK,
         "organisation: jyvaskula", "conveners[0].organisation",
         ("unknown organisation", "'jyvaskula'")),
    Case("organisation-name-instead-of-id",
         (Edit(KK, "  - organisation: jyvaskyla\n", "  - organisation: Jyväskylä\n"),), KK,
         "organisation: Jyväskylä", "conveners[0].organisation", ("'Jyväskylä'",)),
    Case("unknown-group-in-members", (Edit(KK, "  - group: kunnat\n", "  - group: kunnnat\n"),),
         KK, "group: kunnnat", "members[0].group", ("unknown group", "'kunnnat'")),
    Case("unknown-body-in-precedes",
         (Edit(KJK, "    body: kuntakokous\n", "    body: kuntakokos\n"),), KJK,
         "body: kuntakokos", "cadence[0].body", ("unknown body", "'kuntakokos'")),
    Case("unknown-body-in-co-preparers",
         (Edit(KK, "  - body: kuntajohtajakokous\n", "  - body: kuntajohtajakokus\n"),), KK,
         "body: kuntajohtajakokus", "co_preparers[0].body", ("unknown body", "'kuntajohtajakokus'")),
    Case("per-year-min-above-max", (Edit(VR, "    min: 2\n    max: 3\n", "    min: 4\n    max: 3\n"),),
         VR, "- kind: per-year", "cadence[0]", ("min (4)", "max (3)")),
    Case("per-year-min-quoted", (Edit(VR, "    min: 2\n", '    min: "2"\n'),), VR,
         'min: "2"', "cadence[0].min", ("whole number", "'2'")),
    Case("unknown-key-typo", (Edit(KK, "cadence:\n", "cadance:\n"),), KK, "cadance:", "cadance",
         ("unknown key",)),
    *YAML11_BOOLS,
    Case("yaml11-unquoted-time", (Edit(KK, '  start: "12:00"\n', "  start: 12:30\n"),), KK,
         "start: 12:30", "shape.start", ("'12:30'", '"12:30"')),
    Case("yaml11-postcode-leading-zero",
         (Edit("organisations.yaml", 'postcode: "40100"', "postcode: 00100"),), "organisations.yaml",
         "postcode: 00100", "organisations[1].address.postcode", ("'00100'", '"00100"')),
    Case("postcode-unquoted-number",
         (Edit("organisations.yaml", 'postcode: "40620"', "postcode: 40620"),), "organisations.yaml",
         "postcode: 40620", "organisations[0].address.postcode", ("40620", '"40620"', "text")),
    Case("impossible-date", (Edit(KK, "  - date: 2026-02-18\n", "  - date: 2026-02-30\n"),), KK,
         "date: 2026-02-30", "meetings[0].date", ("2026-02-30", "YYYY-MM-DD")),
    Case("id-differs-from-file-name", (Edit(KK, "id: kuntakokous\n", "id: kunta-kokous\n"),), KK,
         "id: kunta-kokous", "id", ("'kunta-kokous'", "'kuntakokous'")),
    Case("missing-sources",
         (Edit(VR, 'sources:\n  - "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 4"\n'
                   '  - "002 aluehallituksen muistio: toimenpide 4 ”Yhteinen edunvalvonnan '
                   'ydinviesti”"\n', ""),),
         VR, "id: vaikuttamisryhma", "sources", ("required",)),
    Case("empty-conveners-without-gap",
         (Edit("hyte-suunnittelukokoukset.yaml",
               'gaps:\n  conveners:\n    fi: "Asiakirjat eivät nimeä suunnittelukokousten koollekutsujaa."\n'
               '    sv: "Dokumenten anger ingen sammankallare för planeringsmötena."\n'
               '    en: "The documents name no convener for the planning meetings."\n', ""),),
         "hyte-suunnittelukokoukset.yaml", "conveners: []", "conveners", ("gaps.conveners",)),
    Case("wrong-rule-kind", (Edit(VR, "  - kind: per-year\n", "  - kind: per-month\n"),), VR,
         "kind: per-month", "cadence[0].kind",
         ("'per-month'", "per-year", "per-term", "months", "round", "precedes")),
    Case("invalid-iso-duration", (Edit(KJK, "    min_lead: P3W\n", "    min_lead: 3 weeks\n"),), KJK,
         "min_lead: 3 weeks", "cadence[0].min_lead", ("'3 weeks'", "P6W")),
    Case("wrong-weekday-in-round",
         (Edit("hyte-neuvottelut.yaml", "    weekday: thu\n", "    weekday: tiistai\n"),),
         "hyte-neuvottelut.yaml", "weekday: tiistai", "cadence[1].weekday", ("'tiistai'", "'tue'")),
    Case("wrong-weekday-in-shape",
         (Edit(KK, "  weekdays: [tue, wed, thu]\n", "  weekdays: [tiistai, wed, thu]\n"),), KK,
         "weekdays: [tiistai", "shape.weekdays[0]", ("'tiistai'", "'tue'")),
    Case("alias",
         (Edit(VR, '    source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 4: ”Maakunta',
               '    source: &src "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 4: ”Maakunta'),
          Edit(VR, '    source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 4, seuranta: '
                   '”Vaikuttamisryhmä kokoontunut 2-3 krt/v”"\n', "    source: *src\n")),
         VR, "source: *src", "cadence[0].source", ("alias",)),
    # hand-written dates and times are met halfway: a near miss is told what to write
    Case("time-hour-only-quoted", (Edit(KK, '  start: "12:00"\n', '  start: "9"\n'),), KK,
         'start: "9"', "shape.start", ("'9'", 'write "9:00"')),
    Case("time-unquoted-finnish", (Edit(KK, '  start: "12:00"\n', "  start: 9.30\n"),), KK,
         "start: 9.30", "shape.start", ("9.3", 'write "9:30"')),
    Case("date-finnish-style", (Edit(KK, "  - date: 2026-02-18\n", "  - date: 18.2.2026\n"),),
         KK, "date: 18.2.2026", "meetings[0].date",
         ("'18.2.2026'", "YYYY-MM-DD", "write 2026-02-18")),
    Case("quoted-impossible-date",
         (Edit(KK, "  - date: 2026-02-18\n", '  - date: "2026-02-30"\n'),), KK,
         'date: "2026-02-30"', "meetings[0].date", ("'2026-02-30'", "YYYY-MM-DD")),
    Case("yaml11-bool-in-a-yes-no-key",
         (Edit("organisations.yaml", "    kind: wellbeing-county\n    party: true\n",
               "    kind: wellbeing-county\n    party: no\n"),),
         "organisations.yaml", "party: no", "organisations[0].party",
         ("'no'", 'write "no" in quotes', "write false")),
    Case("level-unquoted-number", (Edit(KK, 'level: "2"\n', "level: 2\n"),), KK, "level: 2",
         "level", ("'2'", 'write "2" in quotes')),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_problem_names_file_line_path_and_value(
    case: Case, bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for edit in case.edits:
        edit.apply(bodies)
    line = line_of(bodies / case.file, case.marker)

    problems = problems_of(bodies)
    found = [p for p in problems if Path(p.file).name == case.file and p.path == case.path]
    assert found, f"no problem at {case.file} {case.path!r}; got:\n{dump(problems)}"
    problem = found[0]
    assert Path(problem.file) == bodies / case.file
    assert problem.line == line, f"expected line {line}: {problem}"
    for word in case.words:
        assert word in problem.message, f"{word!r} missing from: {problem}"
    for marker in case.mentions:
        assert f"line {line_of(bodies / case.file, marker)}" in problem.message, str(problem)
    assert_plain_words(problem.message)

    code, err = check(capsys, config, bodies)
    where = f"{bodies / case.file}:{line}: " + (f"{case.path}: " if case.path else "")
    assert_user_error(code, err, where + problem.message)


def test_unclosed_bracket_points_at_where_it_opened(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Edit(KK, "  weekdays: [tue, wed, thu]\n", "  weekdays: [tue, wed, thu\n").apply(bodies)
    opened = line_of(bodies / KK, "weekdays: [tue, wed, thu")

    problems = problems_of(bodies)
    [problem] = [p for p in problems if Path(p.file).name == KK]
    assert "not valid YAML" in problem.message
    # The parser notices on the next line; the operator must be told where the "[" opened.
    assert problem.line in (opened, opened + 1), str(problem)
    assert problem.line == opened or f"line {opened}" in problem.message, str(problem)

    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, f"{bodies / KK}:{problem.line}: not valid YAML")


def test_partition_names_the_organisation_in_two_members(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Edit("groups.yaml", "organisations: [jyvaskyla, muurame]\n      - id: hyte-5",
         "organisations: [jyvaskyla, muurame, laukaa]\n      - id: hyte-5").apply(bodies)
    groups = bodies / "groups.yaml"
    ids = [g["id"] for g in yaml.safe_load(groups.read_text(encoding="utf-8"))["groupings"]]
    index = ids.index("hyte-kuntaryhmat")
    text = groups.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(text, 1) if "id: hyte-kuntaryhmat" in line)
    members = next(n for n, line in enumerate(text, 1) if n > start and "members:" in line)
    duplicate = line_of(groups, "[jyvaskyla, muurame, laukaa]")

    problems = problems_of(bodies)
    found = [p for p in problems if p.path.startswith(f"groupings[{index}].members")]
    assert len(found) == 1, dump(problems)
    [problem] = found
    assert Path(problem.file) == groups
    assert problem.line in (members, duplicate), str(problem)
    assert "'laukaa'" in problem.message and "2 members" in problem.message
    assert "'kunnat'" in problem.message

    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, f"{groups}:{problem.line}: {problem.path}: {problem.message}")


def test_precedes_cycle_is_reported_in_both_bodies_naming_both(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = '    source: "001 puitesopimus 2023–2025, Taso 2: ”se kokoontuu vähintään kerran vuodessa”"\n'
    Edit(KK, rule, rule + "  - kind: precedes\n    body: kuntajohtajakokous\n"
                          '    min_lead: P1W\n    max_lead: P2W\n    source: "testi"\n').apply(bodies)

    problems = problems_of(bodies)
    for file in (KK, KJK):
        found = [p for p in problems if Path(p.file).name == file and "cycle" in p.message]
        assert len(found) == 1, f"{file}:\n{dump(problems)}"
        [problem] = found
        assert problem.path.startswith("cadence"), str(problem)
        assert problem.line is not None
        top_level = (bodies / file).read_text(encoding="utf-8").splitlines().index("cadence:") + 1
        assert problem.line >= top_level, str(problem)
        for body in ("'kuntakokous'", "'kuntajohtajakokous'"):
            assert body in problem.message, f"the cycle must name {body}: {problem}"

    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, f"{bodies / KK}:", f"{bodies / KJK}:", "cycle")


@pytest.mark.parametrize("file", [KK, "organisations.yaml"])
def test_non_utf8_file(
    file: str, bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = to_latin1(bodies / file)

    problems = problems_of(bodies)
    found = [p for p in problems if Path(p.file).name == file]
    assert len(found) == 1, dump(problems)
    [problem] = found
    assert problem.line == line, str(problem)
    assert "UTF-8" in problem.message and "0x" in problem.message

    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, f"{bodies / file}:{line}: ", "UTF-8")


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda root: Edit(KK, MODE, " mode: in-person\n").apply(root), id="syntax"),
        pytest.param(lambda root: to_latin1(root / KK), id="not-utf8"),
        pytest.param(lambda root: Edit(KK, "sources:\n", "source:\n").apply(root), id="schema"),
    ],
)
def test_a_broken_body_is_not_also_reported_unknown_by_its_referrers(
    corrupt: Any, bodies: Path
) -> None:
    """kuntakokous.yaml exists but cannot be read: the operator must be sent to its own
    problem, not told by kuntajohtajakokous.yaml that there is no such body."""
    corrupt(bodies)
    problems = problems_of(bodies)
    assert any(Path(p.file).name == KK for p in problems), dump(problems)
    misleading = [p for p in problems if "unknown body 'kuntakokous'" in p.message]
    assert not misleading, f"misleading follow-up problems:\n{dump(tuple(misleading))}"


def test_alias_bomb_fails_fast_at_the_alias(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = bodies / "alias-bomb.yaml"
    shutil.copy(BAD / "alias-bomb.yaml", bomb)
    aliases = len(re.findall(r"\*\w", bomb.read_text(encoding="utf-8")))

    started = time.perf_counter()
    problems = problems_of(bodies)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"alias bomb took {elapsed:.2f} s"

    found = [p for p in problems if Path(p.file) == bomb]
    assert found, dump(problems)
    assert len(found) <= aliases, f"{len(found)} problems for {aliases} aliases: expanded?"
    assert all("alias" in p.message for p in found)
    first = found[0]
    assert first.path == "b[0]", str(first)
    assert first.line == line_of(bomb, "b: &b"), f"the alias *a is on the line of b: {first}"

    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, f"{bomb}:", "alias")


# -- every problem of a run, at once ----------------------------------------------------------


def test_all_problems_in_several_files_are_reported_in_one_run(
    bodies: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for edit in (
        Edit("seurantakokous.yaml", 'level: "2"\n', 'level: "2"\nlevel: "3"\n'),
        Edit("seurantakokous.yaml", "  mode: hybrid\n", "  mode: no\n"),
        Edit(VR, "    min: 2\n    max: 3\n", "    min: 4\n    max: 3\n"),
        Edit(VR, "  weekdays: [tue, wed, thu]\n", "  weekdays: [tiistai, wed, thu]\n"),
        Edit("groups.yaml", "organisations: [jyvaskyla, muurame]\n      - id: hyte-5",
             "organisations: [jyvaskyla, muurame, laukaa]\n      - id: hyte-5"),
        Edit("ksturva.yaml", "  - organisation: liitto\n", "  - organisation: liito\n"),
    ):
        edit.apply(bodies)
    to_latin1(bodies / "move.yaml")
    expected = [
        ("seurantakokous.yaml", "duplicate key"),  # two YAML problems in one file
        ("seurantakokous.yaml", "'no'"),
        (VR, "min (4) is greater than max (3)"),  # two schema problems in one file
        (VR, "'tiistai'"),
        ("groups.yaml", "'laukaa'"),  # cross-reference problems
        ("ksturva.yaml", "'liito'"),
        ("move.yaml", "UTF-8"),  # an unreadable file
    ]

    problems = problems_of(bodies)
    for file, needle in expected:
        found = [p for p in problems if Path(p.file).name == file and needle in p.message]
        assert len(found) == 1, f"{file} {needle!r}:\n{dump(problems)}"
    assert len(problems) == len(expected), dump(problems)

    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, *(str(problem) for problem in problems))
    assert err.count("\n  - ") == len(expected), err


# -- values the schema accepts but nothing downstream can use ---------------------------------


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        pytest.param(Edit(VR, "  duration: PT2H\n", "  duration: PT99999999999H\n"),
                     (VR, "shape.duration", "PT99999999999H"), id="duration-overflows"),
        pytest.param(Edit(VR, "  duration: PT2H\n", "  duration: P9999999W\n"),
                     (VR, "shape.duration", "P9999999W"), id="duration-of-millennia"),
        pytest.param(Edit(KJK, "    max_lead: P10W\n", "    max_lead: P9999999W\n"),
                     (KJK, "max_lead", "P9999999W"), id="lead-of-millennia"),
        pytest.param(Edit("region.yaml", "    end: 2029-05-31\n", "    end: 9999-12-31\n"),
                     ("region.yaml", "terms[0]", "9999-12-31"), id="term-until-9999"),
    ],
)
def test_out_of_range_values_are_user_errors(
    edit: Edit, needles: tuple[str, ...], bodies: Path, config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit.apply(bodies)
    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, *needles)


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("invalid-syntax.toml", ("not valid TOML", "line 2")),
        ("unknown-timezone.toml", ("planning.timezone", "'Europe/Helsingfors'", "Europe/Helsinki")),
    ],
)
def test_bad_config_file(
    name: str, needles: tuple[str, ...], bodies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(capsys, "--config", str(BAD / "config" / name), "--bodies", str(bodies),
                        "check")
    assert_user_error(code, err, str(BAD / "config" / name), *needles)
    assert_plain_words(err)


def test_missing_config_file(
    tmp_path: Path, bodies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.toml"
    code, err = run_cli(capsys, "--config", str(missing), "--bodies", str(bodies), "check")
    assert_user_error(code, err, str(missing), "not found")


@pytest.mark.parametrize(
    ("variable", "value", "needles"),
    [
        ("YHDYSPINTA_PLANNING_LANGUAGE", "de", ("'de'", "'fi'", "'sv'", "'en'")),
        ("YHDYSPINTA_PLANNING_TIMEZONE", "Mars/Olympus", ("'Mars/Olympus'", "Europe/Helsinki")),
    ],
)
def test_bad_environment_override_names_the_variable(
    variable: str, value: str, needles: tuple[str, ...], bodies: Path, config: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """The bad value is not in the TOML file: the operator must be sent to the variable."""
    monkeypatch.setenv(variable, value)
    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, variable, *needles)
    assert_plain_words(err)


def test_missing_bodies_directory(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = check(capsys, config, tmp_path / "no-bodies")
    assert_user_error(code, err, str(tmp_path / "no-bodies"), "no such directory")


# -- blackout calendars -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("rrule.ics", ("recurring", "weekly-blackout@bad-input")),
        ("garbage.ics", ("not a valid iCalendar",)),
        ("impossible-date.ics", ("DTSTART", "20261301", "month-13@bad-input")),
        ("ends-before-start.ics", ("backwards@bad-input", "2026-12-22")),
    ],
)
def test_bad_blackout_calendar(
    name: str, needles: tuple[str, ...], bodies: Path, calendars: Path, config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copy(BAD / "calendars" / name, calendars / name)
    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, str(calendars / name), *needles)


def test_non_utf8_blackout_calendar(
    bodies: Path, calendars: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ics = calendars / "latin1.ics"
    text = (BAD / "calendars" / "ends-before-start.ics").read_text(encoding="utf-8")
    ics.write_bytes(text.replace("DTEND;VALUE=DATE:20261215", "DTEND;VALUE=DATE:20261230")
                    .replace("Joululoma", "Joululoma ja syysloma (päivät)").encode("latin-1"))
    code, err = check(capsys, config, bodies)
    assert_user_error(code, err, str(ics), "UTF-8")


# -- in a real process: no traceback, no crash ------------------------------------------------


def nested(depth: int) -> str:
    """A YAML document of flow sequences nested ``depth`` deep (100 000 deep is 200 kB)."""
    return "x: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        pytest.param(lambda root, cal: Edit(KK, MODE, " mode: in-person\n").apply(root),
                     KK, id="malformed-yaml"),
        pytest.param(lambda root, cal: shutil.copy(BAD / "alias-bomb.yaml", root / "lol.yaml"),
                     "lol.yaml", id="alias-bomb"),
        pytest.param(lambda root, cal: (root / "deep.yaml").write_text(nested(1_000)),
                     "deep.yaml", id="nested-1000-deep"),
        pytest.param(lambda root, cal: (root / "deep.yaml").write_text(nested(100_000)),
                     "deep.yaml", id="nested-100000-deep"),
        pytest.param(lambda root, cal: Edit(VR, "  duration: PT2H\n",
                                            "  duration: PT99999999999H\n").apply(root),
                     VR, id="duration-overflows"),
        pytest.param(lambda root, cal: shutil.copy(BAD / "calendars" / "impossible-date.ics", cal),
                     "impossible-date.ics", id="calendar-impossible-date"),
    ],
)
def test_subprocess_exits_2_without_traceback(
    setup: Any, needle: str, tmp_path: Path, bodies: Path, calendars: Path, config: Path
) -> None:
    setup(bodies, calendars)
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "--config", str(config), "--bodies", str(bodies),
         "check"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=clean_environment(),
        check=False,
    )
    assert result.returncode == 2, f"exit {result.returncode}; stderr:\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert needle in result.stderr, result.stderr[-2000:]
