"""Benchmark the whole ``yhdyspinta`` CLI: wall time and peak memory per command.

Usage (from anywhere; the commands run in the repository root so that the default
``config/yhdyspinta.toml`` and its blackout calendars apply)::

    .venv/bin/python tests/bench/run.py [--reps 3] [--sizes 625,1250,2500] [--workdir DIR]
                                        [--keep] [--profile]

Cases: (a) the real region, ``plan --from 2026-01-01 --to 2029-05-31 --format json`` on
``bodies/``; (b) the synthetic national catalogue (``national.py``) at each size, ``plan``
over four years (2026-01-01..2029-12-31) ``--format json`` to /dev/null; (c) the same plan of
the largest catalogue with ``--ics DIR``, whose cost is reported as the difference to (b).

Every measurement runs in a fresh wrapper process (``run.py --measure -- CMD ...``) that
times the command with ``time.perf_counter`` and reads
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` once the command has exited, so the peak
RSS belongs to that one command. One untimed warm-up run per case counts what was produced
(meetings, problems, .ics events); then ``--reps`` timed runs, of which the median is shown.
``--profile`` adds a cProfile of the largest national plan (top functions by own time).

The .ics case writes ~2,300 files; on a disk file system creating them is a visible part of
its cost. ``--workdir /dev/shm/yhdyspinta-bench`` (tmpfs) leaves only the CPU cost.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REAL_WINDOW = ("2026-01-01", "2029-05-31")
NATIONAL_WINDOW = ("2026-01-01", "2029-12-31")
MIB = 1024 * 1024

# Targets: (seconds, MiB); None where the brief sets none.
REGION_TARGET = (1.0, None)
NATIONAL_TARGET = (10.0, 500.0)
ICS_TARGET = (3.0, 200.0)


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    rss: int  # bytes
    returncode: int
    stderr_tail: str = ""


@dataclass
class Case:
    name: str
    command: list[str]
    shown: str  # the command line as printed in the report
    census: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    ics_dir: Path | None = None

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def rss(self) -> float:
        return statistics.median(s.rss for s in self.samples)

    @property
    def spread(self) -> str:
        walls = [s.wall for s in self.samples]
        return f"{min(walls):.2f}–{max(walls):.2f}"

    @property
    def returncodes(self) -> str:
        return ",".join(sorted({str(s.returncode) for s in self.samples}))


# -- the measuring wrapper (runs in its own process) ----------------------------------------


def measure(command: Sequence[str], stdout: str) -> int:
    """Run ``command`` once with stdout to ``stdout``; print wall time and peak RSS as JSON."""
    with open(stdout, "wb") as sink:
        begin = time.perf_counter()
        done = subprocess.run(list(command), stdout=sink, stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - begin
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    rss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    tail = done.stderr.decode("utf-8", "replace")[-800:] if done.returncode not in (0, 2) else ""
    print(json.dumps({"wall": wall, "rss": rss, "returncode": done.returncode, "stderr": tail}))
    return 0


def run_measured(command: Sequence[str], stdout: str = os.devnull,
                 database: Path | None = None) -> Sample:
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--measure", "--stdout", stdout,
               "--", *command]
    env = _clean_env()
    if database is not None:  # the schedule is stored (issue 9): each case a store of its own
        env["YHDYSPINTA_DATABASE_URL"] = f"sqlite:///{database}"
    done = subprocess.run(wrapper, cwd=REPO, env=env, capture_output=True, text=True,
                          check=True)
    data: dict[str, Any] = json.loads(done.stdout)
    return Sample(float(data["wall"]), int(data["rss"]), int(data["returncode"]),
                  str(data["stderr"]))


def _clean_env() -> dict[str, str]:
    """The environment without YHDYSPINTA_* overrides, so every run uses the same settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("YHDYSPINTA_")}


# -- cases ---------------------------------------------------------------------------------


def cli() -> list[str]:
    script = Path(sys.executable).parent / "yhdyspinta"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "scheduler"]


def _shown(command: Sequence[str], suffix: str) -> str:
    parts = []
    for part in command:
        path = Path(part)
        parts.append(str(path.relative_to(REPO)) if path.is_absolute() and path.is_relative_to(REPO)
                     else part)
    return " ".join(parts) + suffix


def plan_command(bodies: Path, window: tuple[str, str], ics: Path | None = None) -> list[str]:
    command = [*cli(), "--bodies", str(bodies), "plan", "--from", window[0], "--to", window[1],
               "--format", "json"]
    return [*command, "--ics", str(ics)] if ics else command


