"""The stored schedule (issue 9): one plan per council term, kept in the store, that every
command shows and sends. ``refresh`` plans the whole terms with what is decided as fixed
input (committed meetings: a message went out, or a person fixed, moved, cancelled or
recorded them; and meetings already past) and stores what it planned; ``plan`` shows the
schedule as stored, ``--from``/``--to`` only filtering it.

Once a meeting is committed, the store decides its time, not the planner; only ``move``
or a date written into bodies/ changes it then, and everyone told hears of the change."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from scheduler.catalogue.model import Catalogue
from scheduler.errors import UserError
from scheduler.outbox.records import EVERYONE, OutboxRow
from scheduler.outbox.retention import is_erased, pseudonym
from scheduler.planning.actions import action_chain, due_times
from scheduler.planning.planner import Meeting, Plan, PlanProblem, Window, plan_meetings
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus, Reason

from .bootstrap import Services
from .freebusy import CalendarsRead, conveners_busy
from .reconcile import reconcile_known

MAX_WINDOW_DAYS = 20 * 365  # five council terms; more is a typo, and costs minutes


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    calendars: CalendarsRead | None = None  # None: the conveners' calendars were not asked


def plan(services: Services, first: date, last: date, now: datetime, *,
         read_calendars: bool = True) -> PlanResult:
    """The stored schedule from ``first`` to ``last`` (both included), brought up to date
    first, with the notes about the installation's own calendars first among the problems."""
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    if (last - first).days > MAX_WINDOW_DAYS:
        raise UserError(f"--from {first} --to {last} spans more than {MAX_WINDOW_DAYS // 365} years")
    result = refresh(services, now, read_calendars=read_calendars)
    shown = tuple(m for m in result.plan.meetings if first <= m.day <= last)
    return PlanResult(Plan(shown, result.plan.problems), result.calendars)


def refresh(services: Services, now: datetime, *, read_calendars: bool = True,
            save: bool = True) -> PlanResult:
    """Plan the council terms around what is decided, store the plan, and return the whole
    schedule as stored. ``save=False`` (``check``) computes without writing."""
    store = services.store
    stored = {r.uid: r for r in store.all_meetings()}
    told = store.told()
    records = {uid: replace(r, committed=True) if uid in told and not r.committed else r
               for uid, r in stored.items()}
    decided = reconcile_known(services.catalogue, records, services.tz, services.uid_domain)
    records.update({after.uid: after for _, after in decided})
    window = term_window(services.catalogue)
    show = _Shower(services.catalogue, now)
    views = {uid: show(r) for uid, r in records.items() if r.body in services.catalogue.bodies}
    fixed = [views[uid] for uid, r in records.items() if uid in views and _decided(r, now)]
    undecided = [views[uid] for uid, r in records.items() if uid in views and not _decided(r, now)]
    calendars = _calendars(services, window, now, undecided, first=not records) \
        if read_calendars else None
    planning = services.settings.planning
    found = plan_meetings(services.catalogue, services.calendar, window, planning.tz,
                          planning.uid_domain, calendars.busy if calendars else None,
                          fixed=fixed, today=now.astimezone(services.tz).date(), stored=undecided)
    kept = _kept(records, found, now)
    if save:
        _save(services, stored, kept, decided, now)
    meetings = sorted((views[uid] if records.get(uid) is record and uid in views else show(record)
                       for uid, record in kept.items() if record.body in services.catalogue.bodies),
                      key=lambda m: (m.start, m.body, m.group or "", m.uid))
    today = now.astimezone(services.tz).date()
    problems = tuple(p for p in found.problems if not _over(p, services.catalogue, today))
    return PlanResult(Plan(tuple(meetings), _calendar_notes(services) + problems), calendars)


def _calendars(services: Services, window: Window, now: datetime, undecided: list[Meeting],
               *, first: bool) -> CalendarsRead | None:
    """The conveners' busy times, read only for what can still move (issue 10): the
    conveners of bodies with an undecided meeting, from today on; every convener for the
    first plan (a body added later is read from its second plan on, its meetings being
    undecided until then). Nothing is read when every meeting is decided."""
    today = now.astimezone(services.tz).date()
    bodies = services.catalogue.bodies
    movable = set(bodies) if first else {m.body for m in undecided}
    conveners = {org for body in movable if body in bodies for org in bodies[body].convener_ids}
    if not conveners:
        return None
    return conveners_busy(services, max(window.first, today), window.last, only=conveners)


