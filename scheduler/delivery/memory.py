"""The ``memory`` backend: every port kept in the process, for the use cases' fast tests and
for dry runs. A fake, not a mock: it keeps events per organiser mailbox, creates each event
once per key (as Graph's transactionId does), finds a message an uncertain attempt sent
(``again``), and fails on request the ways a real backend does.

Failures to inject: ``refused`` addresses (DeliveryRejected, final), ``faults`` (the next
calls raise these, in order), ``lose_answers`` (that many calls do their work and then lose
their answer: DeliveryUnavailable, uncertain).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import ClassVar

from .ports import (
    AnswerReader,
    Answers,
    Backend,
    Busy,
    CalendarEvent,
    DeliveryError,
    DeliveryRejected,
    DeliveryUnavailable,
    EventKeeper,
    EventReceipt,
    FreeBusyReader,
    MessageSender,
    Person,
    Receipt,
)


@dataclass
class StoredEvent:
    """One event in an organiser's calendar, as the server would keep it."""

    remote_id: str
    event: CalendarEvent
    cancelled: bool = False
    comment: str = ""
    changes: int = 0  # updates applied after creation


@dataclass
class MemoryBackend(MessageSender, EventKeeper, FreeBusyReader, AnswerReader):
    name: ClassVar[str] = "memory"

    refused: set[str] = field(default_factory=set)
    faults: list[DeliveryError] = field(default_factory=list)
    lose_answers: int = 0
    busy: dict[str, Busy] = field(default_factory=dict)  # mailbox -> busy intervals
    unreadable: set[str] = field(default_factory=set)  # mailboxes free/busy cannot read
    replies: dict[str, Answers] = field(default_factory=dict)  # remote id -> answers given
    sent: list[tuple[str, EmailMessage]] = field(default_factory=list)  # (outbox key, message)
    events: dict[str, StoredEvent] = field(default_factory=dict)  # by remote id
    calls: int = 0
    closed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, str] = {}  # creation key -> remote id

    def as_backend(self) -> Backend:
        return Backend(self, events=self, free_busy=self, answers=self)

    # -- MessageSender ------------------------------------------------------------------------

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        with self._lock:
            self._call()
            recipient = message["To"].addresses[0].addr_spec
            if recipient in self.refused:
                raise DeliveryRejected(f"memory: {recipient} refused")
            if again and any(sent_key == key for sent_key, _ in self.sent):
                return Receipt(str(message["Message-ID"]))  # found: the earlier attempt went
            self.sent.append((key, message))
            self._maybe_lose()
            return Receipt(str(message["Message-ID"]))

    def close(self) -> None:
        self.closed += 1

    # -- EventKeeper --------------------------------------------------------------------------

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        with self._lock:
            self._call()
            remote_id = self._by_key.get(key)
            if remote_id is None:
                remote_id = self._by_key[key] = f"mem-{len(self.events) + 1}"
                self.events[remote_id] = StoredEvent(remote_id, event)
                self._maybe_lose()
            return EventReceipt(remote_id, ical_uid=event.uid)

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        with self._lock:
            self._call()
            stored = self._stored(remote_id)
            stored.event, stored.changes = event, stored.changes + 1
            return EventReceipt(remote_id, ical_uid=event.uid)

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str,
                     key: str) -> Receipt:
        with self._lock:
            self._call()
            stored = self._stored(remote_id)
            stored.cancelled, stored.comment = True, comment
            return Receipt(remote_id)

    # -- FreeBusyReader and AnswerReader ------------------------------------------------------

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, Busy]:
        with self._lock:
            self._call()
            return {m: [(b, e) for b, e in self.busy.get(m, []) if b < end and e > start]
                    for m in mailboxes if m not in self.unreadable}

    def read_answers(self, events: Sequence[tuple[str, Person]]
                     ) -> Mapping[str, Answers | DeliveryError]:
        with self._lock:
            self._call()
            found: dict[str, Answers | DeliveryError] = {}
            for remote_id, _ in events:
                stored = self.events.get(remote_id)
                if stored is None:
                    found[remote_id] = DeliveryRejected(f"memory: no event {remote_id!r}")
                    continue
                given = self.replies.get(remote_id, {})
                found[remote_id] = {p.email.lower(): given.get(p.email.lower(), "none")
                                    for p in stored.event.attendees}
            return found

    # -- what a test looks at -----------------------------------------------------------------

    def calendar(self, organizer: str) -> list[StoredEvent]:
        """The events in ``organizer``'s calendar that are not cancelled."""
        return [e for e in self.events.values()
                if e.event.organizer.email == organizer and not e.cancelled]

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [m for _, m in self.sent if m["To"].addresses[0].addr_spec == address]

    def _call(self) -> None:
        self.calls += 1
        if self.faults:
            raise self.faults.pop(0)

    def _maybe_lose(self) -> None:
        if self.lose_answers:
            self.lose_answers -= 1
            raise DeliveryUnavailable("memory: the answer was lost", uncertain=True)

    def _stored(self, remote_id: str) -> StoredEvent:
        stored = self.events.get(remote_id)
        if stored is None:
            raise DeliveryRejected(f"memory: no event {remote_id!r}")
        return stored
