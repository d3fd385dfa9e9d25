"""The database schema's version: Alembic migrations in ``migrations/``, applied at start-up
and by ``yhdyspinta db upgrade``. A database written before the migrations existed (no
``alembic_version`` table) is taken up by the first revision, which completes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).with_name("migrations")
# The newest revision in SCRIPTS (a test holds the two equal): a database already there is
# opened without loading Alembic, which would add a third of a second to every command.
HEAD = "0005"
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
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision, as Alembic reads it from the scripts."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:
        raise RuntimeError(f"no migrations in {SCRIPTS}")
    return found


def current(connection: Connection) -> str | None:
    """The database's revision; ``None`` for an empty or pre-migration database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> Upgrade:
    """Bring the schema to the newest revision; nothing happens when it is there already.
    On PostgreSQL an advisory lock keeps two processes starting together from migrating
    twice; SQLite's own write lock (and busy timeout) does the same there."""
    with engine.connect() as conn:
        before = current(conn)
    if before == HEAD:
        return Upgrade(before, HEAD)
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        before = current(conn)
        command.upgrade(config(conn), "head")
        after = current(conn)
    return Upgrade(before, after or HEAD)
