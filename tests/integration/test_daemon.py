"""``yhdyspinta serve`` (issue 10) driven by a virtual clock, in-process: the ``Daemon``'s
jobs (``replan``, ``wake``, ``watch``) are called directly, so nothing waits for a real
timer. With ``daemon.scheduler`` left ``None`` a wake only records when the next one is
due (``daemon.wake_at``); the test decides when that is.

What is checked (reliability.md sections 1 and 4): Europe/Helsinki's DST nights (S7),
wall-clock jumps (S10, in the jobs and in the leader's main loop), the downtime policy
(S2), APScheduler's job settings and job store contents (S5, S6, X6), an invalid edit of
bodies/ keeping the last valid catalogue (F10), a command-line change beside the service,
and logs without addresses (X5). Every message is recognised in the Maildir by its
Message-ID, which derives from its outbox key.
"""

from __future__ import annotations

import io
import json
import logging
import mailbox
import os
import pickle
import re
import shutil
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from scheduler.catalogue.load import load_catalogue
from scheduler.daemon import jobs, runner
from scheduler.daemon.logs import configure, outbox_id, redact
from scheduler.daemon.runner import Daemon
from scheduler.messaging.mail import message_id
from scheduler.outbox.records import OutboxRow, State
from scheduler.outbox.tables import outbox
from scheduler.planning.records import Kind, MeetingRecord
from scheduler.service.bootstrap import Services, load_services
from scheduler.service.changes import cancel_now, move_now
from scheduler.service.schedule import meeting_row
from tests.conftest import ROOT
from tests.support.service import write_config

HELSINKI = ZoneInfo("Europe/Helsinki")
BODIES = ROOT / "bodies"
CONTACTS = ROOT / "config" / "contacts.example.yaml"
# The schedule is first planned here: before both DST nights of 2026 and every meeting used.
PLANNED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# A Monday after the spring meetings' invitations are due (their invitations go then).
MONDAY = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


# -- the rig ------------------------------------------------------------------------------------


