"""Plan -> stored meetings -> outbox rows -> delivered messages: the one pipeline that
``dispatch``, ``simulate``, ``move`` and ``cancel`` share (and the service will).

Idempotent by construction: every message has a unique outbox key (meeting, action,
recipient and, for calendar messages, SEQUENCE), so running any step twice sends nothing
twice. Once a meeting has been communicated, the store decides its time, not the plan;
only ``move`` changes it, raising SEQUENCE and sending updates (RFC 5546 3.2.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import invites
from .actions import Action, action_chain
from .contacts import Contacts, Recipient, is_valid_address
from .delivery import DeliveryRejected, DeliveryUnavailable, Mailer
from .delivery.events import CalendarEvent, Person
from .errors import UserError
from .export import Renderer, write_ics
from .messages import Templates, build_email
from .model import Body, Catalogue
from .planner import Meeting, Plan, PlanProblem
from .store import MeetingRecord, OutboxRow, Store
from .texts import format_date, render
from .workdays import WorkCalendar

CALENDAR_KINDS = ("invite", "update", "cancel")
EVERYONE = "*"  # the recipient of an event backend's calendar row: the whole attendee list
MAX_ATTEMPTS = 5
_MODES = {
    "remote": {"fi": "etäkokous", "sv": "distansmöte", "en": "remote meeting"},
    "in-person": {"fi": "lähikokous", "sv": "närmöte", "en": "in-person meeting"},
    "hybrid": {"fi": "hybridikokous", "sv": "hybridmöte", "en": "hybrid meeting"},
}


@dataclass
class Report:
    """What one run did, for the operator."""

    enqueued: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    skipped: int = 0


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
        current = {r.email for r in self.attendees(record)}
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
        is not a failure to deliver, so it is skipped until the next run."""
        ask = getattr(self.mailer, "responses", None)
        if ask is None:
            return 0
        updated = 0
        for record in self.store.all_meetings():
            if record.channel != self.mailer.name or not record.remote_id or record.start < now \
                    or record.status == "cancelled":
                continue
            organizer = self.organizer(self.catalogue.bodies[record.body])
            if organizer is None:
                continue
            try:
                answers = ask(record.remote_id, Person(organizer.email, organizer.name))
            except (DeliveryRejected, DeliveryUnavailable):
                continue
            self.store.save_meeting(replace(record, responses=tuple(sorted(answers.items()))))
            updated += 1
        return updated

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

    def organizer(self, body: Body) -> Recipient | None:
        """The first convener with a mailbox: it sends the invitations (One channel, issue 4)."""
        for convener in body.convener_ids:
            box = self.contacts.mailbox(convener)
            if box is not None:
                return box
        return None

    def attendees(self, record: MeetingRecord) -> list[Recipient]:
        body = self.catalogue.bodies[record.body]
        organizer = self.organizer(body)
        found: dict[str, Recipient] = {}
        for org in self.catalogue.participants(body, record.group):
            for person in self.contacts.of_organisation(org, body.id):
                if organizer is None or person.email != organizer.email:
                    found.setdefault(person.email, person)
        # A broken address fails its own row (and is reported); it must not break the
        # ATTENDEE list everyone else receives.
        return [r for r in found.values() if is_valid_address(r.email)]

    def _audience(self, record: MeetingRecord, action: Action) -> list[Recipient]:
        body = self.catalogue.bodies[record.body]
        people: dict[str, Recipient] = {}
        for who in action.audience:
            for recipient in self._of_audience(body, record, who):
                people.setdefault(recipient.email, recipient)
        return list(people.values())

    def _of_audience(self, body: Body, record: MeetingRecord, who: str) -> Iterable[Recipient]:
        if who == "conveners":
            return [box for c in body.convener_ids if (box := self.contacts.mailbox(c))]
        if who == "preparers":
            orgs = [p.organisation for p in body.co_preparers if p.organisation]
            for prep in body.co_preparers:
                if prep.body and prep.body in self.catalogue.bodies:
                    orgs.extend(self.catalogue.bodies[prep.body].convener_ids)
            return [box for o in orgs if (box := self.contacts.mailbox(o))]
        if who == "members":
            conveners = set(body.convener_ids)
            return [
                person for org in self.catalogue.participants(body, record.group)
                if org not in conveners for person in self.contacts.of_organisation(org, body.id)
            ]
        return self.attendees(record)

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
                for recipient in self._audience(record, action):
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
        are recorded with their reason, transient ones retried on the next run."""
        report = Report()
        rows = [r for r in self.store.pending(until) if only is None or r.meeting_uid == only]
        try:
            for done, row in enumerate(rows, start=1):
                self._deliver_one(row, clock(row), report)
                if progress:
                    progress(done, len(rows))
        finally:
            self.mailer.close()
        return report

    def _deliver_one(self, row: OutboxRow, now: datetime, report: Report) -> None:
        record = self.store.meeting(row.meeting_uid)
        gone = row.kind == "alert" and row.meeting_uid not in self._alerts  # problem since solved
        if gone or row.kind != "alert" and (record is None or self._stale(record, row)):
            self.store.mark(row, "skipped", error="the meeting was cancelled or changed")
            report.skipped += 1
            return
        if record is not None and record.channel and record.channel != self.mailer.name \
                and row.kind in CALENDAR_KINDS:
            why = (f"this meeting went out through {record.channel!r}; its updates must too "
                   f"(one channel per meeting), but the backend is now {self.mailer.name!r}")
            self.store.mark(row, "failed", error=why)
            report.failed.append(self._describe(row, why))
            return
        if row.recipient == EVERYONE and record is not None:
            self._deliver_event(row, record, now, report)
            return
        if not is_valid_address(row.recipient):
            self.store.mark(row, "failed", error="invalid address")
            report.failed.append(self._describe(row, "invalid address"))
            return
        try:
            message = self._compose(row, record, now)
            receipt = self.mailer.send(message, row.key)
        except DeliveryRejected as exc:
            self.store.mark(row, "failed", error=str(exc))
            report.failed.append(self._describe(row, str(exc)))
            return
        except DeliveryUnavailable as exc:
            state = "failed" if row.attempts + 1 >= MAX_ATTEMPTS else "pending"
            self.store.mark(row, state, error=str(exc))
            (report.failed if state == "failed" else report.retry).append(self._describe(row, str(exc)))
            return
        self.store.mark(row, "sent", remote_id=receipt.remote_id, at=now)
        report.sent += 1
        if record is not None and row.kind in ("invite", "update"):
            fresh = self.store.meeting(record.uid) or record
            self.store.save_meeting(replace(fresh, invited=tuple(sorted({*fresh.invited, row.recipient})),
                                            channel=fresh.channel or self.mailer.name))

    def _deliver_event(self, row: OutboxRow, record: MeetingRecord, now: datetime, report: Report) -> None:
        """A calendar row of an event backend: create, update or cancel the meeting itself."""
        mailer: Any = self.mailer
        body = self.catalogue.bodies[record.body]
        organizer = self.organizer(body)
        if organizer is None or not is_valid_address(organizer.email):
            why = "no valid convener mailbox to create the meeting in"
            self.store.mark(row, "failed", error=why)
            report.failed.append(self._describe(row, why))
            return
        event = self._event(record, body, organizer)
        try:
            if row.kind == "invite" and not record.remote_id:
                receipt = mailer.create_event(event, row.key)
            elif row.kind == "cancel":
                receipt = mailer.cancel_event(record.remote_id, event, record.reason or "", row.key)
            else:
                receipt = mailer.update_event(record.remote_id, event, row.key)
        except DeliveryRejected as exc:
            self.store.mark(row, "failed", error=str(exc))
            report.failed.append(self._describe(row, str(exc)))
            return
        except DeliveryUnavailable as exc:
            state = "failed" if row.attempts + 1 >= MAX_ATTEMPTS else "pending"
            self.store.mark(row, state, error=str(exc))
            (report.failed if state == "failed" else report.retry).append(self._describe(row, str(exc)))
            return
        self.store.mark(row, "sent", remote_id=receipt.remote_id, at=now)
        report.sent += 1
        fresh = self.store.meeting(record.uid) or record
        self.store.save_meeting(replace(
            fresh, channel=fresh.channel or self.mailer.name,
            remote_id=fresh.remote_id or receipt.remote_id,
            invited=tuple(sorted(p.email for p in event.attendees)),
        ))

    def _event(self, record: MeetingRecord, body: Body, organizer: Recipient) -> CalendarEvent:
        language = organizer.language
        attendees = self.attendees(record)
        context = self._context(record, body, organizer, organizer, "invite")
        return CalendarEvent(
            uid=record.uid, sequence=record.sequence,
            organizer=Person(organizer.email, organizer.name),
            attendees=tuple(Person(a.email, a.name) for a in attendees),
            start=record.start, end=record.end, subject=self.title(record, language),
            body_html=self.templates.render("invite", language, context).html,
            location=body.shape.location.get(language) if body.shape.location else None,
            online_url=body.shape.online_url,
        )

    @staticmethod
    def _stale(record: MeetingRecord, row: OutboxRow) -> bool:
        if row.kind == "cancel":
            return False
        if record.status == "cancelled":
            return True
        return row.kind in CALENDAR_KINDS and row.sequence < record.sequence

    def _describe(self, row: OutboxRow, why: str) -> str:
        body = row.meeting_uid.split("-20")[0]
        return f"{row.meeting_uid} ({body}) {row.kind} to {row.recipient}: {why}"

    # -- composing ----------------------------------------------------------------------------

    _alerts: dict[str, PlanProblem] = field(default_factory=dict)

    def recipient(self, email: str) -> Recipient:
        if email == self.contacts.coordinator.email:
            return self.contacts.coordinator
        for box in self.contacts.mailboxes.values():
            if box.email == email:
                return box
        for person in self.contacts.people:
            if person.email == email:
                return Recipient(person.email, person.name, person.language, person.organisation,
                                 person=True)
        return Recipient(email, "", "fi", None)

    def _compose(self, row: OutboxRow, record: MeetingRecord | None, now: datetime) -> EmailMessage:
        recipient = self.recipient(row.recipient)
        if record is None:  # an alert to the coordinator
            return self._compose_alert(row, recipient, now)
        body = self.catalogue.bodies[record.body]
        sender = self.organizer(body) or self.contacts.coordinator
        if not is_valid_address(sender.email):
            raise DeliveryRejected(f"invalid sender address {sender.email!r} (the convener's mailbox)")
        context = self._context(record, body, recipient, sender, row.kind)
        rendered = self.templates.render(row.kind, recipient.language, context)
        calendar, method = None, None
        if row.kind in CALENDAR_KINDS:
            calendar, method = self._calendar(record, body, sender, recipient, row.kind, now)
        return build_email(sender=sender, recipient=recipient, rendered=rendered, key=row.key,
                           domain=self.uid_domain, date=now, calendar=calendar, method=method)

    def _compose_alert(self, row: OutboxRow, recipient: Recipient, now: datetime) -> EmailMessage:
        problem = self._alerts.get(row.meeting_uid)
        body_id = row.meeting_uid.split(":")[1]
        body = self.catalogue.bodies.get(body_id)
        names = Renderer(self.catalogue, recipient.language).name
        text = render(problem.key, problem.params, recipient.language, names) if problem else row.key
        context = self._blank_context(recipient, self.contacts.coordinator)
        context.update(body={"id": body_id, "name": body.name.get(recipient.language) if body else body_id},
                       problem=text)
        rendered = self.templates.render("alert", recipient.language, context)
        return build_email(sender=self.contacts.coordinator, recipient=recipient, rendered=rendered,
                           key=row.key, domain=self.uid_domain, date=now)

    def _calendar(self, record: MeetingRecord, body: Body, sender: Recipient, recipient: Recipient,
                  kind: str, now: datetime) -> tuple[bytes, str]:
        language = recipient.language
        invitation = invites.Invitation(
            uid=record.uid, sequence=record.sequence, start=record.start, end=record.end,
            summary=self.title(record, language),
            description=self._description(record, body, language),
            location=body.shape.location.get(language) if body.shape.location else None,
            url=body.shape.online_url,
        )
        if kind == "cancel":
            whole = record.status == "cancelled"
            attendees = self.attendees(record) if whole else [recipient]
            return invites.cancel(invitation, sender, attendees or [recipient], now, self.tzid,
                                  whole_meeting=whole), "CANCEL"
        return invites.request(invitation, sender, self.attendees(record), now, self.tzid), "REQUEST"

    def title(self, record: MeetingRecord, language: str) -> str:
        body = self.catalogue.bodies[record.body]
        title = f"{body.name.get(language)} {record.start.year}"
        member = self.catalogue.member_of(record.group) if record.group else None
        return f"{title}, {member.name.get(language)}" if member else title

    def _description(self, record: MeetingRecord, body: Body, language: str) -> str:
        names = Renderer(self.catalogue, language).name
        conveners = ", ".join(names(c) for c in body.convener_ids)
        return f"{self.title(record, language)}\n{conveners}"

    def _context(self, record: MeetingRecord, body: Body, recipient: Recipient, sender: Recipient,
                 kind: str) -> dict[str, Any]:
        language = recipient.language
        names = Renderer(self.catalogue, language).name
        chain: dict[str, datetime] = {a.kind: a.due for a in action_chain(record.start, body.lead_times, self.calendar, self.tz)}
        context = self._blank_context(recipient, sender)
        start, end = record.start.astimezone(self.tz), record.end.astimezone(self.tz)
        context.update(
            body={"id": body.id, "name": body.name.get(language)},
            meeting={
                "uid": record.uid, "title": self.title(record, language),
                "date": format_date(start.date(), language),
                "start_time": _clock(start, language), "end_time": _clock(end, language),
                "mode": _MODES[body.shape.mode][language],
                "location": body.shape.location.get(language) if body.shape.location else None,
                "online_url": body.shape.online_url, "sequence": record.sequence,
            },
            conveners=[names(c) for c in body.convener_ids],
            organisations=[names(o) for o in self.catalogue.participants(body, record.group)],
            action={"kind": kind, **self._dates(kind, chain, start.date(), language)},
            reason=record.reason if record.status == "cancelled" else None,
            previous=self._previous(record, language) if kind == "update" else None,
        )
        return context

    def _dates(self, kind: str, chain: Mapping[str, datetime], day: date, language: str) -> dict[str, Any]:
        def fmt(moment: datetime | date | None) -> str | None:
            if moment is None:
                return None
            return format_date(moment.date() if isinstance(moment, datetime) else moment, language)

        reply_by = {
            "request_items": chain.get("invite"),
            "agenda": chain.get("agenda"),
            "minutes": chain["minutes"] + timedelta(days=7) if "minutes" in chain else None,
        }.get(kind)
        return {"reply_by": fmt(reply_by), "next_step_date": fmt(chain.get("request_items")),
                "invite_date": fmt(chain.get("invite"))}

    def _previous(self, record: MeetingRecord, language: str) -> dict[str, str] | None:
        if record.previous is None:
            return None
        before = record.previous.astimezone(self.tz)
        return {"date": format_date(before.date(), language), "start_time": _clock(before, language)}

    def _blank_context(self, recipient: Recipient, sender: Recipient) -> dict[str, Any]:
        coordinator = self.contacts.coordinator
        return {
            # Greet people by name; a shared mailbox is "Hyvä vastaanottaja", not "Hyvä Laukaan kunta".
            "recipient": {"name": recipient.name if recipient.person else "",
                          "email": recipient.email, "language": recipient.language},
            "sender": {"name": sender.name, "email": sender.email},
            "coordinator": {"name": coordinator.name, "email": coordinator.email},
            "body": {"id": "", "name": ""},
            "meeting": {"uid": "", "title": "", "date": "", "start_time": "", "end_time": "",
                        "mode": "", "location": None, "online_url": None, "sequence": 0},
            "conveners": [], "organisations": [],
            "action": {"kind": "alert", "reply_by": None, "next_step_date": None, "invite_date": None},
            "previous": None, "reason": None, "problem": None,
        }


def _clock(moment: datetime, language: str) -> str:
    return f"{moment:%H:%M}" if language == "en" else f"{moment:%H.%M}"

