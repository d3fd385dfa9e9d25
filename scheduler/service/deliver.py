"""Delivering what is due. Each waiting row is checked against the meeting as it is now and
against the due policy, claimed (marked ``sending``) and handed to a worker, which composes
the message and makes the network call; the outcome is recorded. Idempotent by
construction: a row is sent under its unique key once; a row whose answer was lost is
``uncertain`` and the next attempt looks before sending again (reliability.md section 0).

The workers (``[delivery] workers``) run in lanes: the rows of one meeting and recipient
(an event backend's calendar rows of a meeting form one lane) go one after another, so an
update follows its invitation and sees the remote id the creation stored. The store is
touched by the calling thread only, in one transaction per turn of the loop: the outcomes
of the calls that ended and the claims of the rows that take their places (issue 10: one
transaction per row twice over held the pipeline to a third of the mailer's rate). So the
rows marked ``sending`` are never more than the workers, and a crash can leave no more
than that many uncertain.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial

from sqlalchemy.exc import OperationalError

from scheduler.catalogue.contacts import is_valid_address
from scheduler.catalogue.model import Body
from scheduler.delivery.ports import (
    CalendarEvent,
    DeliveryError,
    DeliveryRejected,
    DeliveryUnavailable,
    EventKeeper,
    EventReceipt,
    Receipt,
)
from scheduler.outbox.records import EVERYONE, Delivered, OutboxRow, Outcome, State
from scheduler.planning.actions import action_chain, due_times
from scheduler.planning.due import Miss, Missed, decide
from scheduler.planning.records import Kind, MeetingRecord

from .bootstrap import Services

log = logging.getLogger("yhdyspinta.delivery")

MAX_ATTEMPTS = 5
COMMIT_RETRIES = (1.0, 2.0, 4.0, 8.0)  # seconds between tries to record outcomes (15 s in all)
# How long a row may stay claimed before a later run takes it for a crashed one's: longer
# than any single call with its retries and Retry-After waits (Graph gives up after 120 s).
SENDING_LEASE = timedelta(minutes=15)

Clock = Callable[[OutboxRow], datetime]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class MissedRow:
    row: OutboxRow
    reason: Missed


@dataclass
class DeliveryReport:
    """What one delivery run did, for the operator."""

    sent: int = 0
    skipped: int = 0
    missed: list[MissedRow] = field(default_factory=list)
    recovered: int = 0  # rows a crashed run left sending, now uncertain
    taken: int = 0  # rows another run claimed meanwhile
    lateness: list[float] = field(default_factory=list)  # seconds past due, per row sent
    # The rows refused, with the backend's words and whether for good (failed) or for now
    # (to retry): the service logs them without the recipient, the terminal names them.
    refusals: list[tuple[OutboxRow, str, bool]] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [describe(row, why) for row, why, final in self.refusals if final]

    @property
    def retry(self) -> list[str]:
        return [describe(row, why) for row, why, final in self.refusals if not final]

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.taken += other.taken
        self.missed += other.missed
        self.lateness += other.lateness
        self.refusals += other.refusals


_Outcome = Receipt | DeliveryRejected | DeliveryUnavailable


@dataclass(frozen=True)
class _Job:
    """One row checked (and, once the store says so, claimed), waiting for what a worker
    thread runs: composing its message and the network call. ``event`` is set for the
    calendar rows of event backends."""

    row: OutboxRow
    now: datetime
    record: MeetingRecord | None
    call: Callable[[], Receipt]
    event: CalendarEvent | None = None


_Waiting = tuple[_Job, int, deque[int]]  # a job to claim, its row's index, the rest of its lane


def deliver(services: Services, until: datetime, clock: Clock, *, now: datetime,
            only: str | None = None, progress: Progress | None = None,
            stop: threading.Event | None = None, pause: bool = False) -> DeliveryReport:
    """Send every waiting row due by ``until`` (of meeting ``only`` and the coordinator's
    alerts, if given). ``clock`` gives each row's moment (the run's time; a simulation's
    virtual one); ``now`` is the run's real time, against which crashed runs' claims are
    judged. Once ``stop`` is set no further row is started; the calls under way are
    finished and recorded (the service's drain on SIGTERM). With ``pause`` (the service),
    a row refused for now waits for its next try (``retry_pause``)."""
    return _Delivery(services, stop, pause, now).run(until, clock, now, only, progress)


def retry_pause(attempts: int) -> timedelta:
    """How long the service waits before trying a row again after ``attempts`` refusals
    for now: 1, 2, 4, 8 ... minutes, at most an hour (reliability.md F2: no busy loop)."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=1))


def _call(job: _Job) -> _Outcome:
    """The network call: a refusal is an outcome to record, anything else a bug to raise."""
    try:
        return job.call()
    except (DeliveryRejected, DeliveryUnavailable) as exc:
        return exc


def _lanes(rows: list[OutboxRow]) -> deque[deque[int]]:
    """Row indexes grouped by meeting (or alert) and recipient, each in the store's order."""
    lanes: dict[tuple[str, str], deque[int]] = {}
    for index, row in enumerate(rows):
        lanes.setdefault((row.meeting_uid or row.alert or "", row.recipient), deque()).append(index)
    return deque(lanes.values())


def _noted(error: BaseException, others: list[BaseException]) -> BaseException:
    for other in others:
        error.add_note(f"in the same run also: {type(other).__name__}: {other}")
    return error


def describe(row: OutboxRow, why: str) -> str:
    return f"{row.meeting_uid or row.alert} ({row.body}) {row.kind} to {row.recipient}: {why}"


def _send(send: Callable[..., Receipt], compose: Callable[[], EmailMessage], key: str,
          again: bool) -> Receipt:
    """What a worker runs for a mail row: the message composed there, then sent."""
    return send(compose(), key, again=again)


class _Delivery:
    def __init__(self, services: Services, stop: threading.Event | None, pause: bool,
                 now: datetime) -> None:
        self.pause, self.now = pause, now
        self.services = services
        self.store = services.store
        self.backend = services.backend
        self.workers = services.settings.delivery.workers
        self.by = services.identity
        self.stop = stop or threading.Event()
        self.alerts = self.store.alerts()
        self.records: dict[str, MeetingRecord] = {}
        self._chains: dict[tuple[str, datetime], dict[Kind, datetime]] = {}
        self._outcomes: list[Outcome] = []  # written with the next claims, or at the end
        self._delivered: list[Delivered] = []

    def run(self, until: datetime, clock: Clock, now: datetime, only: str | None,
            progress: Progress | None) -> DeliveryReport:
        recovered = self.store.recover(now, SENDING_LEASE)
        rows = [r for r in self.store.pending(until, pause=self.pause)
                if only is None or r.meeting_uid == only or r.kind is Kind.ALERT]
        self.records = self.store.meetings(r.meeting_uid for r in rows if r.meeting_uid)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(rows))

        parts = [DeliveryReport() for _ in rows]
        try:
            self._in_lanes(rows, clock, tick, parts, now)
        finally:
            try:
                self._commit([], now)
            finally:
                self.backend.close()  # connections are not held between runs
        report = DeliveryReport()
        for part in parts:  # one report per row: the store's order, whatever order calls end
            report.add(part)
        report.recovered = recovered
        return report

    def _in_lanes(self, rows: list[OutboxRow], clock: Clock, tick: Callable[[], None],
                  parts: list[DeliveryReport], now: datetime) -> None:
        """Each lane's rows in turn, up to ``workers`` lanes at once."""
        ready = _lanes(rows)
        running: dict[Future[_Outcome], tuple[_Job, int, deque[int]]] = {}
        broken: list[BaseException] = []
        with ThreadPoolExecutor(self.workers, thread_name_prefix="yhdyspinta-deliver") as pool:
            try:
                while ready or running:
                    waiting: list[_Waiting] = []
                    while (ready and len(running) + len(waiting) < self.workers and not broken
                           and not self.stop.is_set()):
                        lane = ready.popleft()
                        index = lane.popleft()
                        job = self._prepare(rows[index], clock(rows[index]), parts[index])
                        if job is None:  # settled here (skipped, missed, refused): lane goes on
                            tick()
                            if lane:
                                ready.appendleft(lane)
                            continue
                        waiting.append((job, index, lane))
                    claimed = self._commit([job.row for job, _, _ in waiting], now)
                    taken = []
                    for (job, index, lane), row in zip(waiting, claimed, strict=True):
                        if row is None:  # another run has it
                            parts[index].taken += 1
                            taken.append(lane)
                            continue
                        claimed_job = replace(job, row=row)
                        running[pool.submit(_call, claimed_job)] = (claimed_job, index, lane)
                    for lane in taken:  # after every claimed row is under way
                        tick()
                        if lane:
                            ready.append(lane)
                    if not running:
                        if broken or self.stop.is_set() or not ready:
                            break
                        continue
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        job, index, lane = running.pop(future)
                        self._collect(future, job, parts[index], broken)
                        tick()
                        if lane:
                            ready.append(lane)
            except BaseException as exc:
                # Calls already under way may have delivered: record them before giving up,
                # or the next run would send them a second time.
                self._drain(running, parts, broken)
                _noted(exc, broken)
                raise
        if broken:
            raise _noted(broken[0], broken[1:])

    def _commit(self, claims: list[OutboxRow], now: datetime) -> list[OutboxRow | None]:
        """The outcomes gathered so far and ``claims``, in one transaction."""
        outcomes, delivered = self._outcomes, self._delivered
        if not (outcomes or delivered or claims):
            return []
        for pause in (*COMMIT_RETRIES, None):
            try:
                claimed = self.store.commit(outcomes, delivered, claims, now, self.by)
                break
            except OperationalError as exc:
                # The database restarting or locked by another process: the calls that
                # ended did go, and forgetting that would send them again. Held here and
                # written once it answers; the last failure is raised, the rows then left
                # sending for the next run to take up as uncertain.
                if pause is None:
                    raise
                # The driver's own words only: the statement's parameters hold addresses.
                words = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
                log.warning("the database did not record %d outcomes (%s); trying again in "
                            "%.0f s", len(outcomes), words, pause)
                time.sleep(pause)
        self._outcomes, self._delivered = [], []
        return claimed

    def _collect(self, future: Future[_Outcome], job: _Job, report: DeliveryReport,
                 broken: list[BaseException]) -> None:
        """Record one finished call. Anything but a refusal is a bug: as in a one-at-a-time
        run, the row is released to wait as it did (the process is still in charge, unlike
        after a crash), no new row starts, and the error is raised once the calls under way
        have been recorded."""
        try:
            outcome = future.result()
        except BaseException as exc:  # noqa: BLE001 - raised again once the others are recorded
            self.store.release(job.row)
            exc.add_note(f"while delivering {describe(job.row, 'left pending')}")
            broken.append(exc)
            return
        self._settle(job, outcome, report)

    def _drain(self, running: dict[Future[_Outcome], tuple[_Job, int, deque[int]]],
               parts: list[DeliveryReport], broken: list[BaseException]) -> None:
        wait(running)
        for future, (job, index, _) in running.items():
            self._collect(future, job, parts[index], broken)
        running.clear()

    # -- one row ------------------------------------------------------------------------------

    def _prepare(self, row: OutboxRow, now: datetime, report: DeliveryReport) -> _Job | None:
        """The checks and the due policy, on the store's thread: the work still to do for
        the row (composing and sending, in a worker), or ``None`` when it was settled here."""
        if row.kind is Kind.ALERT:
            return self._prepare_alert(row, now, report)
        record = self.records.get(row.meeting_uid or "")
        overtaken = _overtaken(record, row)
        if record is None or overtaken:
            self._skip(row, overtaken or "unknown-meeting", report)
            return None
        body = self.services.catalogue.bodies.get(record.body)
        if body is None:
            self._skip(row, "unknown-body", report)
            return None
        chain = self._chain(record, body)
        verdict = decide(row.kind, row.due, now, record.start, chain, self.services.calendar,
                         self.services.tz)
        if isinstance(verdict, Miss):
            self._outcomes.append(Outcome(row, State.MISSED, reason=verdict.reason,
                                          attempted=False))
            report.missed.append(MissedRow(row, verdict.reason))
            return None
        if record.channel and record.channel != self.backend.name and row.kind.is_calendar:
            why = (f"this meeting went out through {record.channel!r}; its updates must too "
                   f"(one channel per meeting), but the backend is now {self.backend.name!r}")
            self._refused(row, DeliveryRejected(why), report)
            return None
        if row.recipient == EVERYONE:
            return self._prepare_event(row, record, now, report)
        if not is_valid_address(row.recipient):
            self._refused(row, DeliveryRejected("invalid address"), report)
            return None
        compose = partial(self.services.composer.message, row, record, now, verdict.reply_by)
        # A row whose earlier attempt may have gone: the backend looks before sending.
        again = row.state is State.UNCERTAIN
        return _Job(row, now, record, partial(_send, self.backend.sender.send, compose, row.key,
                                              again))

    def _chain(self, record: MeetingRecord, body: Body) -> dict[Kind, datetime]:
        """The meeting's action chain, worked out once per run and start time (a meeting
        has a row per recipient)."""
        key = (record.uid, record.start)
        if key not in self._chains:
            self._chains[key] = due_times(action_chain(record.start, body.lead_times,
                                                       self.services.calendar, self.services.tz))
        return self._chains[key]

    def _prepare_alert(self, row: OutboxRow, now: datetime, report: DeliveryReport
                       ) -> _Job | None:
        alert = self.alerts.get(row.alert or "")
        if alert is None or alert.resolved_at is not None:
            self._skip(row, "resolved", report)  # the plan no longer has the problem
            return None
        if not is_valid_address(row.recipient):
            self._refused(row, DeliveryRejected("invalid address"), report)
            return None
        compose = partial(self.services.composer.alert, row, alert, now)
        again = row.state is State.UNCERTAIN
        return _Job(row, now, None, partial(_send, self.backend.sender.send, compose, row.key,
                                            again))

    def _prepare_event(self, row: OutboxRow, record: MeetingRecord, now: datetime,
                       report: DeliveryReport) -> _Job | None:
        """A calendar row of an event backend: create, update or cancel the meeting itself."""
        events = self.backend.events
        organizer = self.services.audience.organizer(self.services.catalogue.bodies[record.body])
        if events is None:
            why = f"the backend {self.backend.name!r} keeps no events; this row needs one"
        elif organizer is None or not is_valid_address(organizer.email):
            why = "no valid convener mailbox to create the meeting in"
        else:
            event = self.services.composer.event(record, self.services.catalogue.bodies[record.body],
                                                 organizer)
            return _Job(row, now, record, _event_call(events, row, record, event), event)
        self._refused(row, DeliveryRejected(why), report)
        return None

    def _settle(self, job: _Job, outcome: _Outcome, report: DeliveryReport) -> None:
        """Record what the call did; for calendar rows, who now holds the invitation and on
        which channel (and, for event backends, the event's remote id)."""
        row, record = job.row, job.record
        if isinstance(outcome, Exception):
            self._refused(row, outcome, report)
            return
        self._outcomes.append(Outcome(row, State.SENT, remote_id=outcome.remote_id, at=job.now))
        report.sent += 1
        report.lateness.append(max((job.now - row.due).total_seconds(), 0.0))
        if record is None:
            return
        fresh = self.records.get(record.uid, record)  # other lanes may have changed it since
        channel = fresh.channel or self.backend.name
        if job.event is not None:
            ical_uid = outcome.ical_uid if isinstance(outcome, EventReceipt) else ""
            invited = tuple(sorted(p.email for p in job.event.attendees))
            change = Delivered(record.uid, channel, invited_all=invited,
                               remote_id=outcome.remote_id, remote_ical_uid=ical_uid or None)
            self.records[record.uid] = replace(
                fresh, channel=channel, remote_id=fresh.remote_id or outcome.remote_id,
                remote_ical_uid=fresh.remote_ical_uid or ical_uid or None, invited=invited)
        elif row.kind in (Kind.INVITE, Kind.UPDATE):
            change = Delivered(record.uid, channel, invited_add=(row.recipient,))
            self.records[record.uid] = replace(
                fresh, invited=tuple(sorted({*fresh.invited, row.recipient})), channel=channel)
        else:
            return
        self._delivered.append(change)

    def _refused(self, row: OutboxRow, exc: DeliveryError, report: DeliveryReport) -> None:
        """A final refusal fails the row; a transient one leaves it for the next run (as
        uncertain when it may have gone), until MAX_ATTEMPTS."""
        retry_at = None
        if isinstance(exc, DeliveryUnavailable) and row.attempts + 1 < MAX_ATTEMPTS:
            state = State.UNCERTAIN if exc.uncertain else State.PENDING
            retry_at = self.now + retry_pause(row.attempts + 1)
        else:
            state = State.FAILED
        report.refusals.append((row, str(exc), state is State.FAILED))
        self._outcomes.append(Outcome(row, state, error=str(exc), retry_at=retry_at))

    def _skip(self, row: OutboxRow, reason: str, report: DeliveryReport) -> None:
        self._outcomes.append(Outcome(row, State.SKIPPED, reason=reason, attempted=False))
        report.skipped += 1


def _event_call(events: EventKeeper, row: OutboxRow, record: MeetingRecord,
                event: CalendarEvent) -> Callable[[], Receipt]:
    if row.kind is Kind.INVITE:
        return partial(events.create_event, event, row.key)
    remote_id = record.remote_id or ""
    if row.kind is Kind.CANCEL:
        return partial(events.cancel_event, remote_id, event, record.reason or "", row.key)
    return partial(events.update_event, remote_id, event, row.key)


def _overtaken(record: MeetingRecord | None, row: OutboxRow) -> str | None:
    """Why ``row`` is no longer to be sent, or ``None`` when it still is."""
    if record is None or row.kind is Kind.CANCEL:
        return None
    if record.cancelled:
        return "cancelled"
    if row.kind is Kind.INVITE:
        # Never delivered (a retry was pending when the meeting moved): the invitation still
        # goes, composed from the current time and SEQUENCE, or nobody tells them. Whoever
        # holds the meeting already has had the update instead.
        holds = bool(record.remote_id) if row.recipient == EVERYONE else row.recipient in record.invited
        return "already-invited" if holds else None
    if row.kind.is_calendar and row.sequence < record.sequence:
        return "changed"
    return None
