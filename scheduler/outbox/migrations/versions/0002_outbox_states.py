"""The outbox as a state machine: alerts of their own, the body and claim on every row

Issue 8. Alerts are rows of their own table, and every outbox row names its body; a row is claimed (``sending``, ``claimed_at``) before its network
call; missed and skipped rows say why (``reason``). The states sent, failed, skipped and
pending written before keep their meaning, so nothing already sent is sent again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_outbox = sa.table(
    "outbox",
    sa.column("key", sa.String), sa.column("meeting_uid", sa.String),
    sa.column("kind", sa.String), sa.column("due", sa.String), sa.column("body", sa.String),
    sa.column("alert", sa.String),
)
_meetings = sa.table("meetings", sa.column("uid", sa.String), sa.column("body", sa.String))
_alerts = sa.table(
    "alerts",
    sa.column("key", sa.String), sa.column("body", sa.String), sa.column("problem", sa.String),
    sa.column("severity", sa.String), sa.column("messages", sa.Text),
    sa.column("raised_at", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("meeting_uid", existing_type=sa.String(255), nullable=True)
        batch.add_column(sa.Column("body", sa.String(80)))
        batch.add_column(sa.Column("alert", sa.String(255)))
        batch.add_column(sa.Column("reason", sa.String(60)))
        batch.add_column(sa.Column("claimed_at", sa.String(40)))
    op.create_index("ix_outbox_state_due", "outbox", ["state", "due"])
    op.create_table(
        "alerts",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("body", sa.String(80), nullable=False),
        sa.Column("problem", sa.String(60), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("messages", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.String(40)),
        sa.Column("resolved_at", sa.String(40)),
    )
    _move_alerts()
    body = sa.select(_meetings.c.body).where(_meetings.c.uid == _outbox.c.meeting_uid)
    op.execute(sa.update(_outbox).where(_outbox.c.alert.is_(None))
               .values(body=body.scalar_subquery()))


def _move_alerts() -> None:
    """Before: an alert row's meeting_uid was ``alert:<body>:<problem>:<digest>``. Now that
    is the alert's key, in a table of its own; its text is written again when the plan
    raises it (until then it has none, and a row of an alert the plan no longer raises is
    skipped, as before)."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(_outbox.c.key, _outbox.c.meeting_uid, _outbox.c.due)
                        .where(_outbox.c.kind == "alert")).all()
    seen: set[str] = set()
    for key, subject, due in rows:
        _, body, problem = (subject.split(":") + ["", ""])[:3]
        if subject not in seen:
            seen.add(subject)
            conn.execute(sa.insert(_alerts).values(
                key=subject, body=body, problem=problem, messages="{}", raised_at=due,
                severity="warning" if problem == "no-convener" else "error"))
        conn.execute(sa.update(_outbox).where(_outbox.c.key == key)
                     .values(alert=subject, body=body, meeting_uid=None))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.update(_outbox).where(_outbox.c.alert.is_not(None))
                 .values(meeting_uid=_outbox.c.alert))
    op.drop_table("alerts")
    op.drop_index("ix_outbox_state_due", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("reason")
        batch.drop_column("alert")
        batch.drop_column("body")
        batch.alter_column("meeting_uid", existing_type=sa.String(255), nullable=False)