class VirtualClock:
    """The time the daemon's use cases see; only the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@dataclass
class Rig:
    """One installation in ``folder`` (SQLite, Maildir) and a daemon over it."""

    folder: Path
    config: Path
    bodies: Path
    clock: VirtualClock
    daemon: Daemon
    opened: list[Services] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.daemon.services  # a valid reload replaces it (the store is kept)

    def wake_at(self, moment: datetime) -> None:
        self.clock.now = moment
        self.daemon.wake()

    def delivered(self) -> Counter[str]:
        """Message-IDs in the Maildir, with how many times each is there."""
        folder = self.folder / "outbox"
        found: Counter[str] = Counter()
        if not folder.is_dir():
            return found
        box = mailbox.Maildir(str(folder), create=False)
        for key in box.iterkeys():
            with box.get_file(key) as handle:
                head = re.split(rb"\r?\n\r?\n", handle.read(8192), maxsplit=1)[0]
            ids = _MESSAGE_ID.findall(head)
            assert len(ids) == 1, f"{key}: {len(ids)} Message-ID headers"
            found[ids[0].decode()] += 1
        return found

    def mid(self, row: OutboxRow) -> str:
        return message_id(row.key, self.services.uid_domain)

    def copies(self, row: OutboxRow) -> int:
        return self.delivered()[self.mid(row)]

    def stored(self, row: OutboxRow) -> dict[str, Any]:
        """The row's columns as stored (state, attempts, sent_at, reason)."""
        with self.services.store.engine.connect() as conn:
            found = conn.execute(select(outbox).where(outbox.c.key == row.key)).mappings().one()
        return dict(found)

    def sent_at(self, row: OutboxRow) -> datetime | None:
        text = self.stored(row)["sent_at"]
        return datetime.fromisoformat(text) if text else None

    def coming(self, after: datetime) -> list[MeetingRecord]:
        """Stored meetings of bodies with conveners (so messages go) starting after ``after``."""
        catalogue = self.services.catalogue
        return [r for r in self.services.store.all_meetings()
                if r.start > after and not r.cancelled and catalogue.bodies[r.body].conveners]

    def reminders(self, record: MeetingRecord, *dues: datetime) -> list[OutboxRow]:
        """Reminders of ``record`` due at ``dues``, each to an organisation mailbox that has
        no row of the meeting yet (so its key is new), stored."""
        store = self.services.store
        taken = {row.key for row in store.rows(record.uid)}
        boxes = sorted(box.email for box in self.services.contacts.mailboxes.values())
        rows: list[OutboxRow] = []
        for box in boxes:
            row = meeting_row(record, Kind.REMIND, box, dues[len(rows)])
            if row.key not in taken:
                rows.append(row)
            if len(rows) == len(dues):
                break
        assert len(rows) == len(dues), "not enough mailboxes for the reminders asked"
        assert store.add(rows) == len(rows)
        return rows


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """``serve(now, bodies=...)``: an installation in its own folder, its schedule planned
    by the daemon at ``now`` (``replan`` then ``wake``, as at start)."""
    made: list[Rig] = []

    def make(now: datetime, *, bodies: Path = BODIES, contacts: Path = CONTACTS) -> Rig:
        folder = tmp_path / "site"
        folder.mkdir()
        config = write_config(folder, f"sqlite:///{folder / 'state.db'}")
        if contacts != CONTACTS:
            text = config.read_text("utf-8")
            assert text.count(str(CONTACTS)) == 1
            config.write_text(text.replace(str(CONTACTS), str(contacts)), "utf-8")
        services = load_services(config, bodies)
        clock = VirtualClock(now)
        daemon = Daemon(services, bodies=bodies, config=config, clock=clock)
        rig = Rig(folder, config, bodies, clock, daemon, [services])
        made.append(rig)
        daemon.replan()
        assert daemon.started, "the first plan failed (see the log)"
        return rig

    yield make
    for rig in made:
        for services in {id(s): s for s in [*rig.opened, rig.daemon.services]}.values():
            services.close()


# -- S7: Europe/Helsinki's DST nights ------------------------------------------------------------

# 03:30 on 2026-03-29 does not exist in Helsinki (03:00 EET becomes 04:00 EEST). With
# fold=0, zoneinfo gives a time in the gap the offset from before the transition (PEP 495):
# +02:00, so the reminder is due at 01:30 UTC, which the wall clock shows as 04:30 EEST.
SPRING = datetime(2026, 3, 29, 3, 30, tzinfo=HELSINKI)
# 03:30 on 2026-10-25 happens twice (04:00 EEST becomes 03:00 EET). fold=0 is the first
# one, +03:00: 00:30 UTC. The second (fold=1, 01:30 UTC) must not send it again.
AUTUMN = datetime(2026, 10, 25, 3, 30, tzinfo=HELSINKI)


def test_zoneinfo_reads_the_two_nights_as_documented() -> None:
    assert SPRING.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert SPRING.astimezone(UTC).astimezone(HELSINKI).strftime("%H:%M %Z") == "04:30 EEST"
    assert AUTUMN.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert AUTUMN.replace(fold=1).astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("drive", ["10-minute-steps", "own-wakes"])
