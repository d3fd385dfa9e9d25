"""The measures' indicators as recorded by hand

Issue 11. `yhdyspinta measure set ID INDICATOR done|not-done [--on DATE] [--evidence URL]`
records an indicator of the interface plan's measures that the meetings cannot show (a
report written, a tool agreed): one row per measure and indicator, the latest record
standing, with the day it was done and a link to the evidence.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measure_states",
        sa.Column("measure", sa.String(80), primary_key=True),
        sa.Column("indicator", sa.String(80), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("evidence", sa.String(500)),
        sa.Column("recorded_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("measure_states")
