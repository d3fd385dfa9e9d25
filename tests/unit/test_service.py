"""The use cases of the application layer over the real catalogue, with the in-memory
backend (a fake that keeps events and messages, not a mock) and a SQLite store: dispatch,
move, cancel, the due policy at work, the outbox's states, alerts, free/busy, answers."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar

from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.memory import MemoryBackend
from scheduler.delivery.ports import Backend, DeliveryUnavailable
from scheduler.errors import UserError
from scheduler.outbox.records import OutboxRow, State
from scheduler.planning.due import Missed
from scheduler.planning.records import Kind, MeetingStatus
from scheduler.service import changes, dispatch
from scheduler.service.answers import read_answers
from scheduler.service.bootstrap import Services
from scheduler.service.deliver import SENDING_LEASE, deliver
from scheduler.service.enqueue import enqueue_actions
from scheduler.service.freebusy import conveners_busy
from scheduler.service.schedule import plan
from tests.conftest import ROOT
from tests.integration.conftest import BROKEN, contacts_yaml
from tests.support.flow import services

CATALOGUE = load_catalogue(ROOT / "bodies")
KK = "kuntakokous-2027-1@yhdyspinta"
CONVENER = "kirjaamo@jyvaskyla.example"
WINTER = datetime(2027, 1, 5, 8, tzinfo=UTC)


def install(root: Path, memory: MemoryBackend, *, events: bool = False) -> Services:
    (root / "contacts.yaml").write_text(contacts_yaml(swedish=False), encoding="utf-8")
    backend = memory.as_backend() if events else Backend(memory)
    return services(root, CATALOGUE, backend)


@pytest.fixture
def memory() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def app(tmp_path: Path, memory: MemoryBackend) -> Services:
    return install(tmp_path, memory)


def starts(message: EmailMessage) -> datetime:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    start: datetime = event.decoded("DTSTART")
    return start


def kinds(memory: MemoryBackend, uid: str) -> Counter[str]:
    return Counter(str(m["X-Yhdyspinta-Action"]) for _, m in memory.sent
                   if str(m["X-Yhdyspinta-Meeting"]) == uid)


def test_dispatch_sends_what_is_due_once_and_again_nothing(app: Services, memory: MemoryBackend) -> None:
    first = dispatch.dispatch(app, WINTER, until=WINTER + timedelta(days=21))
    assert first.delivery.sent == len(memory.sent) > 0
    assert kinds(memory, KK)["invite"] == 22  # every participant but the broken address
    assert [line for line in first.delivery.failed if BROKEN not in line] == []
    again = dispatch.dispatch(app, WINTER + timedelta(hours=1), until=WINTER + timedelta(days=21))
    assert again.delivery.sent == 0 and len(memory.sent) == first.delivery.sent
    assert memory.closed >= 2  # connections released after each run


def test_a_meeting_moved_to_short_notice_is_announced_at_once(
    app: Services, memory: MemoryBackend
) -> None:
    """Issue 8: the invitations used to be dropped as older than 14 days."""
    moved = changes.move_now(app, KK, datetime(2027, 1, 7, 10, tzinfo=UTC), WINTER)
    assert moved.record.sequence == 0  # nobody was told yet: still the first version
    assert not kinds(memory, KK)  # nothing about it went yet (the coordinator's alerts did)
    result = dispatch.dispatch(app, WINTER)
    assert kinds(memory, KK)["invite"] == 22
    for _, message in memory.sent:
        if str(message["X-Yhdyspinta-Action"]) == "invite" and str(message["X-Yhdyspinta-Meeting"]) == KK:
            assert starts(message) == datetime(2027, 1, 7, 10, tzinfo=UTC)
    missed = Counter((m.row.kind, m.reason) for m in result.delivery.missed if m.row.meeting_uid == KK)
    assert missed[Kind.PREPARE, Missed.AGENDA_DUE] == 2  # the convener and its co-preparer
    assert missed[Kind.REQUEST_ITEMS, Missed.NO_REPLY_TIME] == 23  # the members, one unreachable
    assert kinds(memory, KK)["agenda"] == 1  # the convener is still reminded of the agenda
    assert dispatch.dispatch(app, WINTER + timedelta(minutes=5)).delivery.sent == 0


def test_a_late_item_request_names_a_reply_by_date_still_ahead(
    app: Services, memory: MemoryBackend
) -> None:
    dispatch.dispatch(app, WINTER)
    # The kuntakokous moved to 3.2.: its item request is late, the invitation day (13.1.)
    # a week away; three working days from Thursday 21.1. is Tuesday 26.1.
    changes.move(app, KK, datetime(2027, 2, 3, 10, tzinfo=UTC), WINTER)
    dispatch.dispatch(app, datetime(2027, 1, 21, 8, tzinfo=UTC))
    requests = [m for _, m in memory.sent if str(m["X-Yhdyspinta-Action"]) == "request_items"
                and str(m["X-Yhdyspinta-Meeting"]) == KK]
    assert len(requests) == 22
    text = requests[0].get_body(preferencelist=("plain",))
    assert text is not None and "26.1.2027" in text.get_content()


def test_missed_messages_are_recorded_with_their_reason(app: Services) -> None:
    result = dispatch.dispatch(app, datetime(2027, 3, 15, 8, tzinfo=UTC))
    missed = {m.row.key: m.reason for m in result.delivery.missed}
    assert missed
    stored = {row.key: row for row in app.store.rows()}
    for key, reason in missed.items():
        assert (stored[key].state, stored[key].reason) == (State.MISSED, reason)
    assert app.store.counts()["missed"] == len(missed)


def test_an_uncertain_message_is_looked_up_before_it_is_sent_again(
    app: Services, memory: MemoryBackend
) -> None:
    memory.lose_answers = 1  # the first message goes, its answer is lost
    first = dispatch.dispatch(app, WINTER)
    [uncertain] = [row for row in app.store.rows() if row.state is State.UNCERTAIN]
    assert any(line.endswith("uncertain: memory: the answer was lost") for line in first.delivery.retry)
    sent_before = len(memory.sent)
    dispatch.dispatch(app, WINTER + timedelta(minutes=10))
    assert len(memory.sent) == sent_before  # found, not sent a second time
    assert [m for k, m in memory.sent if k == uncertain.key] and \
        len([k for k, _ in memory.sent if k == uncertain.key]) == 1
    assert {row.key: row.state for row in app.store.rows()}[uncertain.key] is State.SENT


def test_a_row_left_sending_by_a_crash_is_taken_up_as_uncertain_after_the_lease(
    app: Services, memory: MemoryBackend
) -> None:
    dispatch.dispatch(app, WINTER)
    changes.move(app, KK, datetime(2027, 1, 7, 10, tzinfo=UTC), WINTER)
    enqueue_actions(app, WINTER)
    [row, *_] = [r for r in app.store.pending(WINTER) if r.kind is Kind.INVITE]
    assert app.store.claim(row, WINTER) is not None  # ...and the process dies here
    soon = deliver(app, WINTER, clock=lambda r: WINTER, now=WINTER + timedelta(minutes=1))
    assert soon.recovered == 0 and row.key not in {key for key, _ in memory.sent}
    later = WINTER + SENDING_LEASE + timedelta(minutes=1)
    after = deliver(app, WINTER, clock=lambda r: later, now=later)
    assert after.recovered == 1
    assert len([k for k, _ in memory.sent if k == row.key]) == 1
    assert {r.key: r.state for r in app.store.rows()}[row.key] is State.SENT


def test_a_claimed_row_is_not_taken_by_another_run(app: Services, memory: MemoryBackend) -> None:
    dispatch.dispatch(app, WINTER)
    changes.move(app, KK, datetime(2027, 1, 7, 10, tzinfo=UTC), WINTER)
    enqueue_actions(app, WINTER)
    [row, *_] = app.store.pending(WINTER)
    assert app.store.claim(row, WINTER) is not None
    assert app.store.claim(row, WINTER) is None  # the second claimant finds it gone


def test_a_transient_failure_waits_and_a_final_one_fails_only_its_row(
    app: Services, memory: MemoryBackend
) -> None:
    memory.faults.append(DeliveryUnavailable("memory: busy"))
    memory.refused.add("kirjaamo@laukaa.example")
    result = dispatch.dispatch(app, WINTER, until=WINTER + timedelta(days=21))
    assert len(result.delivery.retry) == 1 and "memory: busy" in result.delivery.retry[0]
    assert any("laukaa" in line and "refused" in line for line in result.delivery.failed)
    again = dispatch.dispatch(app, WINTER + timedelta(hours=1), until=WINTER + timedelta(days=21))
    assert again.delivery.sent == 1 and not again.delivery.retry


def test_an_event_backend_keeps_one_event_moved_and_cancelled_in_place(
    tmp_path: Path, memory: MemoryBackend
) -> None:
    app = install(tmp_path, memory, events=True)
    dispatch.dispatch(app, WINTER, until=WINTER + timedelta(days=21))
    [event] = memory.calendar(CONVENER)
    assert len(event.event.attendees) == 22
    record = app.store.meeting(KK)
    assert record is not None and (record.remote_id, record.channel) == (event.remote_id, "memory")
    memory.replies[event.remote_id] = {"kirjaamo@laukaa.example": "accepted"}
    assert read_answers(app, WINTER) == 1
    answered = app.store.meeting(KK)
    assert answered is not None and dict(answered.responses)["kirjaamo@laukaa.example"] == "accepted"

    changes.move_now(app, KK, record.start + timedelta(days=7), WINTER)
    [moved] = memory.calendar(CONVENER)
    assert moved.remote_id == event.remote_id and moved.event.start == record.start + timedelta(days=7)
    assert moved.event.sequence == 1
    changes.cancel_now(app, KK, "Päällekkäinen tilaisuus", WINTER)
    assert memory.calendar(CONVENER) == [] and memory.events[event.remote_id].comment == \
        "Päällekkäinen tilaisuus"


def test_an_alert_names_its_body_and_a_resolved_one_is_not_sent(
    app: Services, memory: MemoryBackend
) -> None:
    dispatch.dispatch(app, WINTER)
    alerts = [row for row in app.store.rows() if row.kind is Kind.ALERT]
    assert alerts and all(row.body and row.alert and row.meeting_uid is None for row in alerts)
    assert {row.body for row in alerts} >= {"kuntajohtajakokous"}
    stored = app.store.alerts()
    assert all(set(alert.messages) == {"fi", "sv", "en"} for alert in stored.values())
    app.store.raise_alerts([], WINTER)  # the plan no longer has these problems
    extra = OutboxRow(f"{alerts[0].alert}|alert|toinen@liitto.example", None, Kind.ALERT,
                      "toinen@liitto.example", 0, WINTER, body=alerts[0].body, alert=alerts[0].alert)
    app.store.add([extra])
    result = deliver(app, WINTER, clock=lambda row: WINTER, now=WINTER)
    assert result.skipped == 1 and not memory.messages_to("toinen@liitto.example")


def test_move_and_cancel_refuse_what_they_cannot_change(app: Services) -> None:
    dispatch.dispatch(app, WINTER)
    # The schedule keeps every meeting (issue 9): one nobody convenes is moved, nobody told.
    prep = changes.move(app, "kuntajohtajakokous-for-2027-1@yhdyspinta",
                        datetime(2027, 1, 12, 8, tzinfo=UTC), WINTER)
    assert prep.committed and app.store.rows(prep.uid) == []
    with pytest.raises(UserError, match="no meeting with UID"):
        changes.cancel(app, "eioleolemassa-2027-1@yhdyspinta", None, WINTER)
    changes.cancel(app, KK, None, WINTER)
    with pytest.raises(UserError, match="cancelled"):
        changes.move(app, KK, WINTER + timedelta(days=40), WINTER)
    cancelled = app.store.meeting(KK)
    assert cancelled is not None and cancelled.status is MeetingStatus.CANCELLED


def test_free_busy_names_the_calendars_it_could_not_read(tmp_path: Path, memory: MemoryBackend) -> None:
    app = install(tmp_path, memory, events=True)
    app = Services(app.settings.model_copy(update={
        "planning": app.settings.planning.model_copy(update={"freebusy": True})}),
        app.catalogue, app.blackouts, store=app.store, backend=app.backend, contacts=app.contacts)
    memory.unreadable.add("kirjaamo@liitto.example")
    free = plan(app, date(2027, 1, 1), date(2027, 12, 31), WINTER).plan
    [kk] = [m for m in free.meetings if m.uid == KK]
    memory.busy[CONVENER] = [(kk.start - timedelta(hours=1), kk.end)]
    read = conveners_busy(app, date(2027, 1, 1), date(2027, 12, 31))
    assert read is not None and read.unread == ("liitto",) and "jyvaskyla" in read.busy
    busy = plan(app, date(2027, 1, 1), date(2027, 12, 31), WINTER).plan
    [moved] = [m for m in busy.meetings if m.uid == KK]
    assert moved.day != kk.day


class AskedMemory(MemoryBackend):
    """Remembers whose calendars each free/busy call asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[set[str]] = []

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime]]]:
        self.asked.append(set(mailboxes))
        return super().free_busy(mailboxes, start, end)


