"""iTIP messages (RFC 5546) for one meeting: REQUEST, CANCEL, and their invariants. Pure.

Built with ``icalendar`` only, never by string concatenation (no injection through titles
or names). The same UID for the meeting's life; SEQUENCE as stored by the caller, raised on
every significant change (RFC 5546 3.2.2); DTSTAMP in UTC; the Europe/Helsinki VTIMEZONE in
the RRULE form Outlook handles (tech.md section 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import PARTSTAT, ROLE, Alarm, Calendar, Event, vCalAddress

from scheduler.catalogue.contacts import Recipient

from .ical import PRODID, vtimezone

ALARM_BEFORE = timedelta(minutes=30)


@dataclass(frozen=True)
class Invitation:
    """What an invitation says about its meeting, independent of who receives it."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str
    location: str | None = None
    url: str | None = None


def request(
    invitation: Invitation,
    organizer: Recipient,
    attendees: Sequence[Recipient],
    stamp: datetime,
    tzid: str,
) -> bytes:
    """``METHOD:REQUEST``: a new meeting or an update of one (full attendee list, RFC 5546 3.2.2)."""
    event = _event(invitation, organizer, attendees, stamp, status="CONFIRMED")
    alarm = Alarm.new(description=_text(invitation.summary))
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", -ALARM_BEFORE)
    event.add_component(alarm)
    return _calendar("REQUEST", event, tzid)


def cancel(
    invitation: Invitation,
    organizer: Recipient,
    attendees: Sequence[Recipient],
    stamp: datetime,
    tzid: str,
    *,
    whole_meeting: bool = True,
) -> bytes:
    """``METHOD:CANCEL`` with the same UID and a higher SEQUENCE (RFC 5546 3.2.5).

    For the whole meeting STATUS:CANCELLED goes to everyone; for attendees removed from a
    meeting that goes on, the CANCEL names only them and carries no STATUS.
    """
    event = _event(invitation, organizer, attendees, stamp,
                   status="CANCELLED" if whole_meeting else None)
    return _calendar("CANCEL", event, tzid)


_CONTROLS = {c: None for c in range(32) if c not in (9, 10)} | {127: None}


def _text(value: str) -> str:
    """RFC 5545 3.3.11: TEXT may hold no control characters but HTAB (newlines are escaped)."""
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)


def _event(
    invitation: Invitation,
    organizer: Recipient,
    attendees: Sequence[Recipient],
    stamp: datetime,
    status: str | None,
) -> Event:
    event = Event.new(
        uid=invitation.uid,
        sequence=invitation.sequence,
        stamp=stamp.astimezone(UTC),
        start=invitation.start,
        end=invitation.end,
        summary=_text(invitation.summary),
        description=_text(invitation.description),
        location=_text(invitation.location) if invitation.location else None,
        organizer=vCalAddress.new(organizer.email, cn=_text(organizer.name)),
        attendees=[
            vCalAddress.new(a.email, cn=_text(a.name) or None, role=ROLE.REQ_PARTICIPANT,
                            partstat=PARTSTAT.NEEDS_ACTION, rsvp=True)
            for a in attendees
        ],
    )
    if status:
        event.add("STATUS", status)
    if invitation.url:
        event.add("URL", invitation.url)
    return event


def _calendar(method: str, event: Event, tzid: str) -> bytes:
    calendar = Calendar.new(method=method, prodid=PRODID)
    del calendar["UID"]  # RFC 7986 calendar UID: not part of an iMIP message
    calendar.add_component(vtimezone(tzid))
    calendar.add_component(event)
    raw: bytes = calendar.to_ical()
    return raw
