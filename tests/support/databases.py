"""Databases for tests on both engines the store supports: a SQLite file in the test's
folder, or a schema of its own on the machine's PostgreSQL (127.0.0.1:5432, database
``test``, trust auth), dropped afterwards; and a database as the releases before the
migrations left it (tests/data/legacy, made by main at 2c98978)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LEGACY = ROOT / "tests" / "data" / "legacy"
LEGACY_SQLITE = LEGACY / "main-2c98978.sqlite3"
LEGACY_POSTGRES = LEGACY / "main-2c98978.postgresql.sql"


@contextmanager
def database(engine: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database on ``engine`` (sqlite or postgresql)."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'state.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fill_with_legacy(url: str) -> None:
    """Put the legacy database's tables and rows into the empty database at ``url``."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        assert parsed.database
        shutil.copyfile(LEGACY_SQLITE, parsed.database)
        return
    schema = str(parsed.query["options"]).removeprefix("-csearch_path=")
    dump = LEGACY_POSTGRES.read_text(encoding="utf-8")
    # pg_dump names every table public.x and empties search_path; this schema instead.
    script = "\n".join(line for line in dump.splitlines() if "set_config('search_path'" not in line)
    script = script.replace("public.", f'"{schema}".')
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(script)
    engine.dispose()
