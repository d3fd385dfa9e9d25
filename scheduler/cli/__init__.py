"""The ``yhdyspinta`` command line: arguments in, one use case called, its result printed.

The only place that reads the clock and the environment for the use cases, and the one
place that turns exceptions into words: exit 2 for input the operator can fix (never a
traceback), exit 1 for a failure of ours or a run that could not send everything.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from scheduler import __version__
from scheduler.errors import UserError
from scheduler.messaging.render import Renderer
from scheduler.service import changes, database, dispatch, feeds, privacy, schedule
from scheduler.service.bootstrap import Services, load_services
from scheduler.service.check import check
from scheduler.service.imports import import_held
from scheduler.settings import config_path

from .render import bodies_table, body_json, plan_csv, plan_json, plan_table
from .summary import (
    print_calendars,
    print_change,
    print_forgotten,
    print_import,
    print_run,
    progress_bar,
    refusal,
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _moment(text: str) -> datetime:
    """An ISO date-time; without an offset it is local time in Europe/Helsinki."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date and time such as 2027-02-17T13:00, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Europe/Helsinki"))


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

    commands.add_parser("check", help="validate config, bodies, calendars and the backend's "
                        "settings; report gaps")
    bodies = commands.add_parser("bodies", help="list the catalogue")
    bodies.add_argument("--format", choices=("table", "json"), default="table")
    plan = commands.add_parser("plan", help="plan meetings")
    plan.add_argument("--from", dest="first", type=_date, help="first day (default: today)")
    plan.add_argument("--to", dest="last", type=_date, help="last day (default: end of the term)")
    plan.add_argument("--format", choices=("table", "json", "csv"), default="table")
    plan.add_argument("--ics", type=Path, metavar="DIR", help="also write <body-id>.ics files into DIR")
    run = commands.add_parser("dispatch", help="send everything due up to then, once")
    run.add_argument("--until", type=_moment, help="send what is due by then (default: now)")
    simulate = commands.add_parser("simulate", help="the whole pipeline on a virtual clock")
    simulate.add_argument("--from", dest="first", type=_date, required=True)
    simulate.add_argument("--to", dest="last", type=_date, required=True)
    simulate.add_argument("--outbox", type=Path, default=Path("var/simulation"),
                          help="Maildir to fill (its state is kept beside it in DIR.db)")
    move = commands.add_parser("move", help="move a meeting; participants get an update")
    move.add_argument("uid")
    move.add_argument("when", type=_moment, metavar="DATETIME")
    move.add_argument("--force", action="store_true",
                      help="take a time the rules refuse (a weekend, a holiday, ...); needs --reason")
    move.add_argument("--reason", help="why the rules are set aside (kept with the meeting)")
    cancel = commands.add_parser("cancel", help="cancel a meeting; participants get a cancellation")
    cancel.add_argument("uid")
    cancel.add_argument("--reason")
    held = commands.add_parser("held", help="record a past meeting as held, or the past "
                               "meetings of an exported calendar (--import FILE.ics)")
    one = held.add_mutually_exclusive_group(required=True)
    one.add_argument("uid", nargs="?", metavar="UID", help="the meeting (see `plan --format json`)")
    one.add_argument("--import", dest="import_file", type=Path, metavar="FILE.ics",
                     help="record the meetings of the schedule that the calendar's past events "
                          "match (by UID, or by body and date); list the others")
    held.add_argument("--on", type=_date, metavar="DATE", help="the day it was held, if not as planned")
    held.add_argument("--present", nargs="+", default=[], metavar="ORG",
                      help="the organisations represented (ids of bodies/organisations.yaml)")
    held.add_argument("--minutes", metavar="URL", help="where the minutes are")
    report = commands.add_parser("report", help="compliance against the targets, gaps, "
                                 "representation and the measures (issue 11)")
    period = report.add_mutually_exclusive_group()
    period.add_argument("--year", type=_year, metavar="YYYY", help="the calendar year "
                        "(default: this year), with the council term's per-term targets")
    period.add_argument("--term", action="store_true",
                        help="the council term running now: each year of it and the term")
    report.add_argument("--format", choices=("table", "json", "csv", "html", "xlsx"),
                        default="table", help="csv: UTF-8 with BOM and ';' for Finnish Excel; "
                        "html: a standalone page to print; xlsx needs --output")
    report.add_argument("--output", type=Path, metavar="FILE", help="write there, not to stdout")
    measure = commands.add_parser("measure", help="the measures of the interface plan")
    measure_commands = measure.add_subparsers(dest="measure_command", required=True,
                                              metavar="MEASURE_COMMAND")
    measure_set = measure_commands.add_parser("set", help="record an indicator by hand")
    measure_set.add_argument("measure", metavar="ID", help="the measure (bodies/measures.yaml)")
    measure_set.add_argument("indicator", metavar="INDICATOR", help="the measure's indicator")
    measure_set.add_argument("state", choices=("done", "not-done"))
    measure_set.add_argument("--on", type=_date, metavar="DATE", help="the day (default: today)")
    measure_set.add_argument("--evidence", metavar="URL", help="a link to the evidence (https)")
    forget = commands.add_parser("forget", help="erase one person's personal data everywhere; "
                                 "prints what was removed")
    forget.add_argument("email", metavar="EMAIL", help="the person's address")
    serve = commands.add_parser("serve", help="the service: sends every message when it falls "
                                "due; /healthz, /readyz and /metrics over HTTP")
    serve.add_argument("--host", help="address to listen on (default [service] host)")
    serve.add_argument("--port", type=int, help="port to listen on (default [service] port)")
    db = commands.add_parser("db", help="the database")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply the database migrations (every command that "
                           "uses the database also does)")
    return parser


