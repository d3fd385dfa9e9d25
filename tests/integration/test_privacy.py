"""Personal data erased (issue 10, point 7): ``[retention]`` past the meeting, and one
person with ``forget``, on both engines the store supports (SQLite, and the machine's
PostgreSQL in a schema of its own), over the real catalogue and the in-memory backend;
then ``yhdyspinta forget`` on the command line over a whole installation."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.memory import MemoryBackend
from scheduler.delivery.ports import Backend, DeliveryUnavailable
from scheduler.errors import UserError
from scheduler.outbox.records import EVERYONE, OutboxRow, State
from scheduler.outbox.retention import FORGOTTEN, Erased, erased_key, is_erased, pseudonym
from scheduler.outbox.store import open_store
from scheduler.outbox.tables import alerts, meetings, outbox
from scheduler.service import dispatch, privacy
from scheduler.service.answers import read_answers
from scheduler.service.bootstrap import Services
from scheduler.service.schedule import attendee_changes
from tests.conftest import HELSINKI, ROOT
from tests.integration.conftest import SWEDISH, Installation, at, contacts_yaml
from tests.support.databases import database
from tests.support.flow import Flow, services

CATALOGUE = load_catalogue(ROOT / "bodies")
KK = "kuntakokous-2027-1@yhdyspinta"  # 11.2.2027: its invitations go in January
COORDINATOR = "koordinaattori@liitto.example"
WINTER = datetime(2027, 1, 5, 8, tzinfo=UTC)
UNTIL = WINTER + timedelta(days=21)
# 13 months before 1.2.2027 is 1.1.2026: the meetings of 2025 are past retention, those of
# 2026 and 2027 are not. 13 months before 1.4.2028 is 1.3.2027: KK is past it too.
EARLY, EARLY_CUTOFF = datetime(2027, 2, 1, 8, tzinfo=UTC), datetime(2026, 1, 1, 10, tzinfo=HELSINKI)
LATE = datetime(2028, 4, 1, 8, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def memory() -> MemoryBackend:
    return MemoryBackend()


def install(root: Path, memory: MemoryBackend, url: str, *, events: bool = False) -> Services:
    (root / "contacts.yaml").write_text(contacts_yaml(), encoding="utf-8")
    app = services(root, CATALOGUE, memory.as_backend() if events else Backend(memory),
                   database=url)
    # The Maildir outbox in the test's folder, never the working directory's var/outbox.
    delivery = app.settings.delivery.model_copy(update={"maildir": str(root / "outbox")})
    app.settings = app.settings.model_copy(update={"delivery": delivery})
    return app


@pytest.fixture
def app(tmp_path: Path, memory: MemoryBackend, url: str) -> Iterator[Services]:
    found = install(tmp_path, memory, url)
    yield found
    found.close()


def by_key(app: Services) -> dict[str, OutboxRow]:
    return {row.key: row for row in app.store.rows()}


def stored(app: Services) -> str:
    """Every value of every table, as text: what a search of the database would find."""
    with app.store.engine.connect() as conn:
        return "\n".join(repr(tuple(row)) for table in (meetings, outbox, alerts)
                         for row in conn.execute(select(table)))


def personal(row: OutboxRow) -> bool:
    return row.recipient != EVERYONE and not is_erased(row.recipient)


# -- retention --------------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "cutoff"), [
    (EARLY, EARLY_CUTOFF),
    (datetime(2027, 3, 31, 9, tzinfo=UTC), datetime(2027, 2, 28, 12, tzinfo=HELSINKI)),
    (datetime(2028, 1, 15, 12, tzinfo=UTC), datetime(2026, 12, 15, 14, tzinfo=HELSINKI)),
])
def test_the_cutoff_is_calendar_months_back_in_the_installations_zone(
    now: datetime, cutoff: datetime
) -> None:
    months = 1 if now.month == 3 else 13
    found = privacy.cutoff(now, months, HELSINKI)
    assert found == cutoff and found.utcoffset() == cutoff.utcoffset()


def test_expiry_erases_only_the_done_rows_of_meetings_past_retention(
    app: Services, memory: MemoryBackend
) -> None:
    memory.faults = [DeliveryUnavailable("memory: busy")]  # the first message waits for a retry
    memory.refused = {SWEDISH}  # her rows fail, their error quoting her address
    dispatch.dispatch(app, WINTER, until=UNTIL)
    before = by_key(app)
    [waiting] = [row for row in before.values() if row.state.waiting]
    ends = {record.uid: record.end for record in app.store.all_meetings()}
    old = {key for key, row in before.items()
           if row.meeting_uid and ends[row.meeting_uid] < EARLY_CUTOFF}
    assert waiting.meeting_uid == KK and old and len(old) < len(before)

    first = privacy.expire(app, EARLY)
    after = by_key(app)
    assert first.rows == len(old)
    for key in old:  # every row of 2025 was done (missed): each is under its pseudonym now
        row = before[key]
        erased = after[erased_key(key, row.recipient)]
        assert erased.recipient == pseudonym(row.recipient) != row.recipient
        assert (erased.state, erased.kind, erased.sequence) == (row.state, row.kind, row.sequence)
        assert row.recipient not in erased.key
    assert {k: r for k, r in after.items() if not is_erased(r.recipient)} == \
        {k: r for k, r in before.items() if k not in old}  # 2026 and 2027 as they were

    invited = app.store.meeting(KK)
    assert invited is not None and SWEDISH not in invited.invited  # refused: never held it
    second = privacy.expire(app, LATE)
    after = by_key(app)
    assert after[waiting.key] == waiting  # still waiting: kept until it is done
    assert [row.key for row in after.values() if personal(row) and row.meeting_uid] == [waiting.key]
    alerted = {key: row for key, row in before.items() if row.alert}
    assert alerted and all(after[key] == row for key, row in alerted.items())  # not a meeting's
    assert second.rows == len(before) - len(old) - 1 - len(alerted)
    record = app.store.meeting(KK)
    assert record is not None and second.meetings == 1
    assert len(record.invited) == len(invited.invited) and all(map(is_erased, record.invited))
    assert SWEDISH not in stored(app)  # nor in an error text


def test_expiry_runs_again_without_change_and_nothing_comes_back(app: Services) -> None:
    dispatch.dispatch(app, WINTER, until=UNTIL)
    privacy.expire(app, LATE)
    erased = stored(app)
    assert privacy.expire(app, LATE) == Erased()
    assert stored(app) == erased
    # The next runs of the service: the erased meetings' past actions are not enqueued
    # again under their addresses, nor anyone cancelled for an erased entry.
    assert Flow(app).enqueue(UNTIL) == 0
    assert attendee_changes(app, LATE) == 0
    assert stored(app) == erased


def test_expiry_keeps_how_many_answered_what_but_not_who(
    tmp_path: Path, memory: MemoryBackend, url: str
) -> None:
    app = install(tmp_path, memory, url, events=True)
    try:
        dispatch.dispatch(app, WINTER, until=UNTIL)
        record = app.store.meeting(KK)
        assert record is not None and record.remote_id
        memory.replies[record.remote_id] = {SWEDISH: "accepted", "kirjaamo@hva.example": "declined"}
        assert read_answers(app, WINTER) == 1
        answered = app.store.meeting(KK)
        assert answered is not None and dict(answered.responses)[SWEDISH] == "accepted"
        [event] = [row for row in app.store.rows(KK) if row.recipient == EVERYONE]

        privacy.expire(app, LATE)
        record = app.store.meeting(KK)
        assert record is not None
        assert all(is_erased(who) for who, _ in record.responses)
        assert Counter(a for _, a in record.responses) == Counter(a for _, a in answered.responses)
        assert by_key(app)[event.key] == event  # the event's row names nobody
        assert SWEDISH not in stored(app)
    finally:
        app.close()


# -- forget -----------------------------------------------------------------------------------

def test_forget_erases_one_person_and_leaves_the_others(app: Services) -> None:
    dispatch.dispatch(app, WINTER, until=UNTIL)
    before = by_key(app)
    theirs = {key for key, row in before.items() if row.recipient == SWEDISH}
    held = app.store.meeting(KK)
    assert theirs and held is not None and SWEDISH in held.invited

    done = privacy.forget(app, "Anna.Svensson@HVA.example", LATE)  # any case
    erased = done.database
    assert (erased.rows, erased.meetings, erased.stopped) == (len(theirs), 1, 0)
    assert SWEDISH not in stored(app).lower()
    after = by_key(app)
    assert {k: r for k, r in after.items() if k not in theirs and not is_erased(r.recipient)} == \
        {k: r for k, r in before.items() if k not in theirs}
    record = app.store.meeting(KK)
    assert record is not None and pseudonym(SWEDISH) in record.invited
    assert sorted(e for e in record.invited if e != pseudonym(SWEDISH)) == \
        sorted(e for e in held.invited if e != SWEDISH)
    assert done.messages is None  # no Maildir in this installation
    assert [line.text for line in done.contacts] == [f"email: {SWEDISH}"]
    assert privacy.forget(app, SWEDISH, LATE).database == Erased()


def test_a_waiting_message_to_a_forgotten_person_never_goes(
    app: Services, memory: MemoryBackend
) -> None:
    dispatch.dispatch(app, WINTER, until=UNTIL)
    flow = Flow(app)
    reminders = datetime(2027, 2, 10, 12, tzinfo=UTC)  # the day before KK
    assert flow.enqueue(reminders) > 0
    waiting = [row for row in app.store.pending(reminders) if row.recipient == SWEDISH]
    told = len(memory.messages_to(SWEDISH))
    assert waiting and told

    done = privacy.forget(app, SWEDISH, reminders)
    assert done.database.stopped == len(waiting)
    report = flow.deliver(reminders, clock=lambda row: reminders)
    assert report.sent > 0  # the others were reminded
    assert len(memory.messages_to(SWEDISH)) == told
    rows = by_key(app)
    for row in waiting:
        stopped = rows[erased_key(row.key, row.recipient)]
        assert (stopped.state, stopped.reason) == (State.SKIPPED, FORGOTTEN)
    # Still in the contacts file, but nothing already queued for her comes back.
    assert flow.enqueue(reminders) == 0
    assert not [row for row in app.store.rows() if row.recipient == SWEDISH]


def test_an_answer_read_again_keeps_a_forgotten_attendee_erased(
    tmp_path: Path, memory: MemoryBackend, url: str
) -> None:
    """The calendar server lists her until the contacts file no longer does."""
    app = install(tmp_path, memory, url, events=True)
    try:
        dispatch.dispatch(app, WINTER, until=UNTIL)
        record = app.store.meeting(KK)
        assert record is not None and record.remote_id and SWEDISH in record.invited
        memory.replies[record.remote_id] = {SWEDISH: "accepted"}
        read_answers(app, WINTER)
        assert privacy.forget(app, SWEDISH, WINTER).database.meetings == 1

        assert read_answers(app, WINTER + timedelta(hours=1)) == 1
        record = app.store.meeting(KK)
        assert record is not None and SWEDISH not in stored(app)
        assert dict(record.responses)[pseudonym(SWEDISH)] == "accepted"
    finally:
        app.close()


def test_the_coordinator_forgotten_is_not_alerted_again_of_the_same_problems(
    app: Services, memory: MemoryBackend
) -> None:
    dispatch.dispatch(app, WINTER, until=UNTIL)
    alerted = len(memory.messages_to(COORDINATOR))
    assert alerted
    assert privacy.forget(app, COORDINATOR, WINTER).database.rows == alerted
    dispatch.dispatch(app, WINTER + timedelta(hours=1), until=UNTIL)  # the same plan's alerts
    assert len(memory.messages_to(COORDINATOR)) == alerted
    assert not [row for row in app.store.rows() if row.recipient == COORDINATOR]


def test_forget_refuses_what_is_not_an_address(app: Services) -> None:
    with pytest.raises(UserError, match="is not an e-mail address"):
        privacy.forget(app, "Anna Svensson", WINTER)


# -- the command line -------------------------------------------------------------------------

@pytest.fixture
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


@pytest.mark.usefixtures("_no_environment")
def test_forget_on_the_command_line_says_what_it_removed(
    installation: Installation, capsys: pytest.CaptureFixture[str]
) -> None:
    installation.run("dispatch", "--until", "2027-01-26T10:00", now=at(2027, 1, 5))
    theirs = [m for m in installation.messages() if SWEDISH in str(m["To"])]
    others = len(installation.messages()) - len(theirs)
    store = open_store(f"sqlite:///{installation.root / 'state.db'}")
    rows = len([row for row in store.rows() if row.recipient == SWEDISH])
    store.close()
    assert theirs and others and rows > len(theirs)  # the missed ones were never written
    contacts = installation.root / "contacts.yaml"
    [line] = [n for n, text in enumerate(contacts.read_text("utf-8").splitlines(), 1)
              if SWEDISH in text]
    capsys.readouterr()

    code = installation.run("forget", SWEDISH, now=at(2027, 1, 6))
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"{SWEDISH}: erased 2027-01-06 10:00 EET\n")
    assert f"  outbox: {rows} message(s) now under a pseudonym, 0 of them not yet sent" in out
    assert "  schedule: 1 meeting(s)' invitation list or answers" in out
    assert f"Maildir {installation.outbox}: {len(theirs)} message(s) removed" in out
    assert f"{contacts}:{line}: email: {SWEDISH}" in out
    assert not [m for m in installation.messages() if SWEDISH in str(m["To"])]
    assert len(installation.messages()) == others

    assert installation.run("forget", SWEDISH, now=at(2027, 1, 6)) == 0
    assert "nothing about this address is stored" in capsys.readouterr().out


@pytest.mark.usefixtures("_no_environment")
def test_forget_on_the_command_line_names_an_address_it_cannot_take(
    installation: Installation, capsys: pytest.CaptureFixture[str]
) -> None:
    code = installation.run("forget", "anna svensson", now=at(2027, 1, 6))
    err = capsys.readouterr().err
    assert code == 2
    assert "'anna svensson' is not an e-mail address" in err and "Traceback" not in err
