"""``dispatch`` and ``simulate``: the whole sequence, written once. The plan is stored, what
has fallen due is enqueued, the coordinator's alerts raised, everything due delivered, the
attendees' answers read back and the feeds rewritten. ``simulate`` runs the same sequence on
a virtual clock into a Maildir of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from scheduler.errors import UserError
from scheduler.planning.records import MeetingRecord

from .answers import read_answers
from .bootstrap import Services
from .deliver import Clock, DeliveryReport, Progress, deliver
from .enqueue import enqueue_actions, raise_alerts
from .feeds import write_feeds
from .freebusy import CalendarsRead
from .schedule import PlanResult, attendee_changes, refresh


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
    _ = services.backend  # its settings checked before anything is written
    result = _cycle(services, refresh(services, now), now, until or now, clock=lambda row: now)
    answers = read_answers(services, now)
    feeds = write_feeds(services, Path(services.settings.delivery.feeds),
                        services.settings.planning.language, now)
    return RunResult(result.delivery, services.store.counts(), result.calendars, feeds, answers)


def simulate(services: Services, first: date, last: date, outbox: Path, now: datetime,
             progress: Progress | None = None) -> RunResult:
    """The whole pipeline for ``first``..``last`` into the Maildir ``outbox``, each message
    dated when it falls due, for the schedule as stored (the same dates as ``plan`` and
    ``dispatch``); what the simulation sends is kept beside it (``<outbox>.db``), apart
    from the real outbox."""
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    schedule = refresh(services, now, read_calendars=False)
    simulation = services.simulation(outbox)
    since = datetime.combine(first, time(0), tzinfo=services.tz)
    until = datetime.combine(last, time(23, 59), tzinfo=services.tz)
    try:
        _seed(simulation, services.store.all_meetings())
        result = _cycle(simulation, schedule, since, until, clock=lambda row: row.due,
                        since=since, now=now, progress=progress)
        feeds = write_feeds(simulation, outbox.with_name(outbox.name + "-feeds"),
                            services.settings.planning.language, now)
        counts = simulation.store.counts()
    finally:
        simulation.close()
    return RunResult(result.delivery, counts, None, feeds)


def _seed(simulation: Services, schedule: list[MeetingRecord]) -> None:
    """The simulation's store holds the schedule's meetings as nobody has been told of them
    yet; meetings it has simulated already keep what it told."""
    have = {r.uid for r in simulation.store.all_meetings()}
    simulation.store.save_meetings(
        MeetingRecord(r.uid, r.body, r.group, r.start, r.end, r.status, slot=r.slot,
                      reasons=r.reasons, sources=r.sources, reason=r.reason)
        for r in schedule if r.uid not in have)


@dataclass(frozen=True)
class _Cycle:
    delivery: DeliveryReport
    calendars: CalendarsRead | None


def _cycle(services: Services, schedule: PlanResult, start: datetime, until: datetime,
           clock: Clock, *, since: datetime | None = None, now: datetime | None = None,
           progress: Progress | None = None) -> _Cycle:
    """Stored schedule -> outbox -> delivery: the sequence every run shares."""
    attendee_changes(services, start)
    enqueue_actions(services, until, since)
    raise_alerts(services, schedule.plan, start)
    report = deliver(services, until, clock, now=now or start, progress=progress)
    return _Cycle(report, schedule.calendars)
