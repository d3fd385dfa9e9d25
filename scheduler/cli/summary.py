"""What a run tells the operator: sent, failed, to retry, missed and skipped messages, the
outbox by state, and what could not be read of the conveners' calendars. Operator output
is English, like the logs; missed messages are grouped per meeting, kind and reason."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable

from scheduler.messaging.render import Renderer
from scheduler.messaging.texts import render
from scheduler.planning.due import Missed
from scheduler.planning.records import MeetingStatus
from scheduler.service.changes import ChangeResult, MoveRefused
from scheduler.service.deliver import DeliveryReport
from scheduler.service.dispatch import RunResult
from scheduler.service.freebusy import CalendarsRead
from scheduler.service.imports import Imported, ImportResult, Outcome, Why
from scheduler.service.privacy import Forgotten

MISSED_WORDS = {
    Missed.MEETING_BEGUN: "the meeting had begun",
    Missed.AGENDA_DUE: "the agenda was due already (its reminder went instead)",
    Missed.NO_REPLY_TIME: "no reply-by date was left before the agenda",
    Missed.FOLLOW_UP_LATE: "more than four weeks late",
}


def print_run(result: RunResult) -> int:
    return _print(result.delivery, result.counts)


def print_change(result: ChangeResult) -> int:
    record = result.record
    state = str(record.status) if record.status in (MeetingStatus.CANCELLED, MeetingStatus.HELD) \
        else record.start.isoformat()
    print(f"{record.uid}: {state} (SEQUENCE {record.sequence})")
    if result.silent:
        print(f"note: no convener is named for {record.body}: nobody is told of the change")
    return _print(result.delivery, result.counts)


def refusal(refused: MoveRefused, renderer: Renderer) -> str:
    """Why a move was refused, in the reader's language, and what to do about it."""
    lines = [render(r.key, r.params, renderer.language, renderer.name) for r in refused.reasons]
    how = FORCE_HINT[renderer.language]
    return "\n".join([f"{refused.uid}:", *(f"  - {line}" for line in lines), how])


FORCE_HINT = {
    "fi": "Valitse toinen aika, tai siirrä silti: --force --reason \"perustelu\".",
    "sv": "Välj en annan tid, eller flytta ändå: --force --reason \"motivering\".",
    "en": "Choose another time, or move it anyway: --force --reason \"why\".",
}