def _over(problem: PlanProblem, catalogue: Catalogue, today: date) -> bool:
    """Whether a problem is about a period that has ended: history, not something to fix
    (a check in December does not warn about the year that is ending, issue 9)."""
    params = problem.params
    if isinstance(params.get("last"), date):
        return bool(params["last"] < today)
    if isinstance(params.get("year"), int):
        return bool(params["year"] < today.year)
    if isinstance(params.get("term"), str):
        ends = [t.end for t in catalogue.region.terms if t.id == params["term"]]
        return bool(ends and ends[0] < today)
    return False


def _kept(records: dict[str, MeetingRecord], found: Plan, now: datetime
          ) -> dict[str, MeetingRecord]:
    """The schedule after planning: decided meetings as they are, the plan's others (new, or
    stored and not yet decided, at their newly planned time)."""
    kept = {uid: r for uid, r in records.items() if _decided(r, now)}
    for meeting in found.meetings:
        if meeting.uid in kept:
            continue
        before = records.get(meeting.uid)
        if before is not None and _same(before, meeting):
            kept[meeting.uid] = before  # kept where it was: nothing to write
        else:
            kept[meeting.uid] = _record(meeting, before)
    return kept


def _same(record: MeetingRecord, meeting: Meeting) -> bool:
    return (record.start, record.end, record.status, record.slot, record.known,
            record.reasons, record.sources) == (meeting.start, meeting.end, meeting.status,
                                                meeting.slot, meeting.known, meeting.reasons,
                                                meeting.sources)


def _record(meeting: Meeting, before: MeetingRecord | None) -> MeetingRecord:
    """The stored form of a planned meeting (a known meeting of bodies/ is decided)."""
    base = before or MeetingRecord(meeting.uid, meeting.body, meeting.group, meeting.start,
                                   meeting.end, meeting.status)
    return replace(base, start=meeting.start, end=meeting.end, status=meeting.status,
                   group=meeting.group, slot=meeting.slot, reasons=meeting.reasons,
                   sources=meeting.sources, known=meeting.known,
                   committed=base.committed or meeting.known is not None)


def _save(services: Services, records: dict[str, MeetingRecord],
          kept: dict[str, MeetingRecord], decided: list[tuple[MeetingRecord, MeetingRecord]],
          now: datetime) -> None:
    store = services.store
    store.save_meetings(r for uid, r in kept.items() if records.get(uid) != r)
    store.delete_meetings(uid for uid in records if uid not in kept)
    for before, after in decided:  # a date or status written into bodies/ for a told meeting
        if after.cancelled and not before.cancelled:
            tell(services, after, Kind.CANCEL, now)
        elif after.start != before.start:
            tell(services, after, Kind.UPDATE, now)
    for uid, after in kept.items():  # waiting reminders follow a meeting to its new date
        earlier = records.get(uid)
        if earlier is not None and earlier.start != after.start \
                and after.body in services.catalogue.bodies:
            follow(services, after)


def follow(services: Services, record: MeetingRecord) -> None:
    """The waiting rows of ``record`` get the due times of its chain as it is now."""
    body = services.catalogue.bodies[record.body]
    chain = due_times(action_chain(record.start, body.lead_times, services.calendar, services.tz))
    services.store.reschedule(record.uid, {str(kind): moment for kind, moment in chain.items()})


def _decided(record: MeetingRecord, now: datetime) -> bool:
    """Fixed input to the planner: committed, or already past."""
    return record.committed or record.start < now


class _Shower:
    """``shown`` over one catalogue, each body's participants worked out once."""

    def __init__(self, catalogue: Catalogue, now: datetime) -> None:
        self.catalogue, self.now = catalogue, now
        self.participants: dict[tuple[str, str | None], tuple[str, ...]] = {}

    def __call__(self, record: MeetingRecord) -> Meeting:
        key = (record.body, record.group)
        if key not in self.participants:
            body = self.catalogue.bodies.get(record.body)
            self.participants[key] = self.catalogue.participants(body, record.group) if body else ()
        return shown(record, self.catalogue, self.now, self.participants[key])


def shown(record: MeetingRecord, catalogue: Catalogue, now: datetime,
          participants: tuple[str, ...] | None = None) -> Meeting:
    """A stored meeting as the plan shows it; a planned one whose time has passed without
    a record is unconfirmed."""
    body = catalogue.bodies.get(record.body)
    status = record.status
    if status is MeetingStatus.PLANNED and record.start < now:
        status = MeetingStatus.UNCONFIRMED
    reasons = list(record.reasons)
    if record.moved and record.previous is not None:
        reasons.append(Reason("moved-by-person", {"day": record.previous.date()}))
    if record.forced:
        reasons.append(Reason("moved-against-rules", {"reason": record.forced}))
    return Meeting(
        uid=record.uid, body=record.body, slot=record.slot, start=record.start, end=record.end,
        conveners=body.convener_ids if body else (),
        organisations=participants if participants is not None else (
            catalogue.participants(body, record.group) if body else ()),
        group=record.group, status=status, sequence=record.sequence, reasons=tuple(reasons),
        sources=record.sources, known=record.known, committed=record.committed,
        communicated=record.communicated, moved_from=record.previous if record.moved else None,
        present=record.present, minutes_url=record.minutes_url,
    )


