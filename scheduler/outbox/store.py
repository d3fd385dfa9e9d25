"""Our own tables, the truth about what was communicated: meetings with their SEQUENCE, the
outbox, one row per (meeting, kind, recipient, sequence) under a unique key, and the
coordinator's alerts.

SQLite by default, PostgreSQL in production (SQLAlchemy Core; any URL it accepts). No
scheduler promises exactly-once; the unique key plus the row's state does (reliability.md
section 0). Every method is one transaction. ``open_store`` brings the schema up to date
with the migrations first; ``Store`` itself never creates or alters a table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping, make_url
from sqlalchemy.pool import StaticPool

from scheduler.planning.indicators import RecordedState
from scheduler.planning.indicators import State as IndicatorState
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus, Reason

from . import migrate
from .records import Alert, Delivered, OutboxRow, Outcome, State
from .retention import erased_key, personal
from .tables import alerts, measure_states, meetings, outbox

SQLITE_BUSY_MS = 5000  # wait this long for another process's write (issue 10: a CLI beside serve)
_IN_CHUNK = 500  # keys per IN (...) list: well under SQLite's 32,766 bound parameters


def connect(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder, WAL and a busy timeout."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        # pre_ping: a connection the server dropped (a restart) is replaced, not used;
        # connect_timeout: a server that is down fails a run in seconds, not minutes.
        options = {"connect_timeout": 10} if parsed.drivername.startswith("postgresql") else {}
        return create_engine(url, pool_pre_ping=True, connect_args=options)
    if parsed.database in (None, "", ":memory:"):
        # One connection shared by every thread: each new one would be an empty database.
        return create_engine(url, poolclass=StaticPool,
                             connect_args={"check_same_thread": False})
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, record: object) -> None:
    del record
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a kill
    cursor.close()


def open_store(url: str, tz: tzinfo = UTC) -> Store:
    """The store at ``url``, its schema upgraded to the newest migration first."""
    engine = connect(url)
    migrate.upgrade(engine)
    return Store(engine, tz)


class Store:
    """A thin, typed face over the tables."""

    def __init__(self, engine: Engine, tz: tzinfo = UTC) -> None:
        self.engine = engine
        self.tz = tz  # times come back in this zone, so calendars carry its TZID, not an offset

    def close(self) -> None:
        self.engine.dispose()

    # -- meetings ---------------------------------------------------------------------------

    def meeting(self, uid: str) -> MeetingRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(meetings).where(meetings.c.uid == uid)).mappings().first()
        return _meeting(row, self.tz) if row else None

    def meetings(self, uids: Iterable[str]) -> dict[str, MeetingRecord]:
        """The stored meetings among ``uids``, by UID, read in one go."""
        wanted = sorted(set(uids))
        found: dict[str, MeetingRecord] = {}
        with self.engine.connect() as conn:
            for first in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[first:first + _IN_CHUNK]
                for row in conn.execute(select(meetings).where(meetings.c.uid.in_(chunk))).mappings():
                    found[row["uid"]] = _meeting(row, self.tz)
        return found

    def all_meetings(self) -> list[MeetingRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(meetings).order_by(meetings.c.start, meetings.c.uid)).mappings()
            return [_meeting(row, self.tz) for row in rows]

    def save_meeting(self, record: MeetingRecord) -> None:
        self.save_meetings([record])

    def save_meetings(self, records: Iterable[MeetingRecord]) -> None:
        """Insert or update each record, in one transaction."""
        values = [_meeting_values(record) for record in records]
        if not values:
            return
        with self.engine.begin() as conn:
            have = self._uids_in(conn, [v["uid"] for v in values])
            for value in values:
                if value["uid"] in have:
                    conn.execute(update(meetings).where(meetings.c.uid == value["uid"]).values(value))
            new = [value for value in values if value["uid"] not in have]
            if new:
                conn.execute(insert(meetings), new)

    def delete_meetings(self, uids: Iterable[str]) -> None:
        """Forget meetings nobody was told of (a re-plan dropped them)."""
        gone = list(uids)
        with self.engine.begin() as conn:
            for first in range(0, len(gone), _IN_CHUNK):
                conn.execute(meetings.delete().where(meetings.c.uid.in_(gone[first:first + _IN_CHUNK])))

    @staticmethod
    def _uids_in(conn: Connection, uids: list[str]) -> set[str]:
        found: set[str] = set()
        for first in range(0, len(uids), _IN_CHUNK):
            found.update(conn.execute(select(meetings.c.uid).where(
                meetings.c.uid.in_(uids[first:first + _IN_CHUNK]))).scalars())
        return found

    def due_count(self, now: datetime) -> int:
        """How many rows are due by ``now`` and still wait (the queue's depth)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(
                outbox.c.state.in_([State.PENDING, State.UNCERTAIN]),
                outbox.c.due <= _utc(now))).scalar() or 0)

    def schedule_stamp(self) -> tuple[Any, ...]:
        """A cheap fingerprint of the schedule: it changes when a meeting is added,
        removed, moved, cancelled or recorded held (the service notices a command-line
        change by it)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(
                func.count(), func.coalesce(func.sum(meetings.c.sequence), 0),
                func.min(meetings.c.start), func.max(meetings.c.start),
                func.count(meetings.c.present), func.count(meetings.c.reason))).first()
            statuses = conn.execute(select(meetings.c.status, func.count())
                                    .group_by(meetings.c.status).order_by(meetings.c.status)).all()
        return (*(found or ()), *(tuple(row) for row in statuses))

    def told(self) -> set[str]:
        """UIDs of the meetings about which any message went out."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(outbox.c.meeting_uid).distinct().where(
                outbox.c.state == State.SENT, outbox.c.meeting_uid.is_not(None))).scalars())

    def reschedule(self, uid: str, due: dict[str, datetime]) -> int:
        """Give the meeting's waiting rows of each kind in ``due`` that new due time: the
        reminders of a moved meeting follow it (the old date's are withdrawn)."""
        changed = 0
        with self.engine.begin() as conn:
            for kind, moment in due.items():
                done = conn.execute(update(outbox).where(
                    outbox.c.meeting_uid == uid, outbox.c.kind == kind,
                    outbox.c.state.in_([State.PENDING, State.UNCERTAIN])).values(due=_utc(moment)))
                changed += int(done.rowcount)
        return changed

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, row: OutboxRow) -> bool:
        """Add ``row`` unless its key exists; ``True`` when it was new."""
        return self.add([row]) == 1

    def add(self, rows: Iterable[OutboxRow]) -> int:
        """Add every row whose key is new, in one transaction; how many were added. A row
        stored under its erased key (its recipient erased since: past retention, or
        `forget`) is not new either: adding it again would write the address back and send
        a past or stopped message."""
        wanted = {row.key: row for row in rows}
        if not wanted:
            return 0
        tombstones = {erased_key(row.key, row.recipient): row.key for row in wanted.values()
                      if personal(row.recipient)}
        keys = [*wanted, *tombstones]
        with self.engine.begin() as conn:
            have: set[str] = set()
            for first in range(0, len(keys), _IN_CHUNK):
                have.update(conn.execute(select(outbox.c.key).where(
                    outbox.c.key.in_(keys[first:first + _IN_CHUNK]))).scalars())
            have.update(tombstones[key] for key in have & tombstones.keys())
            new = [_outbox_values(row) for key, row in wanted.items() if key not in have]
            if new:
                conn.execute(insert(outbox), new)
        return len(new)

    def pending(self, until: datetime, *, pause: bool = False) -> list[OutboxRow]:
        """Rows still to attempt (pending, uncertain) due by ``until``, in due order; with
        ``pause``, not those refused for now whose next try is later (the service's way)."""
        where = [outbox.c.state.in_([State.PENDING, State.UNCERTAIN]), outbox.c.due <= _utc(until)]
        if pause:
            where.append(or_(outbox.c.retry_at.is_(None), outbox.c.retry_at <= _utc(until)))
        return self._rows(*where)

    def rows(self, meeting_uid: str | None = None) -> list[OutboxRow]:
        """Every row, or a meeting's, in due order."""
        return self._rows(*([outbox.c.meeting_uid == meeting_uid] if meeting_uid else []))

    def recover(self, now: datetime, lease: timedelta) -> int:
        """Rows left ``sending`` by a run that ended without recording their outcome (a
        crash, a kill) longer than ``lease`` ago: uncertain, so the next attempt looks the
        message up before sending it again. A row claimed more recently may still be in
        a running process's hands and is left alone."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(outbox)
                .where(outbox.c.state == State.SENDING, outbox.c.claimed_at <= _utc(now - lease))
                .values(state=State.UNCERTAIN,
                        error="the run sending it ended before its outcome was recorded"))
        return int(done.rowcount)

    def recover_from(self, gone: str) -> int:
        """Rows left ``sending`` by instances whose claims start with ``gone`` (a service
        leader that died: the one taking over holds the lock, so nobody will record them):
        uncertain at once, without waiting for the lease."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(outbox)
                .where(outbox.c.state == State.SENDING, outbox.c.claimed_by.startswith(gone))
                .values(state=State.UNCERTAIN,
                        error="the service sending it ended before its outcome was recorded"))
        return int(done.rowcount)

    def claim(self, row: OutboxRow, now: datetime, by: str | None = None) -> OutboxRow | None:
        """Mark ``row`` sending in its own transaction, before its network call; ``None``
        when it is no longer in the state it was read in (another run took it)."""
        [claimed] = self.commit((), (), [row], now, by)
        return claimed

    def commit(self, outcomes: Iterable[Outcome], delivered: Iterable[Delivered],
               claims: list[OutboxRow], now: datetime, by: str | None = None
               ) -> list[OutboxRow | None]:
        """One unit of work of a delivery run, in one transaction: the outcomes of the
        calls that ended, what they tell about their meetings, and the claims of the rows
        to send next (each claimed row, or ``None`` where another run has it). Writing them
        together keeps the rows marked ``sending`` to those really in flight."""
        with self.engine.begin() as conn:
            _record(conn, list(outcomes), delivered)
            return self._claim(conn, claims, now, by)

    @staticmethod
    def _claim(conn: Connection, rows: list[OutboxRow], now: datetime, by: str | None
               ) -> list[OutboxRow | None]:
        if not rows:
            return []
        free: set[str] | None = None
        if conn.dialect.name == "postgresql":
            # Rows another process holds in its transaction are passed over, not waited for
            # (several processes can send; none sends a row twice).
            free = set(conn.execute(
                select(outbox.c.key).where(outbox.c.key.in_([r.key for r in rows]))
                .with_for_update(skip_locked=True)).scalars())
        claimed: list[OutboxRow | None] = []
        for row in rows:
            if free is not None and row.key not in free:
                claimed.append(None)
                continue
            done = conn.execute(
                update(outbox).where(outbox.c.key == row.key, outbox.c.state == row.state)
                .values(state=State.SENDING, claimed_at=_utc(now), claimed_by=by))
            claimed.append(replace(row, state=State.SENDING, claimed_from=row.state)
                           if done.rowcount == 1 else None)
        return claimed

    def release(self, row: OutboxRow) -> None:
        """Give back a claimed row whose call ended in a bug, not in an outcome: it waits
        again as it did before the claim, its attempts uncounted."""
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.key == row.key, outbox.c.state == State.SENDING)
                         .values(state=row.claimed_from or State.PENDING, claimed_at=None,
                                 claimed_by=None))

    def mark(self, row: OutboxRow, state: State, *, error: str | None = None,
             remote_id: str | None = None, at: datetime | None = None,
             reason: str | None = None, attempted: bool = True) -> OutboxRow:
        """Record the row's new state; ``attempted``: a delivery call was made for it."""
        outcome = Outcome(row, state, error, remote_id, at, reason, attempted)
        with self.engine.begin() as conn:
            _record(conn, [outcome], ())
        return replace(row, state=state, attempts=_attempts(outcome), error=error, reason=reason)

    def next_due(self) -> datetime | None:
        """When the earliest waiting row falls due, or is tried again after a refusal for
        now (``None``: nothing waits)."""
        moment = func.coalesce(outbox.c.retry_at, outbox.c.due)
        with self.engine.connect() as conn:
            first = conn.execute(select(func.min(moment)).where(
                outbox.c.state.in_([State.PENDING, State.UNCERTAIN]))).scalar()
        return datetime.fromisoformat(first) if first else None

    def counts(self) -> dict[str, int]:
        """Rows by state (every /metrics scrape asks: counted by the database)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
            return {str(state): int(count) for state, count in found}

    def failures(self) -> list[tuple[str, str, str | None]]:
        """(meeting or alert, recipient, error) of every failed row."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.meeting_uid, outbox.c.alert, outbox.c.recipient, outbox.c.error)
                .where(outbox.c.state == State.FAILED).order_by(outbox.c.key)).all()
        return [(r[0] or r[1] or "", r[2], r[3]) for r in rows]

    def _rows(self, *where: Any) -> list[OutboxRow]:
        query = select(outbox).where(*where).order_by(
            outbox.c.due, outbox.c.meeting_uid, outbox.c.kind, outbox.c.recipient)
        with self.engine.connect() as conn:
            return [_outbox_row(row) for row in conn.execute(query).mappings()]

    # -- alerts -----------------------------------------------------------------------------

    def alerts(self) -> dict[str, Alert]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts)).mappings().all()
        return {row["key"]: _alert(row) for row in rows}

    def raise_alerts(self, current: Iterable[Alert], now: datetime) -> None:
        """Keep ``current`` as the plan's open alerts (their texts refreshed) and resolve
        every other open one: a row of a resolved alert is skipped, not sent."""
        fresh = {alert.key: alert for alert in current}
        with self.engine.begin() as conn:
            known = {row["key"]: row for row in conn.execute(select(alerts)).mappings()}
            for key, alert in fresh.items():
                values = {"body": alert.body, "problem": alert.problem,
                          "severity": alert.severity, "resolved_at": None,
                          "messages": json.dumps(dict(alert.messages), ensure_ascii=False)}
                if key in known:
                    conn.execute(update(alerts).where(alerts.c.key == key).values(values))
                else:
                    conn.execute(insert(alerts).values(key=key, raised_at=_utc(now), **values))
            gone = [key for key, row in known.items() if key not in fresh and not row["resolved_at"]]
            if gone:
                conn.execute(update(alerts).where(alerts.c.key.in_(gone))
                             .values(resolved_at=_utc(now)))


    # -- measures (issue 11) ----------------------------------------------------------------

    def set_measure_state(self, state: RecordedState) -> None:
        """Record an indicator's state by hand; it replaces the one recorded before."""
        values = {"state": str(state.state), "day": state.on.isoformat(),
                  "evidence": state.evidence, "recorded_at": _utc(state.recorded_at)}
        key = (measure_states.c.measure == state.measure) \
            & (measure_states.c.indicator == state.indicator)
        with self.engine.begin() as conn:
            if conn.execute(select(measure_states.c.state).where(key)).first() is None:
                conn.execute(insert(measure_states).values(
                    measure=state.measure, indicator=state.indicator, **values))
            else:
                conn.execute(update(measure_states).where(key).values(values))

    def measure_states(self) -> list[RecordedState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(measure_states).order_by(
                measure_states.c.measure, measure_states.c.indicator)).mappings().all()
        return [RecordedState(row["measure"], row["indicator"], IndicatorState(row["state"]),
                              date.fromisoformat(row["day"]), row["evidence"],
                              datetime.fromisoformat(row["recorded_at"])) for row in rows]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _attempts(outcome: Outcome) -> int:
    return outcome.row.attempts + (1 if outcome.attempted else 0)


