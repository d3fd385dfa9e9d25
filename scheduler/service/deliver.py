"""Delivering what is due. Each waiting row is checked against the meeting as it is now and
against the due policy, composed, claimed (marked ``sending`` in a transaction of its own)
and handed to the backend; the outcome is recorded. Idempotent by construction: a row is
sent under its unique key once; a row whose answer was lost is ``uncertain`` and the next
attempt looks before sending again (reliability.md section 0).

The network calls may run in several threads (``[delivery] workers``), in lanes: the rows
of one meeting and recipient (an event backend's calendar rows of a meeting form one lane)
go one after another, so an update follows its invitation and sees the remote id the
creation stored. The store is touched by the calling thread only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

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
from scheduler.outbox.records import EVERYONE, OutboxRow, State
from scheduler.planning.actions import action_chain, due_times
from scheduler.planning.due import Miss, Missed, decide
from scheduler.planning.records import Kind, MeetingRecord

from .bootstrap import Services

MAX_ATTEMPTS = 5
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
    failed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    skipped: int = 0
    missed: list[MissedRow] = field(default_factory=list)
    recovered: int = 0  # rows a crashed run left sending, now uncertain
    taken: int = 0  # rows another run claimed meanwhile

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.taken += other.taken
        self.failed += other.failed
        self.retry += other.retry
        self.missed += other.missed


_Outcome = Receipt | DeliveryRejected | DeliveryUnavailable


@dataclass(frozen=True)
class _Job:
    """One row checked, composed and claimed, waiting for its network call (the only part
    a worker thread runs); ``event`` is set for the calendar rows of event backends."""

    row: OutboxRow
    now: datetime
    record: MeetingRecord | None
    call: Callable[[], Receipt]
    event: CalendarEvent | None = None


def deliver(services: Services, until: datetime, clock: Clock, *, now: datetime,
            only: str | None = None, progress: Progress | None = None) -> DeliveryReport:
    """Send every waiting row due by ``until`` (of meeting ``only`` and the coordinator's
    alerts, if given). ``clock``
    gives each row's moment (the run's time; a simulation's virtual one); ``now`` is the
    run's real time, against which crashed runs' claims are judged."""
    return _Delivery(services).run(until, clock, now, only, progress)


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


class _Delivery:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store
        self.backend = services.backend
        self.workers = services.settings.delivery.workers
        self.alerts = self.store.alerts()
        self._chains: dict[tuple[str, datetime], dict[Kind, datetime]] = {}

    def run(self, until: datetime, clock: Clock, now: datetime, only: str | None,
            progress: Progress | None) -> DeliveryReport:
        recovered = self.store.recover(now, SENDING_LEASE)
        rows = [r for r in self.store.pending(until)
                if only is None or r.meeting_uid == only or r.kind is Kind.ALERT]
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(rows))

        try:
            if self.workers == 1:
                report = self._in_turn(rows, clock, tick)
            else:
                report = DeliveryReport()
                for part in self._in_lanes(rows, clock, tick):
                    report.add(part)
        finally:
            self.backend.close()  # connections are not held between runs
        report.recovered = recovered
        return report

    def _in_turn(self, rows: list[OutboxRow], clock: Clock, tick: Callable[[], None]
                 ) -> DeliveryReport:
        """One row after another on this thread: ``workers = 1``."""
        report = DeliveryReport()
        for row in rows:
            job = self._prepare(row, clock(row), report)
            if job is not None:
                try:
                    outcome = _call(job)
                except BaseException:
                    self.store.release(job.row)
                    raise
                self._settle(job, outcome, report)
            tick()
        return report

    def _in_lanes(self, rows: list[OutboxRow], clock: Clock, tick: Callable[[], None]
                  ) -> list[DeliveryReport]:
        """Each lane's rows in turn, up to ``workers`` lanes at once; one report per row, so
        the merged report keeps the store's order whatever order the calls finish in."""
        parts = [DeliveryReport() for _ in rows]
        ready = _lanes(rows)
        running: dict[Future[_Outcome], tuple[_Job, int, deque[int]]] = {}
        broken: list[BaseException] = []
        with ThreadPoolExecutor(self.workers, thread_name_prefix="yhdyspinta-deliver") as pool:
            try:
                while ready or running:
                    while ready and len(running) < self.workers and not broken:
                        lane = ready.popleft()
                        index = lane.popleft()
                        job = self._prepare(rows[index], clock(rows[index]), parts[index])
                        if job is None:  # settled here (skipped, missed, refused): lane goes on
                            tick()
                            if lane:
                                ready.appendleft(lane)
                            continue
                        running[pool.submit(_call, job)] = (job, index, lane)
                    if not running:
                        break
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
        return parts

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
        """The checks, the due policy, the composing and the claim, on the store's thread:
        the network call still to make, or ``None`` when the row was settled here."""
        if row.kind is Kind.ALERT:
            return self._prepare_alert(row, now, report)
        record = self.store.meeting(row.meeting_uid or "")
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
            self.store.mark(row, State.MISSED, reason=verdict.reason, attempted=False)
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
        try:
            message = self.services.composer.message(row, record, now, verdict.reply_by)
        except (DeliveryRejected, DeliveryUnavailable) as exc:
            self._refused(row, exc, report)
            return None
        # A row whose earlier attempt may have gone: the backend looks before sending.
        again = row.state is State.UNCERTAIN
        return self._claimed(row, now, record, report,
                             partial(self.backend.sender.send, message, row.key, again=again))

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
        message = self.services.composer.alert(row, alert, now)
        again = row.state is State.UNCERTAIN
        return self._claimed(row, now, None, report,
                             partial(self.backend.sender.send, message, row.key, again=again))

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
            return self._claimed(row, now, record, report, _event_call(events, row, record, event),
                                 event)
        self._refused(row, DeliveryRejected(why), report)
        return None

    def _claimed(self, row: OutboxRow, now: datetime, record: MeetingRecord | None,
                 report: DeliveryReport, call: Callable[[], Receipt],
                 event: CalendarEvent | None = None) -> _Job | None:
        """The row marked ``sending`` before its call; ``None`` if another run has it."""
        claimed = self.store.claim(row, now)
        if claimed is None:
            report.taken += 1
            return None
        return _Job(claimed, now, record, call, event)

    def _settle(self, job: _Job, outcome: _Outcome, report: DeliveryReport) -> None:
        """Record what the call did; for calendar rows, who now holds the invitation and on
        which channel (and, for event backends, the event's remote id)."""
        row, record = job.row, job.record
        if isinstance(outcome, Exception):
            self._refused(row, outcome, report)
            return
        self.store.mark(row, State.SENT, remote_id=outcome.remote_id, at=job.now)
        report.sent += 1
        if record is None:
            return
        fresh = self.store.meeting(record.uid) or record  # other lanes may have saved it since
        channel = fresh.channel or self.backend.name
        if job.event is not None:
            ical_uid = outcome.ical_uid if isinstance(outcome, EventReceipt) else ""
            self.store.save_meeting(replace(
                fresh, channel=channel, remote_id=fresh.remote_id or outcome.remote_id,
                remote_ical_uid=fresh.remote_ical_uid or ical_uid or None,
                invited=tuple(sorted(p.email for p in job.event.attendees)),
            ))
        elif row.kind in (Kind.INVITE, Kind.UPDATE):
            self.store.save_meeting(replace(
                fresh, invited=tuple(sorted({*fresh.invited, row.recipient})), channel=channel))

    def _refused(self, row: OutboxRow, exc: DeliveryError, report: DeliveryReport) -> None:
        """A final refusal fails the row; a transient one leaves it for the next run (as
        uncertain when it may have gone), until MAX_ATTEMPTS."""
        if isinstance(exc, DeliveryUnavailable) and row.attempts + 1 < MAX_ATTEMPTS:
            state = State.UNCERTAIN if exc.uncertain else State.PENDING
            report.retry.append(describe(row, str(exc)))
        else:
            state = State.FAILED
            report.failed.append(describe(row, str(exc)))
        self.store.mark(row, state, error=str(exc))

    def _skip(self, row: OutboxRow, reason: str, report: DeliveryReport) -> None:
        self.store.mark(row, State.SKIPPED, reason=reason, attempted=False)
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
