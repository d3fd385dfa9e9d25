"""What an event backend (``graph``, ``ews``) is told about a meeting, and what it promises.

For these backends the meeting itself is created in the convener's mailbox with its
attendees, so Exchange sends the invitations and the answers come back to the convener;
the outbox then holds one calendar row per meeting and SEQUENCE, not one per recipient.
Plain messages (agenda requests, reminders) still go one per recipient through ``send``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import ClassVar, Protocol

from . import Receipt


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class CalendarEvent:
    """One meeting as a calendar item. ``uid`` is ours (iCalUId), kept for its whole life."""

    uid: str
    sequence: int
    organizer: Person  # the convener organisation's mailbox: where the event is created
    attendees: tuple[Person, ...]
    start: datetime  # aware, Europe/Helsinki
    end: datetime
    subject: str
    body_html: str
    location: str | None = None
    online_url: str | None = None
    reminder_minutes: int = 30


@dataclass(frozen=True)
class EventReceipt(Receipt):
    """``remote_id`` is the server's item id (Graph event id, EWS ItemId); ``ical_uid`` what
    the server reports as the event's iCalendar UID."""

    ical_uid: str = ""


class EventMailer(Protocol):
    name: ClassVar[str]

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """A plain message to its one recipient (Graph sendMail, EWS Message.send); for
        ``again`` see ``Mailer.send``."""
        ...

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        """Create the meeting in ``event.organizer``'s calendar and invite the attendees.
        ``key`` is stable across retries: Graph uses it for ``transactionId`` so a retried
        POST never makes a second event."""
        ...

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        """Change time, place, subject or attendees; the server sends the updates (and a
        cancellation to attendees no longer listed)."""
        ...

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str, key: str) -> Receipt:
        """Cancel the meeting for everyone, with ``comment`` in the cancellation."""
        ...

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Busy intervals per mailbox (Graph getSchedule, EWS GetUserAvailability), so the
        planner can avoid them before a date is fixed."""
        ...

    def responses(self, remote_id: str, organizer: Person) -> dict[str, str]:
        """Attendee address -> their answer (accepted, tentativelyAccepted, declined, none)."""
        ...

    def close(self) -> None:
        ...