def _outcome_values(outcome: Outcome) -> dict[str, Any]:
    sent = outcome.at if outcome.at and outcome.state is State.SENT else None
    return {"row_key": outcome.row.key, "state": str(outcome.state),
            "attempts": _attempts(outcome), "error": outcome.error,
            "remote_id": outcome.remote_id, "reason": outcome.reason,
            "sent_at": _utc(sent) if sent else None,
            "retry_at": _utc(outcome.retry_at) if outcome.retry_at else None}


def _record(conn: Connection, outcomes: list[Outcome], delivered: Iterable[Delivered]) -> None:
    """Rows' new states (one statement for all) and what they tell about their meetings."""
    if outcomes:
        conn.execute(
            update(outbox).where(outbox.c.key == bindparam("row_key")).values(
                state=bindparam("state"), attempts=bindparam("attempts"),
                error=bindparam("error"), remote_id=bindparam("remote_id"),
                reason=bindparam("reason"), sent_at=bindparam("sent_at"),
                retry_at=bindparam("retry_at")),
            [_outcome_values(outcome) for outcome in outcomes])
    for change in delivered:
        _note_delivered(conn, change)


def _note_delivered(conn: Connection, change: Delivered) -> None:
    """``change`` applied to the meeting as it is stored now."""
    stored = conn.execute(
        select(meetings.c.invited, meetings.c.channel, meetings.c.remote_id,
               meetings.c.remote_ical_uid).where(meetings.c.uid == change.uid)).first()
    if stored is None:
        return
    invited = set(json.loads(stored.invited or "[]"))
    if change.invited_all is not None:
        invited = set(change.invited_all)
    invited.update(change.invited_add)
    conn.execute(update(meetings).where(meetings.c.uid == change.uid).values(
        invited=json.dumps(sorted(invited)), channel=stored.channel or change.channel,
        remote_id=stored.remote_id or change.remote_id,
        remote_ical_uid=stored.remote_ical_uid or change.remote_ical_uid))