def test_free_busy_is_read_once_per_plan_and_only_for_meetings_that_can_still_move(
        tmp_path: Path) -> None:
    """Issue 10: the conveners' calendars are read when the schedule is planned (not by a
    delivery run), and only for bodies with a meeting not yet decided."""
    memory = AskedMemory()
    app = install(tmp_path, memory, events=True)
    app = Services(app.settings.model_copy(update={
        "planning": app.settings.planning.model_copy(update={"freebusy": True})}),
        app.catalogue, app.blackouts, store=app.store, backend=app.backend, contacts=app.contacts)
    plan(app, date(2027, 1, 1), date(2027, 12, 31), WINTER)
    assert len(memory.asked) == 1 and CONVENER in memory.asked[0]  # the first plan asks all

    enqueue_actions(app, WINTER)
    deliver(app, WINTER, clock=lambda row: WINTER, now=WINTER)
    assert len(memory.asked) == 1  # delivering reads no calendar

    app.store.save_meetings(replace(r, committed=True) for r in app.store.all_meetings())
    plan(app, date(2027, 1, 1), date(2027, 12, 31), WINTER)
    assert len(memory.asked) == 1  # everything decided: nothing to read

    later = app.store.meeting("kuntakokous-2028-1@yhdyspinta")  # nobody told of it yet
    assert later is not None
    app.store.save_meeting(replace(later, committed=False))
    plan(app, date(2027, 1, 1), date(2027, 12, 31), WINTER)
    assert memory.asked[1:] == [{CONVENER}]  # only the convener of what can move