@pytest.mark.parametrize(("due", "instant"), [
    (SPRING, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    (AUTUMN, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
], ids=["spring-forward-gap", "fall-back-fold"])
def test_a_reminder_at_a_dst_edge_goes_once_at_its_instant(
    serve: Callable[..., Rig], due: datetime, instant: datetime, drive: str
) -> None:
    """The night from local midnight to 06:00, across the transition: the virtual clock
    moves in 10-minute steps of real time, or from each wake to the next one the daemon
    planned itself (which must then be exactly the reminder's instant)."""
    rig = serve(PLANNED)
    [meeting] = rig.coming(due + timedelta(days=1))[:1]
    [row] = rig.reminders(meeting, due)
    assert row.due == due
    [kept] = [r for r in rig.services.store.rows(meeting.uid) if r.key == row.key]
    assert kept.due == instant  # kept as that instant

    night = datetime(due.year, due.month, due.day, tzinfo=HELSINKI).astimezone(UTC)
    end = datetime(due.year, due.month, due.day, 6, tzinfo=HELSINKI).astimezone(UTC)

    def moments() -> Iterator[datetime]:
        moment = night
        while moment <= end:
            yield moment  # the test wakes the daemon at ``moment`` before resuming here
            if drive == "10-minute-steps":
                moment += timedelta(minutes=10)
            else:
                following = rig.daemon.wake_at
                assert following is not None and following > moment, \
                    f"after the wake at {moment} the next is at {following}"
                moment = following

    seen: list[datetime] = []
    went: list[datetime] = []
    for moment in moments():
        seen.append(moment)
        rig.wake_at(moment)
        copies = rig.copies(row)
        if moment < instant:
            assert copies == 0, f"sent early, at {moment} (due {instant})"
            assert rig.stored(row)["state"] == State.PENDING
            wake = rig.daemon.wake_at
            assert wake is not None and wake <= instant, \
                f"after the wake at {moment} the next is at {wake}, after the reminder's {instant}"
        else:
            assert copies == 1, f"{copies} copies in the Maildir at {moment}"
            if not went:
                went.append(moment)
    offsets = {moment.astimezone(HELSINKI).utcoffset() for moment in seen}
    assert len(offsets) == 2, "the night did not cross the transition"
    first = min(moment for moment in seen if moment >= instant)
    if drive == "own-wakes":
        assert first == instant, "the daemon did not plan a wake at the reminder's instant"
    stored = rig.stored(row)
    assert went == [first]
    assert (stored["state"], stored["attempts"]) == (State.SENT, 1)
    assert rig.sent_at(row) == first
    assert all(count == 1 for count in rig.delivered().values()), "a message went twice"


# -- S10: wall-clock jumps -----------------------------------------------------------------------


def test_clock_jumps_forward_then_back(serve: Callable[..., Rig]) -> None:
    rig = serve(MONDAY)
    [meeting] = rig.coming(MONDAY + timedelta(days=2))[:1]
    dues = (MONDAY + timedelta(minutes=20), MONDAY + timedelta(hours=1),
            MONDAY + timedelta(hours=2, minutes=50), MONDAY + timedelta(hours=3, minutes=30))
    *across, later = rig.reminders(meeting, *dues)
    rig.wake_at(MONDAY)
    assert [rig.copies(r) for r in [*across, later]] == [0, 0, 0, 0]

    # +3 h: one wake sends the three due meanwhile, once, coalesced into that run.
    jumped = rig.clock.advance(timedelta(hours=3))
    rig.daemon.wake()
    assert [rig.copies(r) for r in across] == [1, 1, 1]
    assert [rig.sent_at(r) for r in across] == [jumped] * 3
    assert rig.copies(later) == 0 and rig.stored(later)["state"] == State.PENDING
    before = rig.delivered()

    # -1 h: nothing goes again, and the row due later does not go early.
    rig.clock.advance(timedelta(hours=-1))
    rig.daemon.wake()
    rig.daemon.watch()
    assert rig.delivered() == before
    assert [(rig.stored(r)["state"], rig.stored(r)["attempts"]) for r in across] \
        == [(State.SENT, 1)] * 3
    assert rig.stored(later)["state"] == State.PENDING

    # Back to and past the last due time: only that one goes.
    rig.wake_at(dues[-1])
    after = rig.delivered()
    assert after - before == Counter({rig.mid(later): 1})
    assert all(count == 1 for count in after.values())


def test_the_leader_loop_remakes_the_jobs_after_a_wall_clock_jump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """S10 in the real main loop: the wall clock drifting from the monotonic one by more
    than CLOCK_JUMP makes the jobs again (+3 h, then -1 h); nothing else does."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    services = load_services(config, BODIES)
    daemon = Daemon(services, bodies=BODIES, config=config)
    ran: Counter[str] = Counter()
    monkeypatch.setattr(daemon, "replan", lambda: ran.update(["replan"]))
    monkeypatch.setattr(daemon, "wake", lambda: ran.update(["wake"]))
    monkeypatch.setattr(daemon, "watch", lambda: ran.update(["watch"]))
    made: list[bool] = []
    remake = daemon._jobs

    def spy(scheduler: Any, *, first: bool) -> None:
        made.append(first)
        remake(scheduler, first=first)

    monkeypatch.setattr(daemon, "_jobs", spy)
    offset = [0.0]
    read = threading.Event()  # the loop has read the wall clock once, before any jump
    real_time = time.time

    def wall() -> float:
        moment = real_time() + offset[0]
        read.set()
        return moment

    monkeypatch.setattr(runner, "time", types.SimpleNamespace(time=wall,
                                                              monotonic=time.monotonic))

    def remade(count: int) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if made.count(False) >= count:
                return True
            time.sleep(0.05)
        return False

    jobs.register(daemon.id, daemon)
    caplog.set_level(logging.WARNING, logger="yhdyspinta.service")
    leader = threading.Thread(target=daemon._lead, name="test-leader", daemon=True)
    try:
        leader.start()
        assert read.wait(10)
        offset[0] = 3 * 3600.0
        assert remade(1), "a +3 h jump did not make the jobs again"
        offset[0] = 2 * 3600.0
        assert remade(2), "a -1 h jump did not make the jobs again"
    finally:
        daemon.stop()
        leader.join(15)
        jobs.unregister(daemon.id)
        services.close()
    assert not leader.is_alive()
    assert made.count(True) == 1 and made.count(False) == 2
    jumps = [r.getMessage() for r in caplog.records if "clock jumped" in r.getMessage()]
    assert len(jumps) == 2 and "+10800" in jumps[0] and "-3600" in jumps[1], jumps
    assert ran["replan"] == 1  # the first plan, once; the jumps do not plan again


# -- S2: downtime -------------------------------------------------------------------------------


def test_downtime_sends_what_still_helps_and_records_the_rest_missed(
    serve: Callable[..., Rig]
) -> None:
    rig = serve(PLANNED)
    first, second, *rest = rig.coming(PLANNED + timedelta(days=2))
    ahead = next(r for r in rest if r.start > second.start + timedelta(days=2))
    down = first.start - timedelta(hours=2)
    back = second.start + timedelta(hours=1)
    assert back > down + timedelta(hours=2)  # "down for hours"

    rig.wake_at(down)  # the last wake before the service goes down
    [late] = rig.reminders(ahead, first.start - timedelta(hours=1))
    [past_one] = rig.reminders(first, first.start - timedelta(hours=1))
    [past_two] = rig.reminders(second, second.start - timedelta(hours=1))
    mine = (late, past_one, past_two)
    assert all(rig.copies(r) == 0 for r in mine)
    rig.daemon.services.close()

    # Hours later the service starts again: its first plan and wake, by the due policy.
    services = load_services(rig.config, BODIES)
    rig.opened.append(services)
    rig.clock.now = back
    rig.daemon = Daemon(services, bodies=BODIES, config=rig.config, clock=rig.clock)
    rig.daemon.replan()
    assert rig.copies(late) == 1
    assert (rig.stored(late)["state"], rig.sent_at(late)) == (State.SENT, back)
    for row in (past_one, past_two):
        stored = rig.stored(row)
        assert rig.copies(row) == 0, f"{row.key} was sent after its meeting began"
        assert (stored["state"], stored["reason"], stored["attempts"]) \
            == (State.MISSED, "meeting-begun", 0)

    before = rig.delivered()
    rig.wake_at(back + timedelta(minutes=5))
    assert rig.delivered() == before
    assert [rig.stored(r)["state"] for r in mine] == [State.SENT, State.MISSED, State.MISSED]


# -- X6, S5, S6: the APScheduler jobs ------------------------------------------------------------


def test_jobs_hold_only_the_instance_id_and_are_made_again_without_duplicates(
    serve: Callable[..., Rig]
) -> None:
    rig = serve(MONDAY)
    daemon = rig.daemon
    [meeting] = rig.coming(MONDAY + timedelta(days=2))[:1]
    [soon] = rig.reminders(meeting, MONDAY + timedelta(minutes=2))
    scheduler = daemon._scheduler()
    scheduler.start(paused=True)  # job defaults are applied as the jobs go into the store
    try:
        first = {job.id: job for job in scheduler.get_jobs()}
        assert set(first) == {"replan-now", "replan", "watch", "expire", "expire-now"}
        daemon._jobs(scheduler, first=False)
        again = scheduler.get_jobs()
        daemon._jobs(scheduler, first=False)
        once_more = scheduler.get_jobs()
        assert len(once_more) == len(again) == len(first) + 1  # the wake, once
        assert sorted(job.id for job in once_more) == sorted({job.id for job in once_more})

        # The wake is made from the tables: the earliest waiting row.
        wake = scheduler.get_job("wake")
        assert wake.trigger.run_date == soon.due

        addresses = contact_addresses()
        for job in once_more:
            assert tuple(job.args) == (daemon.id,), (job.id, job.args)
            assert job.kwargs == {}, (job.id, job.kwargs)
            assert job.func.__module__ == "scheduler.daemon.jobs", job.func
            assert job.func_ref == f"scheduler.daemon.jobs:{job.func.__name__}"
            assert job.misfire_grace_time is None, (job.id, job.misfire_grace_time)
            assert job.coalesce is True and job.max_instances == 1
            # What a persistent job store would keep: ids only.
            state = pickle.loads(pickle.dumps(job.__getstate__()))
            assert tuple(state["args"]) == (daemon.id,) and state["kwargs"] == {}
            kept = pickle.dumps(job.__getstate__()).decode("latin-1")
            assert not [a for a in addresses if a in kept], job.id
            assert "@" not in kept, f"{job.id}: an address-like value in the pickled job"
    finally:
        scheduler.shutdown(wait=False)


def test_a_wake_missed_by_minutes_still_runs_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """S6: a wake 3 min 5 s late (the process was suspended, the clock jumped) runs once;
    APScheduler's default grace of 1 s would skip it with a warning."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    services = load_services(config, BODIES)
    daemon = Daemon(services, bodies=BODIES, config=config)  # the real clock
    ran: Counter[str] = Counter()
    monkeypatch.setattr(daemon, "replan", lambda: ran.update(["replan"]))
    monkeypatch.setattr(daemon, "wake", lambda: ran.update(["wake"]))
    monkeypatch.setattr(daemon, "watch", lambda: ran.update(["watch"]))
    jobs.register(daemon.id, daemon)
    scheduler = daemon._scheduler()
    now = datetime.now(UTC)
    daemon._plan_wake(scheduler, now, when=now - timedelta(minutes=3, seconds=5))
    try:
        scheduler.start()
        deadline = time.monotonic() + 10
        while ran["wake"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # a second run would come now
    finally:
        scheduler.shutdown(wait=True)
        jobs.unregister(daemon.id)
        services.close()
    assert ran["wake"] == 1 and ran["replan"] == 1, ran


# -- F10: an invalid edit keeps the last valid catalogue ------------------------------------------


def touch(path: Path, later_than: Path | None = None) -> None:
    """A modification time the watcher cannot miss (coarse file-system clocks)."""
    base = (later_than or path).stat().st_mtime_ns
    moment = max(base, time.time_ns()) + 2_000_000_000
    os.utime(path, ns=(moment, moment))


def test_an_invalid_edit_keeps_the_last_valid_catalogue(
    tmp_path: Path, serve: Callable[..., Rig]
) -> None:
    bodies = tmp_path / "bodies"
    shutil.copytree(BODIES, bodies)
    rig = serve(MONDAY, bodies=bodies)
    daemon = rig.daemon
    valid = daemon.services.catalogue
    assert valid == load_catalogue(BODIES)
    assert daemon.ready()[0]

    # One valid edit and one invalid: the reload is all or nothing.
    renamed = bodies / "vaikuttamisryhma.yaml"
    name = 'fi: "Keski-Suomen vaikuttamisryhmä"'
    renamed.write_text(renamed.read_text("utf-8").replace(name, name[:-1] + ' (uusi)"'), "utf-8")
    broken = bodies / "kuntakokous.yaml"
    original = broken.read_text("utf-8")
    assert original.count('  start: "12:00"\n') == 1
    broken.write_text(original.replace('  start: "12:00"\n', "  start: 12:30\n"), "utf-8")
    touch(broken)
    touch(renamed)
    line = broken.read_text("utf-8").splitlines().index("  start: 12:30") + 1

    daemon.watch()
    ok, body = daemon.ready()
    assert not ok
    assert body["catalogue"] == "invalid"
    assert f"kuntakokous.yaml:{line}" in body["problems"], body["problems"]
    assert "12:30" in body["problems"]
    assert daemon.metrics.registry.get_sample_value("yhdyspinta_catalogue_valid") == 0
    assert daemon.services.catalogue is valid  # neither edit applied
    daemon.watch()  # nothing changed since: still shown, not forgotten
    assert daemon.ready()[1]["catalogue"] == "invalid"

    # Meanwhile the service goes on delivering with the last valid catalogue.
    [meeting] = rig.coming(MONDAY + timedelta(days=2))[:1]
    [row] = rig.reminders(meeting, MONDAY + timedelta(minutes=1))
    rig.wake_at(MONDAY + timedelta(minutes=2))
    assert rig.copies(row) == 1 and rig.stored(row)["state"] == State.SENT

    # Fixed: valid again, and the whole edit (the renamed body too) is now in use.
    broken.write_text(original, "utf-8")
    touch(broken, later_than=renamed)
    rig.clock.advance(timedelta(minutes=1))
    daemon.watch()
    ok, body = daemon.ready()
    assert ok, body
    assert body["catalogue"] == "valid" and "problems" not in body
    assert daemon.metrics.registry.get_sample_value("yhdyspinta_catalogue_valid") == 1
    assert daemon.services.catalogue.bodies["vaikuttamisryhma"].name.fi.endswith("(uusi)")
    assert daemon.services.store is rig.opened[0].store  # the store was kept
    assert rig.copies(row) == 1


# -- a change made beside the service -------------------------------------------------------------


def test_a_move_from_the_command_line_takes_effect_at_once(serve: Callable[..., Rig]) -> None:
    rig = serve(MONDAY)  # the spring meetings' invitations go now (late, still ahead)
    daemon = rig.daemon
    [meeting] = [r for r in rig.coming(MONDAY) if r.invited][:1]
    assert not [r for r in rig.services.store.rows(meeting.uid) if r.kind is Kind.REMIND]

    # `yhdyspinta move` in another process: to tomorrow, so its reminder is due already.
    rig.clock.advance(timedelta(minutes=1))
    beside = load_services(rig.config, BODIES)
    rig.opened.append(beside)
    tomorrow = (MONDAY + timedelta(days=1)).astimezone(HELSINKI).replace(hour=13, minute=0)
    result = move_now(beside, meeting.uid, tomorrow, rig.clock.now, force=True,
                      why="the hall is booked")
    updates = [r for r in beside.store.rows(meeting.uid) if r.kind is Kind.UPDATE]
    assert updates and len(updates) == len(meeting.invited)
    assert result.delivery.sent == len(updates)
    assert not [r for r in beside.store.rows(meeting.uid) if r.kind is Kind.REMIND]
    told = rig.delivered()

    daemon.watch()  # notices the schedule changed and delivers now, not at the next wake
    assert daemon.stamp == rig.services.store.schedule_stamp()
    reminders = [r for r in rig.services.store.rows(meeting.uid) if r.kind is Kind.REMIND]
    assert reminders, "the moved meeting's reminder (due already) was not enqueued"
    assert all(r.state is State.SENT for r in reminders)
    for row in updates:
        assert rig.copies(row) == 1
        assert (rig.stored(row)["state"], rig.stored(row)["attempts"]) == (State.SENT, 1)
    after = rig.delivered()
    assert set(told) <= set(after)
    assert all(count == 1 for count in after.values()), "a message went twice"
    assert {rig.mid(r) for r in reminders} <= set(after) - set(told)

    rig.clock.advance(timedelta(minutes=1))
    daemon.watch()
    daemon.wake()
    assert rig.delivered() == after


def test_a_cancel_from_the_command_line_stops_what_would_still_go(
    serve: Callable[..., Rig]
) -> None:
    rig = serve(MONDAY)
    daemon = rig.daemon
    [meeting] = [r for r in rig.coming(MONDAY) if r.invited][:1]
    [waiting] = rig.reminders(meeting, MONDAY + timedelta(minutes=3))

    rig.clock.advance(timedelta(minutes=1))
    beside = load_services(rig.config, BODIES)
    rig.opened.append(beside)
    cancel_now(beside, meeting.uid, "no items", rig.clock.now)
    cancels = [r for r in beside.store.rows(meeting.uid) if r.kind is Kind.CANCEL]
    assert cancels and len(cancels) == len(meeting.invited)
    told = rig.delivered()

    rig.clock.advance(timedelta(minutes=5))  # the reminder is due now
    daemon.watch()
    assert daemon.stamp == rig.services.store.schedule_stamp()
    stored = rig.stored(waiting)
    assert rig.copies(waiting) == 0
    assert (stored["state"], stored["reason"]) == (State.SKIPPED, "cancelled")
    for row in cancels:
        assert rig.copies(row) == 1
        assert (rig.stored(row)["state"], rig.stored(row)["attempts"]) == (State.SENT, 1)
    # What the service sends now is about other meetings (the cancelled one's proposed
    # replacement, say): nothing more about this one, nothing twice.
    after = rig.delivered()
    about = {rig.mid(r) for r in rig.services.store.rows(meeting.uid)}
    assert not (set(after) - set(told)) & about
    assert all(count == 1 for count in after.values()), "a message went twice"


# -- X5: logs carry ids, never addresses ----------------------------------------------------------


def contact_addresses(path: Path = CONTACTS) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and "@" in node:
            found.add(node)

    walk(yaml.safe_load(path.read_text("utf-8")))
    return found


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The service's JSON log at DEBUG into a buffer; the root logger restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("alembic", "apscheduler")}
    stream = io.StringIO()
    handler = configure("json", "DEBUG", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for old in handlers:
            root.addHandler(old)
        root.setLevel(level)
        for name, old_level in quiet.items():
            logging.getLogger(name).setLevel(old_level)


def test_the_log_names_bodies_and_meetings_never_addresses(
    serve: Callable[..., Rig], captured: io.StringIO
) -> None:
    rig = serve(MONDAY)  # plans, sends invitations and alerts, records the past as missed
    [meeting] = rig.coming(MONDAY + timedelta(days=2))[:1]
    rig.reminders(meeting, MONDAY + timedelta(minutes=1))
    rig.wake_at(MONDAY + timedelta(minutes=2))
    counts = rig.services.store.counts()
    assert counts.get(State.SENT, 0) > 0 and counts.get(State.MISSED, 0) > 0

    text = captured.getvalue()
    entries = [json.loads(line) for line in text.splitlines()]
    assert entries, "nothing was logged"
    addresses = contact_addresses()
    assert addresses
    leaked = sorted(a for a in addresses if a in text)
    assert not leaked, f"addresses in the log: {leaked}"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", text), "an address-like value in the log"

    missed = [e for e in entries if e["message"].startswith("missed:")]
    assert missed and all({"body", "meeting", "outbox"} <= set(e) for e in missed)
    uids = {r.uid for r in rig.services.store.all_meetings()}
    bodies = set(rig.services.catalogue.bodies)
    assert all(e["meeting"] in uids and e["body"] in bodies for e in missed)
    keys = {outbox_id(r.key) for r in rig.services.store.rows()}
    assert all(re.fullmatch(r"[0-9a-f]{12}", e["outbox"]) and e["outbox"] in keys
               for e in missed)
    assert any("delivered:" in e["message"] for e in entries)


# Addresses the delivery refuses (reliability.md F11): a row to one fails, and its line in
# the log names the recipient, which is exactly what the address pattern does not match.
BAD_ADDRESSES = {"laukaa": "matti@", "multia": '" "@multia.example',
                 "keuruu": "rikki osoite@keuruu.example"}


def test_the_log_names_no_address_the_delivery_refused(
    tmp_path: Path, serve: Callable[..., Rig], captured: io.StringIO
) -> None:
    contacts = yaml.safe_load(CONTACTS.read_text("utf-8"))
    contacts["people"] += [{"name": f"Henkilö {org}", "email": email, "organisation": org,
                            "bodies": ["vaikuttamisryhma"]} for org, email in BAD_ADDRESSES.items()]
    path = tmp_path / "contacts.yaml"
    path.write_text(yaml.safe_dump(contacts, allow_unicode=True), "utf-8")
    rig = serve(MONDAY, contacts=path)  # vaikuttamisryhma's invitations go now
    failed = [r for r in rig.services.store.rows() if r.state is State.FAILED]
    assert {r.recipient for r in failed} == set(BAD_ADDRESSES.values())
    assert all("invalid address" in (r.error or "") for r in failed)

    messages = [json.loads(line)["message"] for line in captured.getvalue().splitlines()]
    assert any(m.startswith("failed:") for m in messages)
    leaked = sorted({a for a in BAD_ADDRESSES.values() for m in messages
                     if a in m or a.split("@")[0] in m})
    assert not leaked, [m for m in messages if m.startswith("failed:")]


def test_redact_removes_addresses_and_credentials() -> None:
    line = ("SMTP 550 for kirjaamo@jyvaskyla.example and Esimerkki.Henkilo+x@hva.example; "
            "login password=hunter2 then Bearer eyJhbGciOi.abc.def token: s3cr3t secret=xyz")
    out = redact(line)
    for gone in ("kirjaamo@jyvaskyla.example", "Henkilo+x@hva.example", "hunter2",
                 "eyJhbGciOi", "s3cr3t", "xyz", "@"):
        assert gone not in out, (gone, out)
    assert out.count("<address>") == 2
    assert "password=<redacted>" in out and "SMTP 550" in out
    assert redact("meeting vaikuttamisryhma-2026-1 (body vaikuttamisryhma)") \
        == "meeting vaikuttamisryhma-2026-1 (body vaikuttamisryhma)"


@pytest.mark.parametrize(("line", "secret"), [
    ("send: Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi"),
    ("send: Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),  # user:hunter2
    ("headers {'Authorization': 'Basic dXNlcjpodW50ZXIy'}", "dXNlcjpodW50ZXIy"),
], ids=["header-bearer", "header-basic", "dict-basic"])
def test_redact_hides_an_authorization_header_value(line: str, secret: str) -> None:
    """X5: no ``Authorization:`` value and no base64 of user:pass in a log, in the forms an
    HTTP client's debug output quotes a header (the scheme, then the credential)."""
    out = redact(line)
    assert secret not in out, out


def test_the_log_redacts_whatever_a_record_carries(captured: io.StringIO) -> None:
    log = logging.getLogger("yhdyspinta.test")
    log.error("sending to %s failed: %s", "kirjaamo@laukaa.example", "password=hunter2")
    try:
        raise RuntimeError("535 rejected user yhdyspinta@liitto.example")
    except RuntimeError:
        log.exception("delivery")
    text = captured.getvalue()
    assert "@" not in text and "hunter2" not in text, text
    assert "<address>" in text and "RuntimeError" in text