def _outbox_values(row: OutboxRow) -> dict[str, Any]:
    return {"key": row.key, "meeting_uid": row.meeting_uid, "kind": str(row.kind),
            "recipient": row.recipient, "sequence": row.sequence, "due": _utc(row.due),
            "state": str(row.state), "attempts": row.attempts, "error": row.error,
            "body": row.body, "alert": row.alert, "reason": row.reason}


def _outbox_row(row: RowMapping) -> OutboxRow:
    return OutboxRow(key=row["key"], meeting_uid=row["meeting_uid"], kind=Kind(row["kind"]),
                     recipient=row["recipient"], sequence=row["sequence"],
                     due=datetime.fromisoformat(row["due"]), state=State(row["state"]),
                     attempts=row["attempts"], error=row["error"], body=row["body"] or "",
                     alert=row["alert"], reason=row["reason"])


def _alert(row: RowMapping) -> Alert:
    return Alert(key=row["key"], body=row["body"], problem=row["problem"],
                 severity=row["severity"], messages=json.loads(row["messages"] or "{}"),
                 raised_at=_moment(row["raised_at"]), resolved_at=_moment(row["resolved_at"]))


def _meeting_values(record: MeetingRecord) -> dict[str, Any]:
    return {
        "uid": record.uid, "body": record.body, "grp": record.group,
        "start": record.start.isoformat(), "end": record.end.isoformat(),
        "status": str(record.status), "sequence": record.sequence, "moved": record.moved,
        "invited": json.dumps(sorted(record.invited)), "reason": record.reason,
        "previous": record.previous.isoformat() if record.previous else None,
        "channel": record.channel, "remote_id": record.remote_id,
        "remote_ical_uid": record.remote_ical_uid,
        "responses": json.dumps(dict(record.responses)) if record.responses else None,
        "slot": record.slot, "committed": record.committed, "known": record.known,
        "reasons": json.dumps([[r.key, _tagged(r.params)] for r in record.reasons],
                              ensure_ascii=False) if record.reasons else None,
        "sources": json.dumps(list(record.sources), ensure_ascii=False) if record.sources else None,
        "present": json.dumps(list(record.present)) if record.present else None,
        "minutes_url": record.minutes_url, "forced": record.forced,
    }


