"""The ``yhdyspinta`` command line: ``check``, ``bodies``, ``plan``.

The only place that reads the clock, the files and the environment for the core, and the one
place that turns exceptions into words: exit 2 for input the operator can fix (never a
traceback), exit 1 for a failure of ours.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NoReturn

from . import __version__
from .calendars import Blackouts, load_blackouts
from .catalogue import load_catalogue
from .errors import UserError
from .export import Renderer, bodies_table, body_json, plan_csv, plan_json, plan_table, write_ics
from .model import Catalogue
from .planner import Plan, PlanProblem, Window, plan_meetings
from .settings import Settings, load_settings
from .workdays import WorkCalendar

DEFAULT_CONFIG = Path("config/yhdyspinta.toml")
MAX_WINDOW_DAYS = 20 * 365  # five council terms; more is a typo, and costs minutes


@dataclass(frozen=True)
class Context:
    """What every command works on, loaded and checked once."""

    settings: Settings
    catalogue: Catalogue
    blackouts: Blackouts
    language: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(self.settings.planning.tz).date()

    def work_calendar(self) -> WorkCalendar:
        months = frozenset(self.settings.planning.blackout_months)
        return WorkCalendar(self.blackouts.days, months)

    def plan(self, first: date, last: date) -> Plan:
        planning = self.settings.planning
        plan = plan_meetings(self.catalogue, self.work_calendar(), Window(first, last),
                             planning.tz, planning.uid_domain)
        notes = tuple(
            PlanProblem("-", "warning", "example-calendar", {"file": f}) for f in self.blackouts.examples
        )
        if self.blackouts.missing:
            notes += (PlanProblem("-", "warning", "no-calendars", {"file": self.blackouts.missing}),)
        return Plan(plan.meetings, notes + plan.problems)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yhdyspinta",
        description="Cooperation bodies of municipalities and wellbeing services counties: "
                    "catalogue, cadence rules and meeting plans.",
    )
    parser.add_argument("--version", action="version", version=f"yhdyspinta {__version__}")
    parser.add_argument("--config", type=Path, help="TOML configuration (default config/yhdyspinta.toml "
                        "or $YHDYSPINTA_CONFIG)")
    parser.add_argument("--bodies", type=Path, default=Path("bodies"), help="catalogue directory")
    parser.add_argument("--lang", choices=("fi", "sv", "en"), help="language of reasons and problems")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("check", help="validate config, bodies and calendars; report gaps")
    bodies = commands.add_parser("bodies", help="list the catalogue")
    bodies.add_argument("--format", choices=("table", "json"), default="table")
    plan = commands.add_parser("plan", help="plan meetings")
    plan.add_argument("--from", dest="first", type=_date, help="first day (default: today)")
    plan.add_argument("--to", dest="last", type=_date, help="last day (default: end of the term)")
    plan.add_argument("--format", choices=("table", "json", "csv"), default="table")
    plan.add_argument("--ics", type=Path, metavar="DIR", help="also write <body-id>.ics files into DIR")
    return parser


def load_context(args: argparse.Namespace, now: datetime) -> Context:
    config = args.config or (Path(os.environ["YHDYSPINTA_CONFIG"]) if os.environ.get("YHDYSPINTA_CONFIG")
                             else DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    settings = load_settings(config)
    catalogue = load_catalogue(args.bodies)
    blackouts = load_blackouts(Path(settings.planning.calendars))
    return Context(settings, catalogue, blackouts, args.lang or settings.planning.language, now)


def run_check(ctx: Context, args: argparse.Namespace) -> int:
    first = ctx.today
    plan = ctx.plan(first, _term_end(ctx, first))
    renderer = Renderer(ctx.catalogue, ctx.language)
    catalogue = ctx.catalogue
    print(f"OK: {len(catalogue.bodies)} bodies, {len(catalogue.organisations)} organisations, "
          f"{len(catalogue.groupings)} groupings, {len(ctx.blackouts.days)} blackout days.")
    for problem in plan.problems:
        print(f"[{problem.severity}] {problem.body}: {renderer.problem(problem)}")
    return 2 if any(p.severity == "error" for p in plan.problems) else 0


def run_bodies(ctx: Context, args: argparse.Namespace) -> int:
    if args.format == "json":
        data = [body_json(body, ctx.catalogue) for body in ctx.catalogue.bodies.values()]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(bodies_table(ctx.catalogue, ctx.language))
    return 0


def run_plan(ctx: Context, args: argparse.Namespace) -> int:
    first = args.first or ctx.today
    last = args.last or _term_end(ctx, first)
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    if (last - first).days > MAX_WINDOW_DAYS:
        raise UserError(f"--from {first} --to {last} spans more than {MAX_WINDOW_DAYS // 365} years")
    plan = ctx.plan(first, last)
    renderer = Renderer(ctx.catalogue, ctx.language)
    if args.format == "json":
        print(json.dumps(plan_json(plan, renderer), ensure_ascii=False, indent=1))
    elif args.format == "csv":
        sys.stdout.write(plan_csv(plan, renderer))
    else:
        sys.stdout.write(plan_table(plan, renderer))
    if args.ics:
        write_ics(plan, renderer, args.ics, ctx.settings.planning.timezone, ctx.now)
    errors = [p for p in plan.problems if p.severity == "error"]
    for problem in errors:
        print(f"error: {problem.body}: {renderer.problem(problem)}", file=sys.stderr)
    return 2 if errors else 0


def _term_end(ctx: Context, day: date) -> date:
    terms = ctx.catalogue.region.terms
    current = [t for t in terms if t.start <= day <= t.end] or [t for t in terms if t.start > day]
    if not current:
        raise UserError(f"no council term in region.yaml covers {day}; give --to")
    return current[0].end


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], int]] = {
    "check": run_check,
    "bodies": run_bodies,
    "plan": run_plan,
}


def main(argv: Sequence[str] | None = None, now: datetime | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        ctx = load_context(args, now or datetime.now(UTC))
        return COMMANDS[args.command](ctx, args)
    except UserError as exc:
        print(f"yhdyspinta: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `yhdyspinta plan | head`
        sys.stderr.close()
        return 0
    except Exception as exc:
        if args.debug:
            raise
        _internal_error(exc)


def _internal_error(exc: Exception) -> NoReturn:
    print(f"yhdyspinta: internal error: {type(exc).__name__}: {exc}\n"
          "Please report it; run again with --debug to see the traceback.", file=sys.stderr)
    raise SystemExit(1)


if __name__ == "__main__":
    sys.exit(main())
