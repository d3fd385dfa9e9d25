"""The store on both engines it supports: SQLite (the embedded default) and the machine's
PostgreSQL (127.0.0.1:5432, database ``test``), each test in a schema of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scheduler.outbox.records import OutboxRow, State
from scheduler.outbox.store import Store, open_store
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus
from tests.conftest import HELSINKI
from tests.support.databases import database, fill_with_legacy


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    opened = open_store(url, HELSINKI)
    yield opened
    opened.close()


def record(**changes: object) -> MeetingRecord:
    values: dict[str, object] = {
        "uid": "kuntakokous-2027-1@yhdyspinta", "body": "kuntakokous", "group": None,
        "start": datetime(2027, 3, 30, 12, tzinfo=HELSINKI), "end": datetime(2027, 3, 30, 16, tzinfo=HELSINKI),
        "status": MeetingStatus.PLANNED,
    }
    values.update(changes)
    return MeetingRecord(**values)  # type: ignore[arg-type]


def test_a_meeting_round_trips_with_its_zone(store: Store) -> None:
    saved = record(sequence=2, invited=("b@x.example", "a@x.example"), channel="ews", remote_id="AAMk",
                   responses=(("a@x.example", "accepted"),),
                   previous=datetime(2027, 3, 23, 12, tzinfo=HELSINKI))
    store.save_meeting(saved)
    got = store.meeting(saved.uid)
    assert got is not None
    assert got.start == saved.start and got.start.utcoffset() == timedelta(hours=3)
    assert got.invited == ("a@x.example", "b@x.example")
    assert (got.sequence, got.channel, got.remote_id, got.responses, got.previous) == (
        2, "ews", "AAMk", (("a@x.example", "accepted"),), saved.previous)
    store.save_meeting(record(status=MeetingStatus.CANCELLED, sequence=3))
    again = store.meeting(saved.uid)
    assert again is not None and (again.status, again.sequence) == ("cancelled", 3)
    assert len(store.all_meetings()) == 1


def test_the_outbox_key_is_unique_and_pending_rows_come_in_due_order(store: Store) -> None:
    due = datetime(2027, 3, 1, 7, tzinfo=UTC)
    late = OutboxRow("m|remind|a@x|", "m", Kind.REMIND, "a@x", 0, due + timedelta(days=1))
    early = OutboxRow("m|invite|a@x|0", "m", Kind.INVITE, "a@x", 0, due)
    assert store.enqueue(late) and store.enqueue(early)
    assert not store.enqueue(early)  # the same key again: nothing added
    assert [r.key for r in store.pending(due + timedelta(days=2))] == [early.key, late.key]
    assert [r.key for r in store.pending(due)] == [early.key]
    store.mark(early, State.SENT, remote_id="x", at=due)
    failed = store.mark(late, State.FAILED, error="invalid address")
    assert failed.attempts == 1
    assert store.counts() == {"sent": 1, "failed": 1}
    assert store.failures() == [("m", "a@x", "invalid address")]


def test_a_database_of_an_earlier_version_gains_the_new_column_and_keeps_its_rows(
    url: str,
) -> None:
    fill_with_legacy(url)  # as the releases before the migrations left it
    legacy = create_engine(url)
    with legacy.begin() as conn:  # and before that, before remote_ical_uid existed
        conn.execute(text("ALTER TABLE meetings DROP COLUMN remote_ical_uid"))
        conn.execute(text("UPDATE meetings SET channel = 'graph', remote_id = 'AAMk' "
                          "WHERE uid = 'kuntakokous-2027-1@yhdyspinta'"))
    legacy.dispose()
    reopened = open_store(url, HELSINKI)
    old = reopened.meeting("kuntakokous-2027-1@yhdyspinta")
    assert old is not None and (old.remote_id, old.remote_ical_uid) == ("AAMk", None)
    reopened.save_meeting(replace(old, remote_ical_uid="040000008200E00074C5B7101A82E008"))
    got = reopened.meeting(old.uid)
    assert got is not None and got.remote_ical_uid == "040000008200E00074C5B7101A82E008"
    reopened.close()