def _calendar_notes(services: Services) -> tuple[PlanProblem, ...]:
    blackouts = services.blackouts
    notes = tuple(PlanProblem("-", "warning", "example-calendar", {"file": f})
                  for f in blackouts.examples)
    if blackouts.missing:
        notes += (PlanProblem("-", "warning", "no-calendars", {"file": blackouts.missing}),)
    return notes


def term_window(catalogue: Catalogue) -> Window:
    """Every council term of region.yaml: what the schedule covers."""
    terms = catalogue.region.terms
    return Window(min(t.start for t in terms), max(t.end for t in terms))


def term_end(catalogue: Catalogue, day: date) -> date:
    """The last day of the council term ``day`` is in (or of the next one)."""
    terms = catalogue.region.terms
    current = [t for t in terms if t.start <= day <= t.end] or [t for t in terms if t.start > day]
    if not current:
        raise UserError(f"no council term in region.yaml covers {day}; give --to")
    return current[0].end


def sync(services: Services, plan: Plan, now: datetime) -> int:
    """Store the plan's meetings of bodies with a convener (a test's single meeting, say);
    return how many update rows attendee changes caused."""
    store = services.store
    for meeting in plan.meetings:
        if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.FIXED) or not meeting.conveners:
            continue
        record = store.meeting(meeting.uid)
        if record is None:
            record = _record(meeting, None)
        elif not record.committed and not record.moved and not record.communicated:
            record = replace(record, start=meeting.start, end=meeting.end)  # not yet told anyone
        store.save_meeting(record)
    return attendee_changes(services, now)


def attendee_changes(services: Services, now: datetime) -> int:
    """Who must now be told differently: an attendee removed from the contacts gets a
    CANCEL of their own, the rest an update (RFC 5546 3.2.5); how many rows that made."""
    rows = 0
    for record in services.store.all_meetings():
        if record.invited and not record.cancelled and record.body in services.catalogue.bodies:
            rows += _attendee_change(services, record, now)
    return rows


def _attendee_change(services: Services, record: MeetingRecord, now: datetime) -> int:
    current = {r.email for r in services.audience.attendees(record)}
    # An erased entry (privacy: past retention, or `forget`) is nobody to write to: it is
    # never removed nor told, and the person it stands for holds the meeting already.
    held = set(record.invited)
    removed = [e for e in record.invited if e not in current and not is_erased(e)]
    added = [e for e in current if e not in held and pseudonym(e) not in held]
    events = services.backend.events is not None
    if not removed and not (events and added):
        return 0
    record = replace(record, sequence=record.sequence + 1,
                     invited=tuple(e for e in record.invited if e in current or is_erased(e)))
    services.store.save_meeting(record)
    if events:  # the server cancels for the removed and invites the added
        rows = [meeting_row(record, Kind.UPDATE, EVERYONE, now)]
    else:
        rows = [meeting_row(record, Kind.CANCEL, email, now) for email in removed]
        rows += [meeting_row(record, Kind.UPDATE, email, now)
                 for email in told_whom(services, record)]
    return services.store.add(rows)


def tell(services: Services, record: MeetingRecord, kind: Kind, now: datetime) -> int:
    """Queue ``kind`` (an update, a cancellation) of ``record`` to everyone told of it."""
    return services.store.add(meeting_row(record, kind, target, now)
                              for target in told_whom(services, record))


def told_whom(services: Services, record: MeetingRecord) -> list[str]:
    """Who a change must reach: each invited address (not an erased entry), or the event
    itself (EVERYONE)."""
    if services.backend.events is not None:
        return [EVERYONE] if record.remote_id else []
    return [email for email in record.invited if not is_erased(email)]


def meeting_row(record: MeetingRecord, kind: Kind, recipient: str, due: datetime) -> OutboxRow:
    """The outbox row of one message about a meeting. Its key names the meeting, the kind and
    the recipient, and for calendar messages the SEQUENCE: an update at a new SEQUENCE is a
    new message, a reminder is one per meeting and recipient whatever moves."""
    key = f"{record.uid}|{kind}|{recipient}"
    if kind.is_calendar:
        key += f"|{record.sequence}"
    return OutboxRow(key, record.uid, kind, recipient, record.sequence, due, body=record.body)
