"""Calendar files on disk: a subscribable ``<body-id>.ics`` per body from what was
communicated (rewritten on every run), and ``plan --ics``. Written whole and renamed into
place, so a reader never sees half a calendar."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from scheduler.errors import UserError
from scheduler.messaging.ical import FeedEvents, write_feed
from scheduler.messaging.render import Renderer, feed_events
from scheduler.planning.planner import Meeting, Plan
from scheduler.planning.records import MeetingStatus

from .bootstrap import Services


def write_ics(plan: Plan, renderer: Renderer, directory: Path, tzid: str, stamp: datetime) -> list[Path]:
    """One ``<body-id>.ics`` per body that has meetings in the plan; returns the files."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory}: a file is there; give a folder for the .ics files")
    directory.mkdir(parents=True, exist_ok=True)
    by_body: dict[str, list[Meeting]] = {}
    for meeting in plan.meetings:
        by_body.setdefault(meeting.body, []).append(meeting)
    written = []
    events = FeedEvents(stamp)
    for body_id, meetings in sorted(by_body.items()):
        path = directory / f"{body_id}.ics"
        tmp = path.with_suffix(".ics.tmp")
        with tmp.open("wb") as handle:
            write_feed(handle.write, tzid, renderer.name(body_id),
                       feed_events(meetings, renderer, events))
        tmp.replace(path)  # readers never see a half-written calendar
        written.append(path)
    return written




def write_feeds(services: Services, directory: Path, language: str, stamp: datetime) -> list[Path]:
    """A subscribable ``<body-id>.ics`` per body (no METHOD) from what was communicated:
    moved meetings at their new time, cancelled ones as STATUS:CANCELLED."""
    catalogue = services.catalogue
    meetings = tuple(
        Meeting(uid=r.uid, body=r.body, slot="", start=r.start, end=r.end,
                conveners=catalogue.bodies[r.body].convener_ids,
                organisations=catalogue.participants(catalogue.bodies[r.body], r.group),
                group=r.group, sequence=r.sequence,
                status=MeetingStatus.CANCELLED if r.cancelled else MeetingStatus.FIXED)
        for r in services.store.all_meetings() if r.body in catalogue.bodies
    )
    return write_ics(Plan(meetings, ()), Renderer(catalogue, language), directory, services.tzid,
                     stamp)
