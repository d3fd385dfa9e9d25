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
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from scheduler import __version__, delivery
from scheduler.catalogue.blackouts import Blackouts, load_blackouts
from scheduler.catalogue.contacts import load_contacts
from scheduler.catalogue.load import load_catalogue
from scheduler.catalogue.model import Catalogue
from scheduler.errors import UserError
from scheduler.messaging.mail import Templates, check_templates
from scheduler.messaging.render import (
    Renderer,
    bodies_table,
    body_json,
    plan_csv,
    plan_json,
    plan_table,
    write_ics,
)
from scheduler.outbox.store import MeetingRecord, Store
from scheduler.pipeline import Pipeline, Report
from scheduler.planning.planner import Plan, PlanProblem, Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from scheduler.settings import Settings, load_settings

DEFAULT_CONFIG = Path("config/yhdyspinta.toml")
STALE_AFTER = timedelta(days=14)  # a first dispatch sends nothing older than this
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

    def _calendars_busy(self, first: date, last: date, pipeline: Pipeline
                        ) -> dict[str, list[tuple[datetime, datetime]]] | None:
        """The conveners' busy intervals from their own calendars, by organisation (issue 4)."""
        ask = getattr(pipeline.mailer, "free_busy", None)
        if ask is None:
            return None  # a backend without calendars (maildir, smtp): plan as before
        tz = self.settings.planning.tz
        mailboxes = {org: box.email for org, box in pipeline.contacts.mailboxes.items()
                     if any(org in b.convener_ids for b in self.catalogue.bodies.values())}
        try:
            found = ask(sorted(set(mailboxes.values())), datetime.combine(first, time(0), tzinfo=tz),
                        datetime.combine(last, time(23, 59), tzinfo=tz))
        except (delivery.DeliveryRejected, delivery.DeliveryUnavailable) as exc:
            # Planning goes on without them; what was communicated keeps its date anyway.
            print(f"yhdyspinta: the conveners' calendars could not be read ({exc}); "
                  "planning without them", file=sys.stderr)
            return None
        unread = sorted(org for org, email in mailboxes.items() if email not in found)
        if unread:  # a backend leaves out a mailbox it may not read: say so, don't call it free
            print(f"yhdyspinta: the calendars of {', '.join(unread)} could not be read; "
                  "their meetings are planned without them", file=sys.stderr)
        return {org: found[email] for org, email in mailboxes.items() if email in found}

    def pipeline(self, database_url: str, maildir: Path) -> Pipeline:
        settings = self.settings
        contacts = load_contacts(Path(settings.messages.contacts), self.catalogue)
        backend = settings.delivery.backend
        section = {"smtp": settings.smtp.model_dump(), "ews": settings.ews.model_dump(),
                   "graph": settings.graph.model_dump()}.get(backend)
        mailer = delivery.load(backend, maildir=maildir, options=section)
        return Pipeline(self.catalogue, contacts, Templates(Path(settings.messages.templates)),
                        self.work_calendar(), settings.planning.tz, Store(database_url, settings.planning.tz), mailer,
                        settings.planning.uid_domain, settings.planning.timezone,
                        workers=settings.delivery.workers)

    def plan(self, first: date, last: date, pipeline: Pipeline | None = None) -> Plan:
        planning = self.settings.planning
        busy = self._calendars_busy(first, last, pipeline) if pipeline and planning.freebusy else None
        plan = plan_meetings(self.catalogue, self.work_calendar(), Window(first, last),
                             planning.tz, planning.uid_domain, busy)
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

    commands.add_parser("check", help="validate config, bodies and calendars; report gaps")
    bodies = commands.add_parser("bodies", help="list the catalogue")
    bodies.add_argument("--format", choices=("table", "json"), default="table")
    plan = commands.add_parser("plan", help="plan meetings")
    plan.add_argument("--from", dest="first", type=_date, help="first day (default: today)")
    plan.add_argument("--to", dest="last", type=_date, help="last day (default: end of the term)")
    plan.add_argument("--format", choices=("table", "json", "csv"), default="table")
    plan.add_argument("--ics", type=Path, metavar="DIR", help="also write <body-id>.ics files into DIR")
    dispatch = commands.add_parser("dispatch", help="send everything due up to then, once")
    dispatch.add_argument("--until", type=_moment, help="send what is due by then (default: now)")
    simulate = commands.add_parser("simulate", help="the whole pipeline on a virtual clock")
    simulate.add_argument("--from", dest="first", type=_date, required=True)
    simulate.add_argument("--to", dest="last", type=_date, required=True)
    simulate.add_argument("--outbox", type=Path, default=Path("var/simulation"),
                          help="Maildir to fill (its state is kept beside it in DIR.db)")
    move = commands.add_parser("move", help="move a meeting; participants get an update")
    move.add_argument("uid")
    move.add_argument("when", type=_moment, metavar="DATETIME")
    cancel = commands.add_parser("cancel", help="cancel a meeting; participants get a cancellation")
    cancel.add_argument("uid")
    cancel.add_argument("--reason")
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
    template_problems = check_templates(Templates(Path(ctx.settings.messages.templates)))
    for line in template_problems:
        print(f"[error] template {line}")
    contacts = Path(ctx.settings.messages.contacts)
    if contacts.is_file():
        load_contacts(contacts, ctx.catalogue)  # raises with every problem of the file
    errors = template_problems or any(p.severity == "error" for p in plan.problems)
    return 2 if errors else 0


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
    pipeline = _calendar_pipeline(ctx)
    try:
        plan = ctx.plan(first, last, pipeline)
    finally:
        if pipeline is not None:
            pipeline.mailer.close()
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


