"""Baseline: meetings and the outbox as the releases before migrations left them

The schema of main at 2c98978. On a database those releases wrote, only what an older one
lacks is added.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Columns added by releases after the first, nullable: a database from before them gains
# them here (what the releases did by hand with ALTER TABLE at start-up).
LATER_MEETING_COLUMNS = (
    sa.Column("channel", sa.String(20)),
    sa.Column("remote_id", sa.String(600)),
    sa.Column("remote_ical_uid", sa.String(600)),
    sa.Column("responses", sa.Text()),
)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "meetings" in existing:
        _complete_meetings()
    else:
        op.create_table(
            "meetings",
            sa.Column("uid", sa.String(255), primary_key=True),
            sa.Column("body", sa.String(80), nullable=False),
            sa.Column("grp", sa.String(80)),
            sa.Column("start", sa.String(40), nullable=False),
            sa.Column("end", sa.String(40), nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("sequence", sa.Integer(), nullable=False),
            sa.Column("moved", sa.Boolean(), nullable=False),
            sa.Column("invited", sa.Text(), nullable=False),
            sa.Column("reason", sa.Text()),
            sa.Column("previous", sa.String(40)),
            *(sa.Column(c.name, c.type) for c in LATER_MEETING_COLUMNS),
        )
    if "outbox" not in existing:
        op.create_table(
            "outbox",
            sa.Column("key", sa.String(600), primary_key=True),
            sa.Column("meeting_uid", sa.String(255), nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("recipient", sa.String(320), nullable=False),
            sa.Column("sequence", sa.Integer(), nullable=False),
            sa.Column("due", sa.String(40), nullable=False),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("error", sa.Text()),
            sa.Column("sent_at", sa.String(40)),
            sa.Column("remote_id", sa.String(600)),
        )
        op.create_index("ix_outbox_meeting_uid", "outbox", ["meeting_uid"])
        op.create_index("ix_outbox_due", "outbox", ["due"])


def _complete_meetings() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("meetings")}
    for column in LATER_MEETING_COLUMNS:
        if column.name not in have:
            op.add_column("meetings", sa.Column(column.name, column.type))


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("meetings")
