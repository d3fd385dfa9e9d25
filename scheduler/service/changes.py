"""A person's change to one meeting of the schedule: ``move``, ``cancel`` and ``held``.
Each commits the meeting (the planner takes it as given from then on), and everyone who was
told of it is told of the change: an update with the same UID and SEQUENCE+1 (RFC 5546
3.2.2), or a cancellation (RFC 5546 3.2.5).

``move`` refuses a time the rules would not choose (a weekend, a holiday, a blackout, the
night, the past, a clash with the convener's other meeting) unless forced with a reason,
which is kept. ``move``, ``cancel`` and ``held`` record the change and queue what it
causes; ``*_now`` (the command line's) also bring the schedule up to date first and send
at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path

from scheduler.errors import UserError
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus, Reason

from .bootstrap import Services
from .deliver import DeliveryReport, deliver
from .enqueue import raise_alerts
from .feeds import write_feeds
from .schedule import follow, refresh, tell


@dataclass(frozen=True)
class ChangeResult:
    record: MeetingRecord
    delivery: DeliveryReport
    counts: dict[str, int]
    silent: bool = False  # the documents name no convener: nobody is told of the change


class MoveRefused(UserError):
    """The new time breaks a rule; ``reasons`` say which, in words ``texts`` renders."""

    def __init__(self, uid: str, reasons: Sequence[Reason]) -> None:
        super().__init__(f"meeting {uid} cannot be moved there: "
                         + ", ".join(reason.key for reason in reasons))
        self.uid, self.reasons = uid, tuple(reasons)


def move(services: Services, uid: str, start: datetime, now: datetime, *,
         force: bool = False, why: str | None = None) -> MeetingRecord:
    """Move meeting ``uid`` to ``start`` (its length kept); queue the updates. With
    ``force``, a time the rules refuse is taken, and ``why`` (required) is kept."""
    record = _stored(services, uid)
    if record.cancelled:
        raise UserError(f"meeting {uid} is cancelled; it cannot be moved")
    if record.status is MeetingStatus.HELD:
        raise UserError(f"meeting {uid} is recorded as held; it cannot be moved")
    if force and not (why and why.strip()):
        raise UserError("--force needs --reason: say why the rules are set aside")
    begin = start.astimezone(services.tz)
    end = begin + (record.end - record.start)
    if begin == record.start:
        return record  # already there: nothing changes, nothing is sent again
    refusals = move_refusals(services, record, begin, end, now)
    if refusals and not force:
        raise MoveRefused(uid, refusals)
    moved = replace(record, start=begin, end=end, moved=True, committed=True,
                    sequence=record.sequence + (1 if record.communicated else 0),
                    previous=record.start, forced=why.strip() if refusals and why else None)
    _record(services, moved, Kind.UPDATE, now)
    follow(services, moved)
    return moved


def cancel(services: Services, uid: str, reason: str | None, now: datetime) -> MeetingRecord:
    """Cancel meeting ``uid``, ``reason`` going into the cancellation; queue it."""
    record = _stored(services, uid)
    if record.cancelled:
        return record
    if record.status is MeetingStatus.HELD:
        raise UserError(f"meeting {uid} is recorded as held; it cannot be cancelled")
    cancelled = replace(record, status=MeetingStatus.CANCELLED, reason=reason, committed=True,
                        sequence=record.sequence + (1 if record.communicated else 0))
    return _record(services, cancelled, Kind.CANCEL, now)


def held(services: Services, uid: str, now: datetime, *, on: date | None = None,
         present: Sequence[str] = (), minutes_url: str | None = None) -> MeetingRecord:
    """Record meeting ``uid`` as held (on ``on``, if not on its planned day), with the
    organisations ``present`` and a link to its minutes. Nothing is sent."""
    record = _stored(services, uid)
    if record.cancelled:
        raise UserError(f"meeting {uid} is cancelled; it cannot be recorded as held")
    day = on or record.start.astimezone(services.tz).date()
    if day > now.astimezone(services.tz).date():
        raise UserError(f"meeting {uid} on {day} is still ahead; record it once it has been held")
    unknown = sorted(set(present) - set(services.catalogue.organisations))
    if unknown:
        raise UserError(f"--present: unknown organisation {', '.join(map(repr, unknown))}; "
                        "use the ids of bodies/organisations.yaml (see `yhdyspinta bodies`)")
    if minutes_url is not None and not minutes_url.startswith(("https://", "http://")):
        raise UserError(f"--minutes: expected a web address such as https://…, got {minutes_url!r}")
    clock = record.start.astimezone(services.tz).time()
    start = datetime.combine(day, time(clock.hour, clock.minute), tzinfo=services.tz)
    done = replace(record, status=MeetingStatus.HELD, committed=True, start=start,
                   end=start + (record.end - record.start), present=tuple(sorted(set(present))),
                   minutes_url=minutes_url or record.minutes_url)
    services.store.save_meeting(done)
    return done


def move_refusals(services: Services, record: MeetingRecord, start: datetime, end: datetime,
                  now: datetime) -> list[Reason]:
    """Every rule a meeting from ``start`` to ``end`` would break (issue 9)."""
    day = start.date()
    refusals: list[Reason] = []
    if start < now:
        refusals.append(Reason("move-past", {"day": day}))
    blocked = services.calendar.blocked(day)
    if blocked is not None:
        refusals.append(Reason(f"blocked-{blocked.kind}", {"day": day, "label": blocked.label}))
    opens, closes = services.settings.planning.opening_hours
    if start.time() < opens or end.astimezone(services.tz).time() > closes or end.date() != day:
        refusals.append(Reason("move-office-hours", {"opens": opens.strftime("%H.%M"),
                                                     "closes": closes.strftime("%H.%M")}))
    body = services.catalogue.bodies.get(record.body)
    conveners = set(body.convener_ids) if body else set()
    for other in services.store.all_meetings():
        other_body = services.catalogue.bodies.get(other.body)
        if other.uid == record.uid or other.cancelled or other_body is None:
            continue
        shared = conveners.intersection(other_body.convener_ids)
        if shared and other.start.astimezone(services.tz).date() == day:
            refusals.append(Reason("convener-busy", {"day": day, "convener": min(shared),
                                                     "other": other.body}))
            break
    return refusals


def move_now(services: Services, uid: str, start: datetime, now: datetime, *,
             force: bool = False, why: str | None = None) -> ChangeResult:
    return _now(services, uid, now, lambda: move(services, uid, start, now, force=force, why=why))


def cancel_now(services: Services, uid: str, reason: str | None, now: datetime) -> ChangeResult:
    return _now(services, uid, now, lambda: cancel(services, uid, reason, now))


def held_now(services: Services, uid: str, now: datetime, *, on: date | None = None,
             present: Sequence[str] = (), minutes_url: str | None = None) -> ChangeResult:
    return _now(services, uid, now, lambda: held(services, uid, now, on=on, present=present,
                                                 minutes_url=minutes_url))


def _now(services: Services, uid: str, now: datetime, change: Callable[[], MeetingRecord]
         ) -> ChangeResult:
    """The schedule brought up to date first (so a meeting nobody has been told of yet is
    known), the change made, the schedule planned again around it (a cancelled meeting's
    replacement, issue 9), and what the change causes sent at once, for that meeting only."""
    _ = services.backend  # its settings checked before anything is written
    refresh(services, now, read_calendars=False)
    record = change()
    raise_alerts(services, refresh(services, now, read_calendars=False).plan, now)
    report = deliver(services, now, clock=lambda row: now, now=now, only=uid)
    write_feeds(services, Path(services.settings.delivery.feeds),
                services.settings.planning.language, now)
    body = services.catalogue.bodies[record.body]
    return ChangeResult(services.store.meeting(uid) or record, report, services.store.counts(),
                        silent=not body.conveners)


def _record(services: Services, changed: MeetingRecord, kind: Kind, now: datetime
            ) -> MeetingRecord:
    services.store.save_meeting(changed)
    tell(services, changed, kind, now)
    return changed


def _stored(services: Services, uid: str) -> MeetingRecord:
    record = services.store.meeting(uid)
    if record is None or record.body not in services.catalogue.bodies:
        raise UserError(f"no meeting with UID {uid!r}; see `yhdyspinta plan --format json`")
    return record
