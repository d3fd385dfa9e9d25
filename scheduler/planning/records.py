"""The schedule's records as plain domain types: a meeting as it was communicated, its status,
and the kinds of message the service sends about it. No I/O; the outbox tables map these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MeetingStatus(StrEnum):
    PLANNED = "planned"  # placed by the planner; may still move while nobody has been told
    FIXED = "fixed"  # a date decided by people (a known meeting in bodies/)
    HELD = "held"
    CANCELLED = "cancelled"


class Kind(StrEnum):
    """What a message is: one step of a meeting's action chain, a change, or an alert."""

    PREPARE = "prepare"  # agenda preparation reminder to the conveners (and co-preparers)
    REQUEST_ITEMS = "request_items"  # agenda-item request to the member organisations
    INVITE = "invite"  # iTIP REQUEST, SEQUENCE as stored (RFC 5546 3.2.2)
    UPDATE = "update"  # the same UID with a higher SEQUENCE: a moved meeting
    CANCEL = "cancel"  # iTIP CANCEL (RFC 5546 3.2.5)
    AGENDA = "agenda"  # reminder to the conveners to send the agenda
    REMIND = "remind"  # participant reminder, a working day before
    MINUTES = "minutes"  # minutes follow-up to the conveners, after the meeting
    ALERT = "alert"  # to the coordinator: a problem in the plan

    @property
    def is_calendar(self) -> bool:
        """A message carrying the meeting itself: keyed and kept per SEQUENCE."""
        return self in CALENDAR_KINDS


CALENDAR_KINDS = frozenset({Kind.INVITE, Kind.UPDATE, Kind.CANCEL})


@dataclass(frozen=True)
class MeetingRecord:
    """One meeting as the store keeps it. Once anyone has been told of it (``invited``, or
    ``remote_id`` for an event backend), the record decides its time, not the planner."""

    uid: str
    body: str
    group: str | None
    start: datetime
    end: datetime
    status: MeetingStatus
    sequence: int = 0
    moved: bool = False  # set by `move`: the plan no longer decides
    invited: tuple[str, ...] = ()  # addresses sent an invitation
    reason: str | None = None  # the cancellation reason given by the operator
    previous: datetime | None = None  # the start before the last move, for the update's text
    channel: str | None = None  # the backend that first sent it: it sends all that follows
    remote_id: str | None = None  # the event's id on that backend (Graph, EWS)
    responses: tuple[tuple[str, str], ...] = ()  # attendee address -> answer, read back
    remote_ical_uid: str | None = None  # the iCalUId the server reports for the event

    @property
    def cancelled(self) -> bool:
        return self.status is MeetingStatus.CANCELLED
