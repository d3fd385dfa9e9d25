"""The tables that map the outbox's and the schedule's records (SQLAlchemy Core), as the
newest migration leaves them. The migrations in ``migrations/`` create and change them;
nothing here creates a table. Times are ISO 8601 text with their offset (UTC in the outbox,
so that they sort as text)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

meetings = Table(
    "meetings", metadata,
    Column("uid", String(255), primary_key=True),
    Column("body", String(80), nullable=False),
    Column("grp", String(80)),
    Column("start", String(40), nullable=False),
    Column("end", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # MeetingStatus
    Column("sequence", Integer, nullable=False, default=0),
    Column("moved", Boolean, nullable=False, default=False),
    Column("invited", Text, nullable=False, default="[]"),  # JSON list of addresses
    Column("reason", Text),
    Column("previous", String(40)),
    Column("channel", String(20)),
    Column("remote_id", String(600)),
    Column("remote_ical_uid", String(600)),
    Column("responses", Text),  # JSON: attendee address -> answer
    Column("slot", String(120)),  # the body's period and ordinal: 2027-1, 2027-hyte-3, ...
    Column("committed", Boolean, nullable=False, default=False),
    Column("known", String(120)),  # the known meeting of bodies/ it stands for
    Column("reasons", Text),  # JSON: [[key, params], ...], dates and durations tagged
    Column("sources", Text),  # JSON list
    Column("present", Text),  # JSON list of organisation ids, recorded with `held`
    Column("minutes_url", String(500)),
    Column("forced", Text),  # why a person moved it against the rules
)

outbox = Table(
    "outbox", metadata,
    Column("key", String(600), primary_key=True),
    Column("meeting_uid", String(255), index=True),  # NULL for an alert
    Column("kind", String(20), nullable=False),  # Kind
    Column("recipient", String(320), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("due", String(40), nullable=False, index=True),  # UTC ISO 8601: sorts as text
    Column("state", String(20), nullable=False, default="pending"),  # State
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("sent_at", String(40)),
    Column("remote_id", String(600)),
    Column("body", String(80)),
    Column("alert", String(255)),
    Column("reason", String(60)),  # a due-policy code, for missed and skipped rows
    Column("claimed_at", String(40)),  # UTC; when the row was marked sending
    Column("retry_at", String(40)),  # UTC; the service tries a row refused for now again then
    Column("claimed_by", String(200)),  # the instance that did: serve:<host>:<pid>:<n>, cli:…
    Index("ix_outbox_state_due", "state", "due"),
)

alerts = Table(
    "alerts", metadata,
    Column("key", String(255), primary_key=True),
    Column("body", String(80), nullable=False),
    Column("problem", String(60), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("messages", Text, nullable=False, default="{}"),  # JSON: language -> text
    Column("raised_at", String(40)),
    Column("resolved_at", String(40)),
)

measure_states = Table(  # issue 11: `measure set`, one row per measure and indicator
    "measure_states", metadata,
    Column("measure", String(80), primary_key=True),
    Column("indicator", String(80), primary_key=True),
    Column("state", String(20), nullable=False),  # indicators.State: done | not-done
    Column("day", String(10), nullable=False),  # the day it was done (ISO date)
    Column("evidence", String(500)),  # an https link
    Column("recorded_at", String(40), nullable=False),  # UTC ISO 8601
)
