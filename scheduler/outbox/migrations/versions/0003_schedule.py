"""The stored schedule: every meeting of the term with its slot, commitment and record

Issue 9. The meetings table holds the whole term's schedule, so every command shows and
sends the same dates: a meeting's slot (body period and ordinal), whether it is committed
(a message went out, or a person decided it), the known meeting of bodies/ it stands for,
the planner's reasons, and what `held` and `move --force` record. A meeting of an earlier
release is committed when anything about it went out or a person changed it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("slot", sa.String(120)),
    sa.Column("committed", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("known", sa.String(120)),
    sa.Column("reasons", sa.Text()),
    sa.Column("sources", sa.Text()),
    sa.Column("present", sa.Text()),
    sa.Column("minutes_url", sa.String(500)),
    sa.Column("forced", sa.Text()),
)

_meetings = sa.table(
    "meetings",
    sa.column("uid", sa.String), sa.column("body", sa.String), sa.column("slot", sa.String),
    sa.column("committed", sa.Boolean), sa.column("invited", sa.Text),
    sa.column("remote_id", sa.String), sa.column("moved", sa.Boolean),
    sa.column("status", sa.String),
)
_outbox = sa.table("outbox", sa.column("meeting_uid", sa.String), sa.column("state", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        for column in NEW_COLUMNS:
            batch.add_column(sa.Column(column.name, column.type, nullable=column.nullable,
                                       server_default=column.server_default))
    conn = op.get_bind()
    told = sa.select(_outbox.c.meeting_uid).where(_outbox.c.state == "sent")
    conn.execute(sa.update(_meetings).where(sa.or_(
        _meetings.c.invited != "[]", _meetings.c.remote_id.is_not(None),
        _meetings.c.moved.is_(True), _meetings.c.status == "cancelled",
        _meetings.c.uid.in_(told))).values(committed=True))
    # The slot was always the UID's middle: <body>-<slot>@<domain>.
    for uid, body in conn.execute(sa.select(_meetings.c.uid, _meetings.c.body)).all():
        slot = uid[len(body) + 1:uid.rindex("@")] if uid.startswith(f"{body}-") and "@" in uid else uid
        conn.execute(sa.update(_meetings).where(_meetings.c.uid == uid).values(slot=slot))


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        for column in reversed(NEW_COLUMNS):
            batch.drop_column(column.name)