class Command:
    """One run of the command line: the installation, the parsed arguments, the clock."""

    def __init__(self, services: Services, args: argparse.Namespace, now: datetime) -> None:
        self.services, self.args, self.now = services, args, now
        self.language: str = args.lang or services.settings.planning.language

    @property
    def today(self) -> date:
        return self.now.astimezone(self.services.tz).date()

    @property
    def renderer(self) -> Renderer:
        return Renderer(self.services.catalogue, self.language)


def run_check(cmd: Command) -> int:
    result = check(cmd.services, cmd.now, str(config_path(cmd.args.config) or "configuration"))
    print(f"OK: {result.bodies} bodies, {result.organisations} organisations, "
          f"{result.groupings} groupings, {result.blackout_days} blackout days.")
    for problem in result.problems:
        print(f"[{problem.severity}] {problem.body}: {cmd.renderer.problem(problem)}")
    for line in result.templates:
        print(f"[error] template {line}")
    for setting in result.settings:
        print(f"[error] {setting}")
    return 0 if result.ok else 2


def run_bodies(cmd: Command) -> int:
    catalogue = cmd.services.catalogue
    if cmd.args.format == "json":
        data = [body_json(body, catalogue) for body in catalogue.bodies.values()]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(bodies_table(catalogue, cmd.language))
    return 0


def run_plan(cmd: Command) -> int:
    first = cmd.args.first or cmd.today
    last = cmd.args.last or schedule.term_end(cmd.services.catalogue, first)
    if cmd.args.ics and cmd.args.ics.exists() and not cmd.args.ics.is_dir():
        raise UserError(f"--ics {cmd.args.ics}: a file is there; give a folder for the .ics files")
    result = schedule.plan(cmd.services, first, last, cmd.now)
    print_calendars(result.calendars)
    renderer = cmd.renderer
    if cmd.args.format == "json":
        print(json.dumps(plan_json(result.plan, renderer), ensure_ascii=False, indent=1))
    elif cmd.args.format == "csv":
        sys.stdout.write(plan_csv(result.plan, renderer))
    else:
        sys.stdout.write(plan_table(result.plan, renderer))
    if cmd.args.ics:
        feeds.write_ics(result.plan, renderer, cmd.args.ics, cmd.services.tzid, cmd.now)
    errors = [p for p in result.plan.problems if p.severity == "error"]
    for problem in errors:
        print(f"error: {problem.body}: {renderer.problem(problem)}", file=sys.stderr)
    return 2 if errors else 0


def run_dispatch(cmd: Command) -> int:
    result = dispatch.dispatch(cmd.services, cmd.now, cmd.args.until)
    print_calendars(result.calendars)
    return print_run(result)


def run_simulate(cmd: Command) -> int:
    outbox: Path = cmd.args.outbox
    result = dispatch.simulate(cmd.services, cmd.args.first, cmd.args.last, outbox, cmd.now,
                               progress=progress_bar())
    print(f"{outbox}: ", end="")
    return print_run(result)


