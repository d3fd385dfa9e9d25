"""The outbox's records as plain domain types: one message to one recipient, its state, and
the coordinator's alerts. No I/O; ``tables`` maps them and ``store`` reads and writes them.

A row moves ``pending -> sending -> sent | failed | uncertain | missed | skipped``: it is
marked ``sending`` in a transaction of its own before the network call, so a row found
``sending`` after a crash is known to be uncertain, and the next attempt looks the message
up before sending it again where the backend can (reliability.md section 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from scheduler.planning.records import Kind


class State(StrEnum):
    PENDING = "pending"  # waiting for its due time, or for its next attempt
    SENDING = "sending"  # claimed: its network call is (or was, before a crash) under way
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts; the error says why
    UNCERTAIN = "uncertain"  # may have gone; the next attempt looks before sending again
    MISSED = "missed"  # its time passed and the due policy did not send it (reason says why)
    SKIPPED = "skipped"  # overtaken: the meeting was cancelled or changed, the alert resolved

    @property
    def waiting(self) -> bool:
        """Whether a delivery run still attempts the row."""
        return self in (State.PENDING, State.UNCERTAIN)


@dataclass(frozen=True)
class OutboxRow:
    """One message to one recipient, under a key unique for (meeting, kind, recipient and,
    for calendar messages, SEQUENCE), or (alert, recipient)."""

    key: str
    meeting_uid: str | None  # None for an alert
    kind: Kind
    recipient: str  # an address, or EVERYONE for an event backend's calendar row
    sequence: int
    due: datetime
    state: State = State.PENDING
    attempts: int = 0
    error: str | None = None  # the backend's words, for failed, uncertain and retried rows
    body: str = ""  # the body id, for reports and messages
    alert: str | None = None  # the alert's key, for an alert
    reason: str | None = None  # why missed or skipped (a due-policy code)
    claimed_from: State | None = None  # while SENDING in this process: the state it left


EVERYONE = "*"  # the recipient of an event backend's calendar row: the whole attendee list


@dataclass(frozen=True)
class Alert:
    """A problem of the plan that the coordinator is told about, once. ``messages`` is the
    problem in each language, rendered when it was raised (its parameters are not kept)."""

    key: str  # alert:<body>:<problem>:<digest of its parameters>
    body: str
    problem: str  # the planner's problem key, e.g. no-convener
    severity: str
    messages: Mapping[str, str] = field(default_factory=dict)
    raised_at: datetime | None = None
    resolved_at: datetime | None = None  # the plan no longer has it: its rows are skipped


@dataclass(frozen=True)
class Outcome:
    """A row's new state, to be written with others in one transaction: ``attempted`` when
    a delivery call was made for it (the attempt counts)."""

    row: OutboxRow
    state: State
    error: str | None = None
    remote_id: str | None = None
    at: datetime | None = None  # when it was sent
    reason: str | None = None
    attempted: bool = True
    retry_at: datetime | None = None  # a row refused for now: not before then (the service)


@dataclass(frozen=True)
class Delivered:
    """What a sent calendar row tells about its meeting: the channel it went through, who
    now holds the invitation (added, or the whole list for an event backend) and the
    remote event's ids. Applied to the meeting as stored at the time of writing, so a
    change made meanwhile (a ``move`` from the command line) is kept."""

    uid: str
    channel: str
    invited_add: tuple[str, ...] = ()
    invited_all: tuple[str, ...] | None = None
    remote_id: str | None = None
    remote_ical_uid: str | None = None
