"""The ports between the application layer and the delivery backends: what a backend can be
asked to do, what it answers, and the two ways it can fail.

Four small protocols, each a capability a backend may have:

* ``MessageSender``: one e-mail to its one recipient (every backend);
* ``EventKeeper``: the meeting itself as an event in the convener's mailbox calendar, with
  its attendees, so the server sends invitations, updates and cancellations (graph, ews);
* ``FreeBusyReader``: the conveners' busy times, so planning can avoid them (graph, ews);
* ``AnswerReader``: the attendees' answers to the events it keeps (graph, ews).

A backend declares the protocols it implements by subclassing them, and ``delivery.load``
returns a ``Backend`` naming each capability it has; the application layer depends on these
types only, never on a backend's class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import ClassVar, Protocol


class DeliveryRejected(Exception):
    """Final: this message will never go (a refused address, a 5xx). Recorded, not retried."""


class DeliveryUnavailable(Exception):
    """Transient: try again later (a 4xx, a timeout, a full disk).

    ``uncertain``: the request may have been carried out although its answer was lost (a
    timeout after the request went, a dropped connection), so the next attempt must look
    for the message before sending it again (``MessageSender.send(again=True)``).
    """

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain

    def __str__(self) -> str:
        text = super().__str__()
        return f"uncertain: {text}" if self.uncertain else text


DeliveryError = DeliveryRejected | DeliveryUnavailable


@dataclass(frozen=True)
class Receipt:
    """What the backend says it did: the remote id (a Maildir key, a Graph event id)."""

    remote_id: str


@dataclass(frozen=True)
class EventReceipt(Receipt):
    """``remote_id`` is the server's item id (Graph event id, EWS ItemId); ``ical_uid`` what
    the server reports as the event's iCalendar UID."""

    ical_uid: str = ""


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


Busy = list[tuple[datetime, datetime]]  # aware intervals, sorted
Answers = dict[str, str]  # attendee address -> accepted | tentativelyAccepted | declined | none


class MessageSender(Protocol):
    name: ClassVar[str]  # the ``[delivery] backend`` value

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """Deliver one message; ``key`` is its outbox key. Raise DeliveryRejected or
        DeliveryUnavailable; anything else is a bug. ``again``: an earlier attempt of this
        row ended uncertain; a backend that can look (graph, ews: the sender's Sent Items)
        finds it there instead of sending twice."""
        ...

    def close(self) -> None:
        """Release connections at the end of a run."""
        ...


class EventKeeper(Protocol):
    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        """Create the meeting in ``event.organizer``'s calendar and invite the attendees.
        ``key`` is stable across retries, so a retried creation never makes a second event
        (Graph: ``transactionId``; EWS: looked up by our UID first)."""
        ...

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        """Change time, place, subject or attendees; the server sends the updates (and a
        cancellation to attendees no longer listed)."""
        ...

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str,
                     key: str) -> Receipt:
        """Cancel the meeting for everyone, with ``comment`` in the cancellation."""
        ...


class FreeBusyReader(Protocol):
    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, Busy]:
        """Busy intervals per mailbox (Graph getSchedule, EWS GetUserAvailability). A
        mailbox that could not be read is left out of the answer, never reported free."""
        ...


class AnswerReader(Protocol):
    def read_answers(self, events: Sequence[tuple[str, Person]]
                     ) -> Mapping[str, Answers | DeliveryError]:
        """For each (remote id, organiser): the attendees' answers, or why they could not
        be read this time (that event's own error; the others are still answered)."""
        ...


@dataclass(frozen=True)
class Backend:
    """One configured backend and the ports it implements; ``None`` where it has none."""

    sender: MessageSender
    events: EventKeeper | None = None
    free_busy: FreeBusyReader | None = None
    answers: AnswerReader | None = None

    @property
    def name(self) -> str:
        return self.sender.name

    def close(self) -> None:
        self.sender.close()
