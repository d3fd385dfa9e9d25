"""A person's change to one meeting: ``move`` and ``cancel``. Everyone who was told of the
meeting is told of the change: an update with the same UID and SEQUENCE+1 (RFC 5546 3.2.2),
or a cancellation (RFC 5546 3.2.5).

``move`` and ``cancel`` record the change and queue what it causes; ``move_now`` and
``cancel_now`` (the command line's) also send it at once and rewrite the feeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from scheduler.errors import UserError
from scheduler.outbox.records import EVERYONE
from scheduler.planning.planner import Plan
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus

from .bootstrap import Services
from .deliver import DeliveryReport, deliver
from .feeds import write_feeds
from .schedule import meeting_row, plan, sync, term_end


@dataclass(frozen=True)
class ChangeResult:
    record: MeetingRecord
    delivery: DeliveryReport
    counts: dict[str, int]


def move(services: Services, uid: str, start: datetime, now: datetime) -> MeetingRecord:
    """Move meeting ``uid`` to ``start`` (its length kept); queue the updates."""
    record = _stored(services, uid, now)
    if record.cancelled:
        raise UserError(f"meeting {uid} is cancelled; it cannot be moved")
    if start == record.start:
        return record  # already there: nothing changes, nothing is sent again
    begin = start.astimezone(services.tz)
    moved = replace(record, start=begin, end=begin + (record.end - record.start), moved=True,
                    sequence=record.sequence + (1 if _told(record) else 0),
                    previous=record.start)
    return _record(services, moved, Kind.UPDATE, now)


def cancel(services: Services, uid: str, reason: str | None, now: datetime) -> MeetingRecord:
    """Cancel meeting ``uid``, ``reason`` going into the cancellation; queue it."""
    record = _stored(services, uid, now)
    if record.cancelled:
        return record
    cancelled = replace(record, status=MeetingStatus.CANCELLED, reason=reason,
                        sequence=record.sequence + (1 if _told(record) else 0))
    return _record(services, cancelled, Kind.CANCEL, now)


def move_now(services: Services, uid: str, start: datetime, now: datetime) -> ChangeResult:
    return _now(services, uid, now, lambda: move(services, uid, start, now))


def cancel_now(services: Services, uid: str, reason: str | None, now: datetime) -> ChangeResult:
    return _now(services, uid, now, lambda: cancel(services, uid, reason, now))


def _now(services: Services, uid: str, now: datetime, change: Callable[[], MeetingRecord]
         ) -> ChangeResult:
    """The plan stored first (so that a meeting nobody has been told of yet is known), the
    change made, and what it causes sent at once, for that meeting only."""
    _ = services.backend  # its settings checked before anything is written
    today = now.astimezone(services.tz).date()
    sync(services, _term_plan(services, today), now)
    record = change()
    report = deliver(services, now, clock=lambda row: now, now=now, only=uid)
    write_feeds(services, Path(services.settings.delivery.feeds),
                services.settings.planning.language, now)
    return ChangeResult(services.store.meeting(uid) or record, report, services.store.counts())


def _record(services: Services, changed: MeetingRecord, kind: Kind, now: datetime
            ) -> MeetingRecord:
    services.store.save_meeting(changed)
    services.store.add(meeting_row(changed, kind, target, now)
                       for target in _told_whom(services, changed))
    return changed


def _stored(services: Services, uid: str, now: datetime) -> MeetingRecord:
    record = services.store.meeting(uid)
    if record is not None:
        return record
    today = now.astimezone(services.tz).date()
    meeting = next((m for m in _term_plan(services, today).meetings if m.uid == uid), None)
    if meeting is None:
        raise UserError(f"no meeting with UID {uid!r}; see `yhdyspinta plan --format json`")
    if not meeting.conveners:
        raise UserError(
            f"meeting {uid} is in the plan, but the documents name no convener for "
            f"{meeting.body!r}, so the service sends nothing for it and does not keep it; "
            f"name a convener in bodies/{meeting.body}.yaml to have it managed here")
    raise UserError(f"meeting {uid} is recorded as {meeting.status} in "
                    f"bodies/{meeting.body}.yaml; change it there")


def _term_plan(services: Services, today: date) -> Plan:
    return plan(services, date(today.year, 1, 1), term_end(services.catalogue, today),
                read_calendars=False).plan


def _told(record: MeetingRecord) -> bool:
    """Whether anyone holds the meeting: an invitation went, or the event exists."""
    return bool(record.invited or record.remote_id)


def _told_whom(services: Services, record: MeetingRecord) -> list[str]:
    """Who a change must reach: each invited address, or the event itself (EVERYONE)."""
    if services.backend.events is not None:
        return [EVERYONE] if record.remote_id else []
    return list(record.invited)