def generate(directory: Path, size: int) -> tuple[float, Sample]:
    """Write the national catalogue of ``size`` bodies; return the time it took and its check."""
    begin = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "national.py"), str(directory), "--bodies",
                    str(size)], cwd=REPO, env=_clean_env(), check=True, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - begin
    check = run_measured([*cli(), "--bodies", str(directory), "check"],
                         database=directory.with_suffix(".check.db"))
    return took, check


def run_case(case: Case, reps: int, scratch: Path) -> None:
    """A first run on an empty store, which records what the command produced and how long
    planning and storing the whole schedule took, then ``reps`` runs on the stored schedule
    (what every later ``plan`` does)."""
    output = scratch / f"{case.name}.json"
    database = scratch / f"{case.name}.db"
    database.unlink(missing_ok=True)
    _fresh(case.ics_dir)
    warm = run_measured(case.command, str(output), database)
    case.census = _census(output, case.ics_dir, warm)
    case.census["first_wall"], case.census["first_rss"] = warm.wall, warm.rss
    output.unlink()
    for _ in range(reps):
        _fresh(case.ics_dir)
        case.samples.append(run_measured(case.command, database=database))
        print(f"  {case.name}: {case.samples[-1].wall:.2f} s, "
              f"{case.samples[-1].rss / MIB:.0f} MiB, exit {case.samples[-1].returncode}",
              file=sys.stderr)


def _fresh(directory: Path | None) -> None:
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def _census(output: Path, ics_dir: Path | None, warm: Sample) -> dict[str, Any]:
    census: dict[str, Any] = {"returncode": warm.returncode, "json_bytes": output.stat().st_size}
    try:
        plan: dict[str, Any] = json.loads(output.read_bytes())
    except ValueError:
        census["meetings"] = census["errors"] = census["warnings"] = None
    else:
        problems = plan["problems"]
        census["meetings"] = len(plan["meetings"])
        census["errors"] = sum(1 for p in problems if p["severity"] == "error")
        census["warnings"] = sum(1 for p in problems if p["severity"] == "warning")
    if ics_dir is not None:
        files = sorted(ics_dir.glob("*.ics"))
        census["ics_files"] = len(files)
        census["ics_events"] = sum(f.read_bytes().count(b"BEGIN:VEVENT") for f in files)
        census["ics_bytes"] = sum(f.stat().st_size for f in files)
    return census


# -- report --------------------------------------------------------------------------------


def _verdict(wall: float, rss: float, target: tuple[float, float | None]) -> str:
    seconds, mib = target
    parts = [f"{'✅' if wall < seconds else '❌'} < {seconds:g} s"]
    if mib is not None:
        parts.append(f"{'✅' if rss / MIB < mib else '❌'} < {mib:g} MiB")
    return ", ".join(parts)


