"""Our own tables, the truth about what was communicated: meetings with their SEQUENCE, and
the outbox, one row per (meeting, action, recipient, sequence) under a unique key.

SQLite by default, PostgreSQL in production (SQLAlchemy Core; any URL it accepts). No
scheduler promises exactly-once; the unique key plus the row's state does (reliability.md
section 0): ``pending -> sent | failed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

meetings = Table(
    "meetings", metadata,
    Column("uid", String(255), primary_key=True),
    Column("body", String(80), nullable=False),
    Column("grp", String(80)),
    Column("start", String(40), nullable=False),  # ISO 8601 with offset
    Column("end", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # planned | fixed | cancelled
    Column("sequence", Integer, nullable=False, default=0),
    Column("moved", Boolean, nullable=False, default=False),  # set by `move`: the plan no longer decides
    Column("invited", Text, nullable=False, default="[]"),  # JSON: addresses sent an invitation
    Column("reason", Text),  # the cancellation reason given by the operator
    Column("previous", String(40)),  # the start before the last `move`, for the update's text
    Column("channel", String(20)),  # the backend that first sent it: it sends all that follows
    Column("remote_id", String(600)),  # the event's id on that backend (Graph, EWS)
    Column("remote_ical_uid", String(600)),  # the iCalUId the server reports for the event
    Column("responses", Text),  # JSON: attendee address -> accepted | declined | ... (read back)
)

outbox = Table(
    "outbox", metadata,
    Column("key", String(600), primary_key=True),
    Column("meeting_uid", String(255), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("due", String(40), nullable=False, index=True),  # UTC ISO 8601: sorts as text
    Column("state", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("sent_at", String(40)),
    Column("remote_id", String(600)),
)


@dataclass(frozen=True)
class MeetingRecord:
    uid: str
    body: str
    group: str | None
    start: datetime
    end: datetime
    status: str
    sequence: int = 0
    moved: bool = False
    invited: tuple[str, ...] = ()
    reason: str | None = None
    previous: datetime | None = None
    channel: str | None = None
    remote_id: str | None = None
    responses: tuple[tuple[str, str], ...] = ()
    remote_ical_uid: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    key: str
    meeting_uid: str
    kind: str
    recipient: str
    sequence: int
    due: datetime
    state: str = "pending"
    attempts: int = 0
    error: str | None = None


class Store:
    """A thin, typed face over the two tables."""

    def __init__(self, url: str, tz: tzinfo = UTC) -> None:
        self.tz = tz  # times come back in this zone, so calendars carry its TZID, not an offset
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        metadata.create_all(self.engine)
        _add_new_columns(self.engine)

    # -- meetings ---------------------------------------------------------------------------

    def meeting(self, uid: str) -> MeetingRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(meetings).where(meetings.c.uid == uid)).mappings().first()
        return _meeting(row, self.tz) if row else None

    def all_meetings(self) -> list[MeetingRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(meetings).order_by(meetings.c.start, meetings.c.uid)).mappings()
            return [_meeting(row, self.tz) for row in rows]

    def save_meeting(self, record: MeetingRecord) -> None:
        values = {
            "uid": record.uid, "body": record.body, "grp": record.group,
            "start": record.start.isoformat(), "end": record.end.isoformat(),
            "status": record.status, "sequence": record.sequence, "moved": record.moved,
            "invited": json.dumps(sorted(record.invited)), "reason": record.reason,
            "previous": record.previous.isoformat() if record.previous else None,
            "channel": record.channel, "remote_id": record.remote_id,
            "remote_ical_uid": record.remote_ical_uid,
            "responses": json.dumps(dict(record.responses)) if record.responses else None,
        }
        with self.engine.begin() as conn:
            done = conn.execute(update(meetings).where(meetings.c.uid == record.uid).values(values))
            if done.rowcount == 0:
                conn.execute(insert(meetings).values(values))

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, row: OutboxRow) -> bool:
        """Add ``row`` unless its key exists; ``True`` when it was new."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(outbox).values(
                    key=row.key, meeting_uid=row.meeting_uid, kind=row.kind,
                    recipient=row.recipient, sequence=row.sequence, due=_utc(row.due),
                    state="pending", attempts=0,
                ))
        except IntegrityError:
            return False
        return True

    def pending(self, until: datetime) -> Iterator[OutboxRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox).where(outbox.c.state == "pending", outbox.c.due <= _utc(until))
                .order_by(outbox.c.due, outbox.c.meeting_uid, outbox.c.kind, outbox.c.recipient)
            ).mappings().all()
        for row in rows:
            yield OutboxRow(row["key"], row["meeting_uid"], row["kind"], row["recipient"],
                            row["sequence"], datetime.fromisoformat(row["due"]), row["state"],
                            row["attempts"], row["error"])

    def mark(self, row: OutboxRow, state: str, *, error: str | None = None,
             remote_id: str | None = None, at: datetime | None = None) -> OutboxRow:
        attempts = row.attempts + 1
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.key == row.key).values(
                state=state, attempts=attempts, error=error, remote_id=remote_id,
                sent_at=_utc(at) if at and state == "sent" else None,
            ))
        return replace(row, state=state, attempts=attempts, error=error)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.state)).scalars().all()
        result: dict[str, int] = {}
        for state in rows:
            result[state] = result.get(state, 0) + 1
        return result

    def failures(self) -> list[tuple[str, str, str | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.meeting_uid, outbox.c.recipient, outbox.c.error)
                                .where(outbox.c.state == "failed").order_by(outbox.c.key)).all()
        return [(r[0], r[1], r[2]) for r in rows]


def _add_new_columns(engine: Engine) -> None:
    """Bring a database made by an earlier version up to date: ``create_all`` makes missing
    tables but never alters one, so a nullable column added since is added here. Only
    additions; the data already stored is kept as it is."""
    existing = inspect(engine)
    for table in metadata.sorted_tables:
        have = {column["name"] for column in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} cannot be added to a filled table")
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _meeting(row: object, tz: tzinfo) -> MeetingRecord:
    data = dict(row)  # type: ignore[call-overload]
    return MeetingRecord(
        uid=data["uid"], body=data["body"], group=data["grp"],
        start=datetime.fromisoformat(data["start"]).astimezone(tz),
        end=datetime.fromisoformat(data["end"]).astimezone(tz),
        status=data["status"], sequence=data["sequence"], moved=bool(data["moved"]),
        invited=tuple(json.loads(data["invited"])), reason=data["reason"],
        previous=datetime.fromisoformat(data["previous"]) if data["previous"] else None,
        channel=data["channel"], remote_id=data["remote_id"],
        remote_ical_uid=data["remote_ical_uid"],
        responses=tuple(sorted(json.loads(data["responses"]).items())) if data["responses"] else (),
    )