def run_move(cmd: Command) -> int:
    try:
        result = changes.move_now(cmd.services, cmd.args.uid, cmd.args.when, cmd.now,
                                  force=cmd.args.force, why=cmd.args.reason)
    except changes.MoveRefused as refused:
        raise UserError(refusal(refused, cmd.renderer)) from None
    return print_change(result)


def run_cancel(cmd: Command) -> int:
    return print_change(changes.cancel_now(cmd.services, cmd.args.uid, cmd.args.reason, cmd.now))


def run_held(cmd: Command) -> int:
    args = cmd.args
    if args.import_file is not None:
        given = [flag for flag, value in (("--on", args.on), ("--present", args.present),
                                          ("--minutes", args.minutes)) if value]
        if given:
            raise UserError(f"held --import: {' and '.join(given)} "
                            f"{'is' if len(given) == 1 else 'are'} for one meeting: record it "
                            "with `held UID` after the import")
        return print_import(import_held(cmd.services, args.import_file, cmd.now))
    return print_change(changes.held_now(cmd.services, args.uid, cmd.now, on=args.on,
                                         present=args.present, minutes_url=args.minutes))


def _year(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise argparse.ArgumentTypeError(f"expected a year such as 2026, got {text!r}")
    return int(text)


def run_report(cmd: Command) -> int:
    from scheduler.service.report import report

    from .report import render_report

    output: Path | None = cmd.args.output
    if cmd.args.format == "xlsx" and output is None:
        raise UserError("--format xlsx writes a workbook: give --output FILE.xlsx")
    if output is not None and not output.parent.is_dir():
        raise UserError(f"--output {output}: no folder {output.parent}")
    found = report(cmd.services, cmd.now, year=cmd.args.year, term=cmd.args.term)
    rendered = render_report(found, cmd.renderer, cmd.args.format)
    if output is None:
        assert isinstance(rendered, str)  # only xlsx is bytes, and it needs --output
        sys.stdout.write(rendered)
        return 0
    if isinstance(rendered, bytes):
        output.write_bytes(rendered)
    else:
        output.write_text(rendered, encoding="utf-8", newline="")
    print(f"{output}: {cmd.args.format} report written")
    return 0


def run_measure(cmd: Command) -> int:
    from scheduler.service.report import set_measure

    args = cmd.args
    done = set_measure(cmd.services, args.measure, args.indicator, args.state, cmd.now,
                       on=args.on, evidence=args.evidence)
    evidence = f", evidence {done.evidence}" if done.evidence else ""
    print(f"{done.measure} {done.indicator}: {done.state} on {done.on.isoformat()}{evidence}")
    return 0


def run_forget(cmd: Command) -> int:
    done = privacy.forget(cmd.services, cmd.args.email, cmd.now)
    print_forgotten(done)
    return 1 if done.database.sending else 0


def run_db(cmd: Command) -> int:
    done = database.upgrade(cmd.services)
    if done.changed:
        print(f"database upgraded from {done.before or 'no version'} to {done.after}")
    else:
        print(f"database is up to date ({done.after})")
    return 0


def run_serve(cmd: Command) -> int:
    from scheduler.daemon import serve  # the service's parts are loaded for it only

    return serve(cmd.services, bodies=cmd.args.bodies, config=config_path(cmd.args.config),
                 host=cmd.args.host, port=cmd.args.port)


COMMANDS: dict[str, Callable[[Command], int]] = {
    "check": run_check,
    "bodies": run_bodies,
    "plan": run_plan,
    "dispatch": run_dispatch,
    "simulate": run_simulate,
    "move": run_move,
    "cancel": run_cancel,
    "held": run_held,
    "report": run_report,
    "measure": run_measure,
    "forget": run_forget,
    "db": run_db,
    "serve": run_serve,
}


def main(argv: Sequence[str] | None = None, now: datetime | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    services: Services | None = None
    try:
        services = load_services(args.config, args.bodies)
        return COMMANDS[args.command](Command(services, args, now or datetime.now(UTC)))
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
    finally:
        if services is not None:
            services.close()


def _internal_error(exc: Exception) -> NoReturn:
    print(f"yhdyspinta: internal error: {type(exc).__name__}: {exc}\n"
          "Please report it; run again with --debug to see the traceback.", file=sys.stderr)
    raise SystemExit(1)
