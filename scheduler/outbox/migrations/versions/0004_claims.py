"""Who holds a claimed row, and when a row refused for now is tried again

Issue 10. ``yhdyspinta serve`` runs as one leader with standbys; a leader that takes over
from a dead one knows that the rows the dead one left ``sending`` will not be recorded by
anyone, and takes them up as uncertain at once instead of after the lease. A CLI run's
claims (``cli:…``) still wait out the lease: that run may be alive beside the service.
A row a server refused for now (SMTP 4xx, Graph 503) is tried again by the service after
a growing pause (``retry_at``), not in a busy loop; ``dispatch`` run by hand still tries
it at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200)))
        batch.add_column(sa.Column("retry_at", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("claimed_by")
