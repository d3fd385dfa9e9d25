"""The plan and the stored schedule: planning a window with the installation's calendars
(and the conveners' own, when read), and keeping the store's meetings in step with it.

Once a meeting has been communicated, the store decides its time, not the plan; only
``move`` changes it then (service.changes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from scheduler.catalogue.model import Catalogue
from scheduler.errors import UserError
from scheduler.outbox.records import EVERYONE, OutboxRow
from scheduler.planning.planner import Plan, PlanProblem, Window, plan_meetings
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus

from .bootstrap import Services
from .freebusy import CalendarsRead, conveners_busy

MAX_WINDOW_DAYS = 20 * 365  # five council terms; more is a typo, and costs minutes


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    calendars: CalendarsRead | None = None  # None: the conveners' calendars were not asked


def plan(services: Services, first: date, last: date, *, read_calendars: bool = True
         ) -> PlanResult:
    """The plan for ``first``..``last`` (both included), with the notes about the
    installation's own calendars (an example file, a missing folder) first."""
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    if (last - first).days > MAX_WINDOW_DAYS:
        raise UserError(f"--from {first} --to {last} spans more than {MAX_WINDOW_DAYS // 365} years")
    calendars = conveners_busy(services, first, last) if read_calendars else None
    planning = services.settings.planning
    found = plan_meetings(services.catalogue, services.calendar, Window(first, last),
                          planning.tz, planning.uid_domain, calendars.busy if calendars else None)
    return PlanResult(Plan(found.meetings, _calendar_notes(services) + found.problems), calendars)


def _calendar_notes(services: Services) -> tuple[PlanProblem, ...]:
    blackouts = services.blackouts
    notes = tuple(PlanProblem("-", "warning", "example-calendar", {"file": f})
                  for f in blackouts.examples)
    if blackouts.missing:
        notes += (PlanProblem("-", "warning", "no-calendars", {"file": blackouts.missing}),)
    return notes


def term_end(catalogue: Catalogue, day: date) -> date:
    """The last day of the council term ``day`` is in (or of the next one)."""
    terms = catalogue.region.terms
    current = [t for t in terms if t.start <= day <= t.end] or [t for t in terms if t.start > day]
    if not current:
        raise UserError(f"no council term in region.yaml covers {day}; give --to")
    return current[0].end



def sync(services: Services, plan: Plan, now: datetime) -> int:
    """Store the plan's meetings; return how many update rows attendee changes caused."""
    store = services.store
    changes = 0
    for meeting in plan.meetings:
        if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.FIXED) or not meeting.conveners:
            continue  # nobody to send for a body without a convener: an alert says so
        record = store.meeting(meeting.uid)
        if record is None:
            record = MeetingRecord(meeting.uid, meeting.body, meeting.group, meeting.start,
                                   meeting.end, meeting.status)
        elif not record.moved and not record.invited and not record.cancelled:
            record = replace(record, start=meeting.start, end=meeting.end)  # not yet told anyone
        store.save_meeting(record)
        changes += _attendee_changes(services, record, now)
    return changes


def _attendee_changes(services: Services, record: MeetingRecord, now: datetime) -> int:
    """Removed attendees get a CANCEL of their own, the rest an update (RFC 5546 3.2.5)."""
    if not record.invited or record.cancelled:
        return 0
    current = {r.email for r in services.audience.attendees(record)}
    removed = [email for email in record.invited if email not in current]
    added = [email for email in current if email not in record.invited]
    events = services.backend.events is not None
    if not removed and not (events and added):
        return 0
    record = replace(record, sequence=record.sequence + 1,
                     invited=tuple(e for e in record.invited if e in current))
    services.store.save_meeting(record)
    if events:  # the server cancels for the removed and invites the added
        rows = [meeting_row(record, Kind.UPDATE, EVERYONE, now)]
    else:
        rows = [meeting_row(record, Kind.CANCEL, email, now) for email in removed]
        rows += [meeting_row(record, Kind.UPDATE, email, now) for email in record.invited]
    return services.store.add(rows)


def meeting_row(record: MeetingRecord, kind: Kind, recipient: str, due: datetime) -> OutboxRow:
    """The outbox row of one message about a meeting. Its key names the meeting, the kind and
    the recipient, and for calendar messages the SEQUENCE: an update at a new SEQUENCE is a
    new message, a reminder is one per meeting and recipient whatever moves."""
    key = f"{record.uid}|{kind}|{recipient}"
    if kind.is_calendar:
        key += f"|{record.sequence}"
    return OutboxRow(key, record.uid, kind, recipient, record.sequence, due, body=record.body)
