"""The database schema's version: Alembic migrations in ``migrations/``, applied at start-up
and by ``yhdyspinta db upgrade``. A database written before the migrations existed (no
``alembic_version`` table) is taken up by the first revision, which completes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

SCRIPTS = Path(__file__).with_name("migrations")
# Any constant will do: it only has to be the same in every process that migrates.
_PG_LOCK = 7_401_226_001


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did: the revision before (``None`` for an empty or pre-migration
    database) and after."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for our scripts, running on ``connection`` if given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:
        raise RuntimeError(f"no migrations in {SCRIPTS}")
    return found


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> Upgrade:
    """Bring the schema to the newest revision; nothing happens when it is there already.
    On PostgreSQL an advisory lock keeps two processes starting together from migrating
    twice; SQLite's own write lock (and busy timeout) does the same there."""
    target = head()
    with engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_revision()
    if before == target:
        return Upgrade(before, target)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(config(conn), "head")
    return Upgrade(before, target)
