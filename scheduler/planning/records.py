"""The schedule's records as plain domain types: a meeting as it was communicated, its status,
and the kinds of message the service sends about it. No I/O; the outbox tables map these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MeetingStatus(StrEnum):
    PLANNED = "planned"  # placed by the planner; may still move while nobody has been told
    FIXED = "fixed"  # a date decided by people (a known meeting in bodies/)
    HELD = "held"
    CANCELLED = "cancelled"
    UNCONFIRMED = "unconfirmed"  # shown only: its date has passed and nobody recorded it


@dataclass(frozen=True)
class Reason:
    """One line of a meeting's explanation, rendered per language by ``texts``."""

    key: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)


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
    """One meeting of the stored schedule. Once it is ``committed`` (a message about it went
    out, or a person fixed, moved, cancelled or recorded it), the record decides its time and
    the planner takes it as given; until then the planner may move it."""

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
    slot: str = ""  # the body's period and ordinal (2027-1, 2025-2029-1, 2027-hyte-3, ...)
    committed: bool = False
    known: str | None = None  # the known meeting of bodies/ it stands for (its date[-group])
    reasons: tuple[Reason, ...] = ()  # why this date, as the planner gave it
    sources: tuple[str, ...] = ()
    present: tuple[str, ...] = ()  # organisations represented, recorded with `held`
    minutes_url: str | None = None
    forced: str | None = None  # why a person moved it against the rules (`move --force`)

    @property
    def cancelled(self) -> bool:
        return self.status is MeetingStatus.CANCELLED

    @property
    def communicated(self) -> bool:
        """Whether the participants hold it: an invitation went, or the event exists."""
        return bool(self.invited or self.remote_id)
