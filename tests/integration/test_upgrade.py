"""A database written by the last release before the migrations (main at 2c98978; how it
was made: tests/data/legacy/README.md) is upgraded in place, on SQLite and on PostgreSQL,
and nothing it records as sent is sent again (issue 8)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scheduler.messaging.mail import message_id
from scheduler.outbox import migrate
from tests.conftest import ROOT
from tests.integration.conftest import Installation, at, contacts_yaml
from tests.support.databases import database, fill_with_legacy

MOVED = "kuntakokous-2027-1@yhdyspinta"  # invited, then moved: its invitations are SEQUENCE 0


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


@pytest.fixture(params=["sqlite", "postgresql"])
def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Installation, str]]:
    with database(request.param, tmp_path) as url:
        fill_with_legacy(url)
        (tmp_path / "yhdyspinta.toml").write_text(f"""
[planning]
calendars = "{ROOT / 'calendars'}"
[database]
url = "{url}"
[delivery]
maildir = "{tmp_path / 'outbox'}"
feeds = "{tmp_path / 'feeds'}"
[messages]
templates = "{ROOT / 'templates' / 'mail'}"
contacts = "{tmp_path / 'contacts.yaml'}"
""", encoding="utf-8")
        found = Installation(tmp_path)
        found.write_contacts(contacts_yaml())  # as when the legacy database was made
        yield found, url


def outbox(url: str) -> dict[str, tuple[str, str, int]]:
    """Outbox key -> (kind, state, attempts)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, kind, state, attempts FROM outbox")).all()
    engine.dispose()
    return {key: (kind, state, attempts) for key, kind, state, attempts in rows}


def test_the_last_releases_database_is_upgraded_and_sends_nothing_twice(
    legacy: tuple[Installation, str], capsys: pytest.CaptureFixture[str]
) -> None:
    installation, url = legacy
    before = outbox(url)
    sent = {key for key, (_, state, _) in before.items() if state == "sent"}
    waiting = {key for key, (_, state, _) in before.items() if state == "pending"}
    assert len(sent) == 70 and len(waiting) == 22

    assert installation.run("db", "upgrade", now=at(2027, 1, 29, 10)) == 0
    assert f"database upgraded from no version to {migrate.HEAD}" in capsys.readouterr().out
    assert outbox(url) == before  # the rows as they were, states and attempts
    # Issue 9: a meeting anyone was told of, or a person changed, is committed; its slot kept.
    engine = create_engine(url)
    with engine.connect() as conn:
        meetings = {uid: (slot, committed) for uid, slot, committed in conn.execute(
            text("SELECT uid, slot, committed FROM meetings"))}
    engine.dispose()
    assert meetings[MOVED] == ("2027-1", True)
    assert meetings["vaikuttamisryhma-2027-1@yhdyspinta"] == ("2027-1", True)  # cancelled
    assert meetings["kuntakokous-2028-1@yhdyspinta"] == ("2028-1", False)

    installation.run("dispatch", "--until", "2027-01-29T12:00", now=at(2027, 1, 29, 10))
    arrived = {str(m["Message-ID"]) for m in installation.messages()}
    assert arrived.isdisjoint(message_id(key, "yhdyspinta") for key in sent)
    after = outbox(url)
    assert all(after[key][1] == "sent" for key in sent)
    # The invitations left pending after the move were SEQUENCE 1 copies for people who
    # already had the update: the release before would have sent them twice over.
    assert all(key.startswith(f"{MOVED}|invite|") and key.endswith("|1") for key in waiting)
    assert {after[key][1] for key in waiting} == {"skipped"}
    assert not arrived.intersection(message_id(key, "yhdyspinta") for key in waiting)

    assert installation.run("db", "upgrade", now=at(2027, 1, 29, 11)) == 0
    assert f"database is up to date ({migrate.HEAD})" in capsys.readouterr().out


def test_alembic_shows_the_migrations() -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("alembic")), "history"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "<base> -> 0001, Baseline" in done.stdout
    assert "0001 -> 0002, The outbox as a state machine" in done.stdout
    assert "0002 -> 0003, The stored schedule" in done.stdout
    assert "0003 -> 0004, Who holds a claimed row" in done.stdout
    assert "0004 -> 0005 (head), The measures' indicators as recorded by hand" in done.stdout


def test_the_head_the_store_checks_against_is_the_newest_migration() -> None:
    assert migrate.head() == migrate.HEAD  # else every start would load Alembic, or miss one