def _machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"nproc {nproc}; {model or platform.processor() or platform.machine()}; "
            f"{platform.system()} {platform.release()}; "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def _code() -> str:
    """The revision measured, and which files of ``scheduler/`` differ from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=False)
        return done.stdout.rstrip("\n") if done.returncode == 0 else ""

    revision = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "scheduler").splitlines()]
    return f"`{revision}`" + (f" plus uncommitted changes to {', '.join(dirty)}" if dirty else "")


def report(region: Case, national: list[Case], ics: Case | None, checks: dict[int, str],
           reps: int) -> str:
    lines = [
        "## yhdyspinta CLI benchmark",
        "",
        f"Code: {_code()}.",
        "",
        (f"Machine: {_machine()}. Median of {reps} runs (min–max in brackets); peak RSS is "
         "the command's own `ru_maxrss`, read in a fresh wrapper process per run. Commands run "
         "in the repository root (default `config/yhdyspinta.toml`, its blackout calendars)."),
        "",
        "| Case | Command | Meetings | Exit | Wall (s) | Peak RSS (MiB) | First run: wall, RSS | Target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]

    def row(label: str, case: Case, target: tuple[float, float | None]) -> str:
        meetings = case.census.get("meetings")
        first = (f"{case.census.get('first_wall', 0):.2f} s, "
                 f"{case.census.get('first_rss', 0) / MIB:.0f} MiB")
        return (f"| {label} | `{case.shown}` | {meetings if meetings is not None else '?'} | "
                f"{case.returncodes} | {case.wall:.2f} [{case.spread}] | {case.rss / MIB:.0f} | "
                f"{first} | {_verdict(max(case.wall, case.census.get('first_wall', 0)), case.rss, target)} |")

    lines.append(row("(a) real region", region, REGION_TARGET))
    lines.extend(row(f"(b) {case.name}", case, NATIONAL_TARGET) for case in national)
    if ics is not None:
        base = national[-1]
        lines.append(row(f"(c) {ics.name}", ics, NATIONAL_TARGET))
        extra_wall, extra_rss = ics.wall - base.wall, ics.rss - base.rss
        lines.append(
            f"| (c) .ics export alone | (c) − (b) {base.name} | {ics.census.get('ics_events')} "
            f"events | | {extra_wall:+.2f} | {extra_rss / MIB:+.0f} | | "
            f"{_verdict(extra_wall, max(extra_rss, 0), ICS_TARGET)} |")
    lines += ["", "Scaling of (b):", ""]
    first = national[0]
    for case in national:
        size = int(case.name.rsplit("-", 1)[1])
        base_size = int(first.name.rsplit("-", 1)[1])
        lines.append(
            f"- {case.name}: {case.wall / first.wall:.2f}× the time of {first.name} for "
            f"{size / base_size:g}× the bodies; {case.wall / size * 1000:.2f} s per 1,000 bodies; "
            f"{case.census.get('meetings')} meetings, {case.census.get('errors')} errors, "
            f"{case.census.get('warnings')} warnings; JSON {case.census.get('json_bytes', 0) / MIB:.1f} MiB; "
            f"check: {checks.get(size, '?')}")
    if ics is not None:
        lines.append(
            f"- {ics.name}: {ics.census.get('ics_files')} .ics files, "
            f"{ics.census.get('ics_events')} events, {ics.census.get('ics_bytes', 0) / MIB:.1f} MiB")
    return "\n".join(lines) + "\n"


def profile(bodies: Path) -> str:
    """cProfile of the national plan in this process: the top functions by own and total time."""
    sys.path.insert(0, str(REPO))
    from scheduler.cli import main as cli_main  # the package under test

    previous = Path.cwd()
    os.chdir(REPO)
    profiler = cProfile.Profile()
    sink = io.StringIO()
    argv = ["--bodies", str(bodies), "plan", "--from", NATIONAL_WINDOW[0], "--to",
            NATIONAL_WINDOW[1], "--format", "json"]
    real_stdout = sys.stdout
    try:
        sys.stdout = sink
        profiler.runcall(cli_main, argv)
    finally:
        sys.stdout = real_stdout
        os.chdir(previous)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the yhdyspinta CLI.")
    parser.add_argument("--reps", type=int, default=3, help="timed runs per case (median shown)")
    parser.add_argument("--sizes", default="625,1250,2500", help="national catalogue sizes")
    parser.add_argument("--workdir", type=Path, help="where to write catalogues (default: a "
                        "temporary directory, removed afterwards unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the generated catalogues")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile the largest national plan")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stdout", default=os.devnull, help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        return measure(args.command, args.stdout)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or args.reps < 1:
        parser.error("give at least one size and one repetition")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="yhdyspinta-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        region = Case("real-region", plan_command(REPO / "bodies", REAL_WINDOW),
                      _shown(plan_command(REPO / "bodies", REAL_WINDOW), " > /dev/null"))
        print(f"(a) {region.name}", file=sys.stderr)
        run_case(region, args.reps, workdir)

        national: list[Case] = []
        checks: dict[int, str] = {}
        for size in sizes:
            directory = workdir / f"national-{size}"
            took, check = generate(directory, size)
            checks[size] = (f"exit {check.returncode} in {check.wall:.1f} s, "
                            f"{check.rss / MIB:.0f} MiB (generated in {took:.1f} s)")
            print(f"(b) national-{size}: check {checks[size]}", file=sys.stderr)
            command = plan_command(directory, NATIONAL_WINDOW)
            case = Case(f"national-{size}", command, _shown(command, " > /dev/null"))
            run_case(case, args.reps, workdir)
            national.append(case)

        largest = workdir / f"national-{sizes[-1]}"
        ics_dir = workdir / "ics-export"
        command = plan_command(largest, NATIONAL_WINDOW, ics_dir)
        ics = Case(f"national-{sizes[-1]}-ics", command, _shown(command, " > /dev/null"),
                   ics_dir=ics_dir)
        print(f"(c) {ics.name}", file=sys.stderr)
        run_case(ics, args.reps, workdir)

        print(report(region, national, ics, checks, args.reps))
        if args.profile:
            print("### cProfile of " + national[-1].shown + "\n\n```")
            print(profile(largest).rstrip())
            print("```")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            print(f"Catalogues kept in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