def _meeting(row: RowMapping, tz: tzinfo) -> MeetingRecord:
    previous = _moment(row["previous"])
    return MeetingRecord(
        uid=row["uid"], body=row["body"], group=row["grp"],
        start=datetime.fromisoformat(row["start"]).astimezone(tz),
        end=datetime.fromisoformat(row["end"]).astimezone(tz),
        status=MeetingStatus(row["status"]), sequence=row["sequence"], moved=bool(row["moved"]),
        invited=tuple(json.loads(row["invited"])), reason=row["reason"],
        previous=previous, channel=row["channel"], remote_id=row["remote_id"],
        remote_ical_uid=row["remote_ical_uid"],
        responses=tuple(sorted(json.loads(row["responses"]).items())) if row["responses"] else (),
        slot=row["slot"] or "", committed=bool(row["committed"]), known=row["known"],
        reasons=tuple(Reason(key, _untagged(params))
                      for key, params in json.loads(row["reasons"] or "[]")),
        sources=tuple(json.loads(row["sources"] or "[]")),
        present=tuple(json.loads(row["present"] or "[]")),
        minutes_url=row["minutes_url"], forced=row["forced"],
    )


# A reason's parameters are plain values, dates and durations; JSON has no date, so those
# two are written tagged and read back as they were.
def _tagged(params: dict[str, Any]) -> dict[str, Any]:
    return {key: _tag(value) for key, value in params.items()}


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$seconds": value.total_seconds()}
    if isinstance(value, list | tuple):
        return [_tag(item) for item in value]
    return value


def _untagged(params: dict[str, Any]) -> dict[str, Any]:
    return {key: _untag(value) if isinstance(value, dict | list) else value
            for key, value in params.items()}


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        [(tag, text)] = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(text)
        if tag == "$date":
            return date.fromisoformat(text)
        if tag == "$seconds":
            return timedelta(seconds=text)
    if isinstance(value, list):
        return [_untag(item) for item in value]
    return value