def _print(report: DeliveryReport, counts: dict[str, int]) -> int:
    """The summary line on stdout, the details on stderr; 1 when something did not go."""
    print(f"sent {report.sent}, failed {len(report.failed)}, to retry {len(report.retry)}, "
          f"missed {len(report.missed)}, skipped {report.skipped}; outbox: "
          + (", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or "empty"))
    for line in report.failed:
        print(f"failed: {line}", file=sys.stderr)
    for line in report.retry:
        print(f"will retry: {line}", file=sys.stderr)
    for line in _missed(report):
        print(f"missed: {line}", file=sys.stderr)
    if report.recovered:
        print(f"note: {report.recovered} message(s) left sending by an interrupted run are "
              "uncertain; they are looked up before being sent again", file=sys.stderr)
    return 1 if report.failed or report.retry else 0


def print_forgotten(done: Forgotten) -> None:
    """What ``forget`` erased, place by place, and what the operator must still do."""
    db = done.database
    when = done.at.strftime("%Y-%m-%d %H:%M %Z")
    print(f"{done.address}: erased {when}" if not done.nothing
          else f"{done.address}: nothing about this address is stored here ({when})")
    print(f"  outbox: {db.rows} message(s) now under a pseudonym, {db.stopped} of them not "
          f"yet sent (stopped: they will not go); {db.errors} other error text(s) cleared")
    print(f"  schedule: {db.meetings} meeting(s)' invitation list or answers, "
          f"{db.alerts} alert text(s)")
    if done.messages is None:
        print(f"  Maildir {done.maildir}: none there")
    else:
        print(f"  Maildir {done.maildir}: {done.messages} message(s) removed")
    if done.contacts:
        print("  still in the contacts file: remove them by hand, or the messages still to "
              "come go to them:")
        for line in done.contacts:
            print(f"    {line.file}:{line.line}: {line.text}")
    print("  not reached: copies outside this installation (the mail server, the recipients' "
          "mailboxes and calendars)")
    if db.sending:
        print(f"yhdyspinta: {db.sending} message(s) to them are being sent right now; run "
              "`forget` again once the delivery run has ended", file=sys.stderr)


def print_calendars(read: CalendarsRead | None) -> None:
    if read is None:
        return
    if read.failure:
        print(f"yhdyspinta: the conveners' calendars could not be read ({read.failure}); "
              "planning without them", file=sys.stderr)
    elif read.unread:
        print(f"yhdyspinta: the calendars of {', '.join(read.unread)} could not be read; "
              "their meetings are planned without them", file=sys.stderr)


def progress_bar() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _missed(report: DeliveryReport) -> list[str]:
    """One line per meeting and reason, naming the kinds: a first run after months lists
    each past meeting once or twice, not each of its hundreds of messages."""
    groups: dict[tuple[str, str, Missed], Counter[str]] = {}
    for missed in report.missed:
        row = missed.row
        key = (row.meeting_uid or row.alert or "", row.body, missed.reason)
        groups.setdefault(key, Counter())[row.kind] += 1
    return [f"{uid} ({body}): {MISSED_WORDS[reason]}: "
            + ", ".join(f"{kind} x{n}" for kind, n in kinds.items())
            for (uid, body, reason), kinds in groups.items()]


IMPORT_WORDS = {
    Why.CANCELLED_EVENT: "cancelled in the calendar",
    Why.AHEAD: "not yet past",
    Why.RECURRING: "a recurring event; record its meetings one by one with `held UID`",
    Why.NO_START: "{detail}",
    Why.NO_BODY: "its title names no body of the catalogue",
    Why.BODIES: "its title names more than one body ({bodies}); record it with `held UID`",
    Why.NO_MEETING: "the schedule has no meeting of {body} on {day}; if one of its meetings "
                    "was held that day instead, record it with `held UID --on {day}`",
    Why.MEETINGS: "the schedule has {count} meetings of {body} on {day} ({uids}); "
                  "record the right one with `held UID`",
    Why.OTHER_DAY: "{uid} is on {planned} in the schedule; if it was held on {day}, record "
                   "it with `held {uid} --on {day}`",
    Why.CANCELLED_MEETING: "{uid} is cancelled in the schedule",
    Why.REFUSED: "{detail}",
}


def print_import(result: ImportResult) -> int:
    """``held --import``: the meetings recorded held (one line each: UID, day, body), those
    held already, then every event not recorded and why; a count last. Exit 0: the file
    was read (see ``scheduler.service.imports``)."""
    for line in result.of(Outcome.RECORDED):
        print(f"held: {_meeting_line(line)} (by {line.by})")
    for line in result.of(Outcome.ALREADY):
        print(f"already held: {_meeting_line(line)}")
    for outcome, label in ((Outcome.SKIPPED, "skipped"), (Outcome.UNMATCHED, "not matched")):
        for line in result.of(outcome):
            print(f"{label}: {_event_line(line)}: {_import_why(line)}")
    counts = [(len(result.of(o)), words) for o, words in (
        (Outcome.RECORDED, "recorded held"), (Outcome.ALREADY, "already held"),
        (Outcome.SKIPPED, "skipped"), (Outcome.UNMATCHED, "not matched"))]
    events = len(result.events)
    print(f"{result.file}: {events} event{'' if events == 1 else 's'}"
          + ("" if not events else ": " + ", ".join(f"{n} {words}" for n, words in counts)))
    return 0


def _meeting_line(line: Imported) -> str:
    record = line.record
    assert record is not None
    return f"{record.uid} {record.start.date().isoformat()} {record.body}"


def _event_line(line: Imported) -> str:
    event = line.event
    title = f'"{event.summary}"' if event.summary else "(no title)"
    return f"{event.day.isoformat() if event.day else '(no date)'} {title}"


def _import_why(line: Imported) -> str:
    assert line.why is not None
    params = dict(line.params)
    if "bodies" in params:
        params["bodies"] = ", ".join(params["bodies"])
    if "uids" in params:
        params["count"] = len(params["uids"])
        params["uids"] = ", ".join(params["uids"])
    return IMPORT_WORDS[line.why].format(**params)
