"""``dispatch`` and ``simulate``: the whole sequence, written once. The plan is stored, what
has fallen due is enqueued, the coordinator's alerts raised, everything due delivered, the
attendees' answers read back and the feeds rewritten. ``simulate`` runs the same sequence on
a virtual clock into a Maildir of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from scheduler.errors import UserError

from .answers import read_answers
from .bootstrap import Services
from .deliver import Clock, DeliveryReport, Progress, deliver
from .enqueue import enqueue_actions, raise_alerts
from .feeds import write_feeds
from .freebusy import CalendarsRead
from .schedule import plan, sync, term_end

# A simulation looks past its last day by the longest default lead time, so meetings just
# after it still get their early actions (the invitation goes three weeks before).
LOOK_AHEAD = timedelta(weeks=8)


@dataclass(frozen=True)
class RunResult:
    """What a run did: its deliveries, the outbox after it, and what it learned."""

    delivery: DeliveryReport
    counts: dict[str, int]
    calendars: CalendarsRead | None = None
    feeds: list[Path] = field(default_factory=list)
    answers: int = 0  # meeting records whose attendees' answers were read back


def dispatch(services: Services, now: datetime, until: datetime | None = None) -> RunResult:
    """Send everything due by ``until`` (default: now), once."""
    today = now.astimezone(services.tz).date()
    result = _cycle(services, date(today.year, 1, 1), term_end(services.catalogue, today),
                    now, until or now, clock=lambda row: now)
    answers = read_answers(services, now)
    feeds = write_feeds(services, Path(services.settings.delivery.feeds),
                        services.settings.planning.language, now)
    return RunResult(result.delivery, services.store.counts(), result.calendars, feeds, answers)


def simulate(services: Services, first: date, last: date, outbox: Path, now: datetime,
             progress: Progress | None = None) -> RunResult:
    """The whole pipeline for ``first``..``last`` into the Maildir ``outbox``, each message
    dated when it falls due; its state is kept beside it (``<outbox>.db``)."""
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    simulation = services.simulation(outbox)
    since = datetime.combine(first, time(0), tzinfo=services.tz)
    until = datetime.combine(last, time(23, 59), tzinfo=services.tz)
    try:
        result = _cycle(simulation, date(first.year, 1, 1), last + LOOK_AHEAD, since, until,
                        clock=lambda row: row.due, since=since, now=now, progress=progress,
                        read_calendars=False)
        feeds = write_feeds(simulation, outbox.with_name(outbox.name + "-feeds"),
                            services.settings.planning.language, now)
        counts = simulation.store.counts()
    finally:
        simulation.close()
    return RunResult(result.delivery, counts, None, feeds)


@dataclass(frozen=True)
class _Cycle:
    delivery: DeliveryReport
    calendars: CalendarsRead | None


def _cycle(services: Services, first: date, last: date, start: datetime, until: datetime,
           clock: Clock, *, since: datetime | None = None, now: datetime | None = None,
           progress: Progress | None = None, read_calendars: bool = True) -> _Cycle:
    """Plan -> store -> outbox -> delivery: the sequence every run shares."""
    _ = services.backend  # its settings checked before anything is written
    planned = plan(services, first, last, read_calendars=read_calendars)
    sync(services, planned.plan, start)
    enqueue_actions(services, until, since)
    raise_alerts(services, planned.plan, start)
    report = deliver(services, until, clock, now=now or start, progress=progress)
    return _Cycle(report, planned.calendars)
