"""Plan -> stored meetings -> outbox rows -> delivered messages: the one pipeline that
``dispatch``, ``simulate``, ``move`` and ``cancel`` share (and the service will).

Idempotent by construction: every message has a unique outbox key (meeting, action,
recipient and, for calendar messages, SEQUENCE), so running any step twice sends nothing
twice. Once a meeting has been communicated, the store decides its time, not the plan;
only ``move`` changes it, raising SEQUENCE and sending updates (RFC 5546 3.2.2).

Delivery may run its network calls in several threads (``[delivery] workers``); the store
stays on the calling thread, which checks, composes and records every row.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .catalogue.contacts import Contacts, is_valid_address
from .catalogue.model import Catalogue
from .delivery import DeliveryRejected, DeliveryUnavailable, Mailer, Receipt
from .delivery.events import CalendarEvent, Person
from .errors import UserError
from .messaging.audience import Audience
from .messaging.compose import CALENDAR_KINDS, Composer
from .messaging.mail import Templates
from .messaging.render import Renderer, write_ics
from .outbox.store import MeetingRecord, OutboxRow, Store
from .planning.actions import action_chain
from .planning.planner import Meeting, Plan, PlanProblem
from .planning.workdays import WorkCalendar

log = logging.getLogger(__name__)

EVERYONE = "*"  # the recipient of an event backend's calendar row: the whole attendee list
MAX_ATTEMPTS = 5
MAX_WORKERS = 64


@dataclass
class Report:
    """What one run did, for the operator."""

    enqueued: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    skipped: int = 0


_Outcome = Receipt | DeliveryRejected | DeliveryUnavailable


@dataclass(frozen=True)
class _Job:
    """One row checked and composed, waiting for its network call (the only part a worker
    thread runs); ``event`` is set for the calendar rows of event backends."""

    row: OutboxRow
    now: datetime
    record: MeetingRecord | None
    call: Callable[[], Receipt]
    event: CalendarEvent | None = None


def _call(job: _Job) -> _Outcome:
    """The network call: a refusal is an outcome to record, anything else a bug to raise."""
    try:
        return job.call()
    except (DeliveryRejected, DeliveryUnavailable) as exc:
        return exc


def _lanes(rows: list[OutboxRow]) -> deque[deque[int]]:
    """Row indexes grouped by meeting and recipient, each group in the store's order: a
    recipient's invite -> update -> cancel, or a meeting's EVERYONE rows, in one lane."""
    lanes: dict[tuple[str, str], deque[int]] = {}
    for index, row in enumerate(rows):
        lanes.setdefault((row.meeting_uid, row.recipient), deque()).append(index)
    return deque(lanes.values())


def _noted(error: BaseException, others: list[BaseException]) -> BaseException:
    for other in others:
        error.add_note(f"in the same run also: {type(other).__name__}: {other}")
    return error


def _merged(parts: list[Report]) -> Report:
    report = Report()
    for part in parts:
        report.sent += part.sent
        report.skipped += part.skipped
        report.failed += part.failed
        report.retry += part.retry
    return report


@dataclass
class Pipeline:
    catalogue: Catalogue
    contacts: Contacts
    templates: Templates
    calendar: WorkCalendar
    tz: ZoneInfo
    store: Store
    mailer: Mailer
    uid_domain: str
    tzid: str = "Europe/Helsinki"
    workers: int = 1  # threads making delivery calls; 1 sends one row after another

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"workers must be 1 to {MAX_WORKERS}, got {self.workers}")
        self.audience = Audience(self.catalogue, self.contacts)
        self.composer = Composer(self.catalogue, self.contacts, self.templates, self.calendar,
                                 self.tz, self.tzid, self.uid_domain, self.audience)

    @property
    def event_mode(self) -> bool:
        """Graph and EWS create the meeting in the convener's mailbox: one calendar row per
        meeting and SEQUENCE ("*"), and the server invites the attendees."""
        return hasattr(self.mailer, "create_event")

    def _calendar_targets(self, record: MeetingRecord) -> list[str]:
        """Who a change must reach: each invited address, or the event itself ("*")."""
        if self.event_mode:
            return [EVERYONE] if record.remote_id else []
        return list(record.invited)

    # -- meetings -------------------------------------------------------------------------

    def sync(self, plan: Plan, now: datetime) -> int:
        """Store the plan's meetings; return how many update rows attendee changes caused."""
        changes = 0
        for meeting in plan.meetings:
            if meeting.status not in ("planned", "fixed") or not meeting.conveners:
                continue
            record = self.store.meeting(meeting.uid)
            if record is None:
                record = MeetingRecord(meeting.uid, meeting.body, meeting.group, meeting.start,
                                       meeting.end, meeting.status)
            elif not record.moved and not record.invited and record.status != "cancelled":
                record = replace(record, start=meeting.start, end=meeting.end)  # not yet told anyone
            self.store.save_meeting(record)
            changes += self._attendee_changes(record, now)
        return changes

    def _attendee_changes(self, record: MeetingRecord, now: datetime) -> int:
        """Removed attendees get a CANCEL of their own, the rest an update (RFC 5546 3.2.5)."""
        if not record.invited or record.status == "cancelled":
            return 0
        current = {r.email for r in self.audience.attendees(record)}
        removed = [email for email in record.invited if email not in current]
        added = [email for email in current if email not in record.invited]
        if not removed and not (self.event_mode and added):
            return 0
        record = replace(record, sequence=record.sequence + 1,
                         invited=tuple(e for e in record.invited if e in current))
        self.store.save_meeting(record)
        if self.event_mode:  # the server cancels for the removed and invites the added
            rows = [self._row(record, "update", EVERYONE, now)]
        else:
            rows = [self._row(record, "cancel", email, now) for email in removed]
            rows += [self._row(record, "update", email, now) for email in record.invited]
        return sum(self.store.enqueue(row) for row in rows)

    def move(self, uid: str, start: datetime, now: datetime) -> MeetingRecord:
        record = self._existing(uid)
        if record.status == "cancelled":
            raise UserError(f"meeting {uid} is cancelled; it cannot be moved")
        if start == record.start:
            return record  # already there: nothing changes, nothing is sent again
        duration = record.end - record.start
        start = start.astimezone(self.tz)
        record = replace(record, start=start, end=start + duration, moved=True,
                         sequence=record.sequence + (1 if record.invited else 0),
                         previous=record.start)
        self.store.save_meeting(record)
        for target in self._calendar_targets(record):
            self.store.enqueue(self._row(record, "update", target, now))
        return record

    def cancel(self, uid: str, reason: str | None, now: datetime) -> MeetingRecord:
        record = self._existing(uid)
        if record.status == "cancelled":
            return record
        record = replace(record, status="cancelled", reason=reason,
                         sequence=record.sequence + (1 if record.invited else 0))
        self.store.save_meeting(record)
        for target in self._calendar_targets(record):
            self.store.enqueue(self._row(record, "cancel", target, now))
        return record

    def _existing(self, uid: str) -> MeetingRecord:
        record = self.store.meeting(uid)
        if record is None:
            raise UserError(f"no meeting with UID {uid!r}; see `yhdyspinta plan --format json`")
        return record

    def read_responses(self, now: datetime) -> int:
        """Read the attendees' answers back from event backends, so the records show who
        accepted (issue 4). Only upcoming meetings this backend created; a failure to read
        is not a failure to deliver, so it is logged and skipped until the next run. Graph
        reads them 20 to a ``$batch`` (``responses_many``), EWS one at a time."""
        if not hasattr(self.mailer, "responses"):
            return 0
        due: list[tuple[MeetingRecord, str, Person]] = []
        for record in self.store.all_meetings():
            if record.channel != self.mailer.name or not record.remote_id or record.start < now \
                    or record.status == "cancelled":
                continue
            organizer = self.audience.organizer(self.catalogue.bodies[record.body])
            if organizer is not None:
                due.append((record, record.remote_id, Person(organizer.email, organizer.name)))
        got = self._answers([(remote_id, who) for _, remote_id, who in due])
        updated = 0
        for record, remote_id, _ in due:
            answers = got.get(remote_id)
            if not isinstance(answers, dict):
                log.info("answers to %s not read this time: %s", record.uid, answers)
                continue
            self.store.save_meeting(replace(record, responses=tuple(sorted(answers.items()))))
            updated += 1
        return updated

    def _answers(self, items: list[tuple[str, Person]]) -> dict[str, dict[str, str] | Exception]:
        mailer: Any = self.mailer
        if hasattr(mailer, "responses_many"):
            return mailer.responses_many(items)  # type: ignore[no-any-return]
        got: dict[str, dict[str, str] | Exception] = {}
        for remote_id, organizer in items:
            try:
                got[remote_id] = mailer.responses(remote_id, organizer)
            except (DeliveryRejected, DeliveryUnavailable) as exc:
                got[remote_id] = exc
        return got

    def write_feeds(self, directory: Path, language: str, stamp: datetime) -> list[Path]:
        """A subscribable ``<body-id>.ics`` per body (no METHOD) from what was communicated:
        moved meetings at their new time, cancelled ones as STATUS:CANCELLED."""
        renderer = Renderer(self.catalogue, language)
        records = [r for r in self.store.all_meetings() if r.body in self.catalogue.bodies]
        meetings = tuple(
            Meeting(uid=r.uid, body=r.body, slot="", start=r.start, end=r.end,
                    conveners=self.catalogue.bodies[r.body].convener_ids,
                    organisations=self.catalogue.participants(self.catalogue.bodies[r.body], r.group),
                    group=r.group, status="cancelled" if r.status == "cancelled" else "fixed",
                    sequence=r.sequence)
            for r in records
        )
        return write_ics(Plan(meetings, ()), renderer, directory, self.tzid, stamp)

    # -- who ----------------------------------------------------------------------------------

    # -- the outbox ---------------------------------------------------------------------------

    def _row(self, record: MeetingRecord, kind: str, email: str, due: datetime) -> OutboxRow:
        key = f"{record.uid}|{kind}|{email}"
        if kind in CALENDAR_KINDS:
            key += f"|{record.sequence}"
        return OutboxRow(key, record.uid, kind, email, record.sequence, due)

    def enqueue(self, until: datetime, since: datetime, now: datetime | None = None) -> int:
        """Outbox rows for the actions due between ``since`` and ``until``.

        Nothing before ``since`` (a first run does not flood anyone with stale reminders),
        and nothing that would arrive after its meeting began except the minutes follow-up;
        ``now`` is the real clock, or ``None`` on the virtual clock of ``simulate``.
        """
        added = 0
        for record in self.store.all_meetings():
            body = self.catalogue.bodies.get(record.body)
            if record.status == "cancelled" or body is None:
                continue
            for action in action_chain(record.start, body.lead_times, self.calendar, self.tz):
                if action.due > until:
                    break
                moment = now or action.due
                if action.due < since or (action.kind != "minutes" and record.start <= moment):
                    continue
                if action.kind == "invite" and self.event_mode:
                    added += self.store.enqueue(self._row(record, "invite", EVERYONE, action.due))
                    continue
                for recipient in self.audience.of_action(record, action):
                    added += self.store.enqueue(self._row(record, action.kind, recipient.email, action.due))
        return added

    def enqueue_alerts(self, plan: Plan, due: datetime) -> int:
        """One alert per problem to the coordinator: a body that cannot meet its target, or
        one whose meetings are planned but that has no convener to send the invitations."""
        planned = {m.body for m in plan.meetings if m.status == "planned"}
        added = 0
        for problem in plan.problems:
            silent = problem.key == "no-convener" and problem.body in planned
            if problem.severity != "error" and not silent:
                continue
            digest = hashlib.sha256(repr(sorted(problem.params.items())).encode()).hexdigest()[:12]
            subject = f"alert:{problem.body}:{problem.key}:{digest}"
            coordinator = self.contacts.coordinator.email
            row = OutboxRow(f"{subject}|alert|{coordinator}", subject, "alert", coordinator, 0, due)
            self._alerts[subject] = problem
            added += self.store.enqueue(row)
        return added

    def deliver(self, until: datetime, clock: Callable[[OutboxRow], datetime],
                progress: Callable[[int, int], None] | None = None, only: str | None = None) -> Report:
        """Send every pending row due by ``until`` (of meeting ``only``, if given); failures
        are recorded with their reason, transient ones retried on the next run.

        With ``workers`` > 1 the network calls run in that many threads, in lanes: the rows
        of one meeting and recipient (a meeting's EVERYONE rows form one lane) go one after
        another, in the store's order, so an update follows its invitation and sees the
        remote id the creation stored. The store is touched by this thread only.
        """
        rows = [r for r in self.store.pending(until) if only is None or r.meeting_uid == only]
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(rows))

        try:
            if self.workers == 1:
                return self._deliver_in_turn(rows, clock, tick)
            return _merged(self._deliver_in_lanes(rows, clock, tick))
        finally:
            self.mailer.close()

    def _deliver_in_turn(self, rows: list[OutboxRow], clock: Callable[[OutboxRow], datetime],
                         tick: Callable[[], None]) -> Report:
        """One row after another on this thread: ``workers = 1``."""
        report = Report()
        for row in rows:
            job = self._prepare(row, clock(row), report)
            if job is not None:
                self._settle(job, _call(job), report)
            tick()
        return report

    def _deliver_in_lanes(self, rows: list[OutboxRow], clock: Callable[[OutboxRow], datetime],
                          tick: Callable[[], None]) -> list[Report]:
        """Each lane's rows in turn, up to ``workers`` lanes at once; one report per row, so
        the merged report keeps the store's order whatever order the calls finish in."""
        parts = [Report() for _ in rows]
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
                        if job is None:  # settled here (skipped, refused): the lane goes on
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

    def _collect(self, future: Future[_Outcome], job: _Job, report: Report,
                 broken: list[BaseException]) -> None:
        """Record one finished call. Anything but a refusal is a bug: like a one-at-a-time
        run, the row stays pending (whether it went is unknown), no new row starts, and the
        error is raised once the calls under way have been recorded."""
        try:
            outcome = future.result()
        except BaseException as exc:  # noqa: BLE001 - raised again once the others are recorded
            exc.add_note(f"while delivering {self._describe(job.row, 'left pending')}")
            broken.append(exc)
            return
        self._settle(job, outcome, report)

    def _drain(self, running: dict[Future[_Outcome], tuple[_Job, int, deque[int]]],
               parts: list[Report], broken: list[BaseException]) -> None:
        wait(running)
        for future, (job, index, _) in running.items():
            self._collect(future, job, parts[index], broken)
        running.clear()

    def _prepare(self, row: OutboxRow, now: datetime, report: Report) -> _Job | None:
        """The checks and the composing, on the store's thread: the network call still to
        make, or ``None`` when the row was settled here (skipped, or failed before sending)."""
        record = self.store.meeting(row.meeting_uid)
        gone = row.kind == "alert" and row.meeting_uid not in self._alerts  # problem since solved
        if gone or row.kind != "alert" and (record is None or self._stale(record, row)):
            self.store.mark(row, "skipped", error="the meeting was cancelled or changed")
            report.skipped += 1
            return None
        if record is not None and record.channel and record.channel != self.mailer.name \
                and row.kind in CALENDAR_KINDS:
            why = (f"this meeting went out through {record.channel!r}; its updates must too "
                   f"(one channel per meeting), but the backend is now {self.mailer.name!r}")
            self._refused(row, DeliveryRejected(why), report)
            return None
        if row.recipient == EVERYONE and record is not None:
            return self._prepare_event(row, record, now, report)
        if not is_valid_address(row.recipient):
            self._refused(row, DeliveryRejected("invalid address"), report)
            return None
        try:
            message = self.composer.message(row, record, now, self._alerts.get(row.meeting_uid))
        except (DeliveryRejected, DeliveryUnavailable) as exc:
            self._refused(row, exc, report)
            return None
        # A retried row may have gone the first time (an answer lost): the backend looks.
        return _Job(row, now, record,
                    partial(self.mailer.send, message, row.key, again=row.attempts > 0))

    def _prepare_event(self, row: OutboxRow, record: MeetingRecord, now: datetime,
                       report: Report) -> _Job | None:
        """A calendar row of an event backend: create, update or cancel the meeting itself."""
        mailer: Any = self.mailer
        body = self.catalogue.bodies[record.body]
        organizer = self.audience.organizer(body)
        if organizer is None or not is_valid_address(organizer.email):
            why = "no valid convener mailbox to create the meeting in"
            self._refused(row, DeliveryRejected(why), report)
            return None
        event = self.composer.event(record, body, organizer)
        if row.kind == "invite" and not record.remote_id:
            call = partial(mailer.create_event, event, row.key)
        elif row.kind == "cancel":
            call = partial(mailer.cancel_event, record.remote_id, event, record.reason or "", row.key)
        else:
            call = partial(mailer.update_event, record.remote_id, event, row.key)
        return _Job(row, now, record, call, event)

    def _settle(self, job: _Job, outcome: _Outcome, report: Report) -> None:
        """Record what the call did; for calendar rows, who now holds the invitation and on
        which channel (and, for event backends, the event's remote id)."""
        row, record = job.row, job.record
        if isinstance(outcome, Exception):
            self._refused(row, outcome, report)
            return
        self.store.mark(row, "sent", remote_id=outcome.remote_id, at=job.now)
        report.sent += 1
        if record is None:
            return
        fresh = self.store.meeting(record.uid) or record  # other lanes may have saved it since
        if job.event is not None:
            self.store.save_meeting(replace(
                fresh, channel=fresh.channel or self.mailer.name,
                remote_id=fresh.remote_id or outcome.remote_id,
                remote_ical_uid=fresh.remote_ical_uid or getattr(outcome, "ical_uid", None) or None,
                invited=tuple(sorted(p.email for p in job.event.attendees)),
            ))
        elif row.kind in ("invite", "update"):
            self.store.save_meeting(replace(fresh, invited=tuple(sorted({*fresh.invited, row.recipient})),
                                            channel=fresh.channel or self.mailer.name))

    def _refused(self, row: OutboxRow, exc: DeliveryRejected | DeliveryUnavailable,
                 report: Report) -> None:
        """A final refusal fails the row; a transient one leaves it pending for the next run,
        until MAX_ATTEMPTS."""
        final = isinstance(exc, DeliveryRejected) or row.attempts + 1 >= MAX_ATTEMPTS
        self.store.mark(row, "failed" if final else "pending", error=str(exc))
        (report.failed if final else report.retry).append(self._describe(row, str(exc)))

    @staticmethod
    def _stale(record: MeetingRecord, row: OutboxRow) -> bool:
        if row.kind == "cancel":
            return False
        if record.status == "cancelled":
            return True
        if row.kind == "invite" and not Pipeline._has_it(record, row.recipient):
            # Never delivered (a retry was pending when the meeting moved): the invitation
            # still goes, composed from the current time and SEQUENCE, or nobody tells them.
            return False
        return row.kind in CALENDAR_KINDS and row.sequence < record.sequence

    @staticmethod
    def _has_it(record: MeetingRecord, recipient: str) -> bool:
        """Whether ``recipient`` already holds the meeting: for an event backend ("*"),
        whether the event exists in the convener's mailbox."""
        return bool(record.remote_id) if recipient == EVERYONE else recipient in record.invited

    def _describe(self, row: OutboxRow, why: str) -> str:
        body = row.meeting_uid.split("-20")[0]
        return f"{row.meeting_uid} ({body}) {row.kind} to {row.recipient}: {why}"

    # -- composing ----------------------------------------------------------------------------

    _alerts: dict[str, PlanProblem] = field(default_factory=dict)