def _calendar_pipeline(ctx: Context) -> Pipeline | None:
    """For ``plan`` with ``[planning] freebusy``: the event backend, so the conveners' own
    calendars are read as ``dispatch`` reads them; an in-memory store, as planning records
    nothing."""
    settings = ctx.settings
    if not settings.planning.freebusy or settings.delivery.backend not in ("graph", "ews"):
        return None
    return ctx.pipeline("sqlite://", Path(settings.delivery.maildir))


def _term_end(ctx: Context, day: date) -> date:
    terms = ctx.catalogue.region.terms
    current = [t for t in terms if t.start <= day <= t.end] or [t for t in terms if t.start > day]
    if not current:
        raise UserError(f"no council term in region.yaml covers {day}; give --to")
    return current[0].end


def run_dispatch(ctx: Context, args: argparse.Namespace) -> int:
    until = args.until or ctx.now
    pipeline = ctx.pipeline(ctx.settings.database.url, Path(ctx.settings.delivery.maildir))
    plan = ctx.plan(date(ctx.today.year, 1, 1), _term_end(ctx, ctx.today), pipeline)
    pipeline.sync(plan, ctx.now)
    pipeline.enqueue(until, since=ctx.now - STALE_AFTER, now=ctx.now)
    pipeline.enqueue_alerts(plan, ctx.now)
    report = pipeline.deliver(until, clock=lambda row: ctx.now)
    pipeline.read_responses(ctx.now)
    _write_feeds(ctx, pipeline, Path(ctx.settings.delivery.feeds))
    return _report(report, pipeline.store.counts())


def run_simulate(ctx: Context, args: argparse.Namespace) -> int:
    if args.last < args.first:
        raise UserError(f"--to {args.last} is before --from {args.first}")
    tz = ctx.settings.planning.tz
    state = args.outbox.with_name(args.outbox.name + ".db")
    pipeline = ctx.pipeline(f"sqlite:///{state}", args.outbox)
    # Meetings a little past --to still get their early actions (the invitation goes out
    # three weeks before), so the plan looks ahead by the longest default lead time.
    plan = ctx.plan(date(args.first.year, 1, 1), args.last + timedelta(weeks=8))
    since = datetime.combine(args.first, time(0), tzinfo=tz)
    until = datetime.combine(args.last, time(23, 59), tzinfo=tz)
    pipeline.sync(plan, since)
    pipeline.enqueue(until, since=since)
    pipeline.enqueue_alerts(plan, since)
    report = pipeline.deliver(until, clock=lambda row: row.due, progress=_progress_bar())
    _write_feeds(ctx, pipeline, args.outbox.with_name(args.outbox.name + "-feeds"))
    print(f"{args.outbox}: ", end="")
    return _report(report, pipeline.store.counts())


def run_move(ctx: Context, args: argparse.Namespace) -> int:
    return _change(ctx, lambda pipeline: pipeline.move(args.uid, args.when, ctx.now))


def run_cancel(ctx: Context, args: argparse.Namespace) -> int:
    return _change(ctx, lambda pipeline: pipeline.cancel(args.uid, args.reason, ctx.now))


def _change(ctx: Context, change: Callable[[Pipeline], MeetingRecord]) -> int:
    """Apply a change to one meeting and send what it causes, for that meeting only."""
    pipeline = _live_pipeline(ctx)
    record = change(pipeline)
    report = pipeline.deliver(ctx.now, clock=lambda row: ctx.now, only=record.uid)
    _write_feeds(ctx, pipeline, Path(ctx.settings.delivery.feeds))
    state = "cancelled" if record.status == "cancelled" else record.start.isoformat()
    print(f"{record.uid}: {state} (SEQUENCE {record.sequence})")
    return _report(report, pipeline.store.counts())


def _write_feeds(ctx: Context, pipeline: Pipeline, directory: Path) -> None:
    pipeline.write_feeds(directory, ctx.language, ctx.now)


def _live_pipeline(ctx: Context) -> Pipeline:
    """The real store, with the plan synced in so that a never-dispatched meeting is known."""
    pipeline = ctx.pipeline(ctx.settings.database.url, Path(ctx.settings.delivery.maildir))
    pipeline.sync(ctx.plan(date(ctx.today.year, 1, 1), _term_end(ctx, ctx.today)), ctx.now)
    return pipeline


def _report(report: Report, counts: dict[str, int]) -> int:
    print(f"sent {report.sent}, failed {len(report.failed)}, to retry {len(report.retry)}, "
          f"skipped {report.skipped}; outbox: "
          + ", ".join(f"{state} {n}" for state, n in sorted(counts.items())))
    for line in report.failed:
        print(f"failed: {line}", file=sys.stderr)
    for line in report.retry:
        print(f"will retry: {line}", file=sys.stderr)
    return 1 if report.failed or report.retry else 0


def _progress_bar() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


COMMANDS: dict[str, Callable[[Context, argparse.Namespace], int]] = {
    "check": run_check,
    "bodies": run_bodies,
    "plan": run_plan,
    "dispatch": run_dispatch,
    "simulate": run_simulate,
    "move": run_move,
    "cancel": run_cancel,
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
