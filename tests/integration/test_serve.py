"""``yhdyspinta serve`` as a process, against real servers (issue 10, reliability.md S1, S3,
S8, S9): a local SMTP server that answers slowly, the machine's PostgreSQL and a
PostgreSQL cluster of the test's own that it stops and starts, SQLite locked by another
connection. Every message arrives, none twice but those in flight at a kill."""

from __future__ import annotations

import contextlib
import mailbox
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from scheduler.messaging.mail import message_id
from scheduler.outbox.store import open_store
from scheduler.outbox.tables import outbox
from tests.support.databases import POSTGRES
from tests.support.service import BODIES, Served, Sink, due_reminders, free_port, write_config

WORKERS = 4


def states(url: str) -> dict[str, str]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return dict(conn.execute(select(outbox.c.key, outbox.c.state)).all())
    finally:
        store.close()


def sent_ids(url: str) -> Counter[str]:
    return Counter(message_id(key, "yhdyspinta") for key, state in states(url).items()
                   if state == "sent")


def maildir_ids(folder: Path) -> Counter[str]:
    box = mailbox.Maildir(str(folder / "outbox"), create=False)
    return Counter(str(message["Message-ID"]) for message in box)


def until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds it took for ``condition`` to hold; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - start


def waiting(url: str) -> int:
    return sum(1 for state in states(url).values() if state in ("pending", "uncertain", "sending"))


# -- SQLite ---------------------------------------------------------------------------------


def test_a_second_serve_on_the_same_sqlite_database_is_refused_naming_the_lock(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = write_config(tmp_path, url)
    first = Served(tmp_path, config)
    try:
        first.wait_listening()
        second = subprocess.run(
            [sys.executable, "-m", "scheduler", "--config", str(config), "--bodies", str(BODIES),
             "serve"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2, second.stderr
        assert f"{tmp_path / 'state.db.lock'}" in second.stderr
        assert "another `yhdyspinta serve`" in second.stderr and "Traceback" not in second.stderr
        assert first.get("/healthz")[0] == 200  # the first one runs on
    finally:
        assert first.terminate() == 0


def test_sigterm_drains_the_calls_under_way_and_exits_0_within_30_seconds(tmp_path: Path) -> None:
    sink = Sink(latency=0.3).start()
    try:
        url = f"sqlite:///{tmp_path / 'state.db'}"
        config = write_config(tmp_path, url, smtp_port=sink.port, workers=WORKERS)
        rows = due_reminders(config, 200, datetime.now(UTC))
        served = Served(tmp_path, config)
        served.wait_listening()
        until(lambda: sum(sink.received().values()) >= 10, 60, "the first messages")
        started = time.monotonic()
        assert served.terminate(timeout=30) == 0
        assert time.monotonic() - started < 30
        recorded = states(url)
        assert "sending" not in recorded.values()  # every call under way was recorded
        assert sink.received() == sent_ids(url)  # exactly what is recorded sent arrived
        assert any(recorded[row.key] == "pending" for row in rows)  # the rest waits
        assert '"SIGTERM: draining' in served.log_path.read_text()

        again = Served(tmp_path, config)  # the rest goes after a restart, nothing twice
        again.wait_listening()
        until(lambda: all(states(url)[row.key] == "sent" for row in rows), 90, "the rest sent")
        assert again.terminate() == 0
        assert max(sink.received().values()) == 1
    finally:
        sink.stop()


@pytest.mark.timeout(600)
def test_kill_9_twenty_times_while_sending_loses_nothing_and_repeats_only_calls_in_flight(
        tmp_path: Path) -> None:
    """reliability.md S1: every message arrives; a duplicate only for a row that was in
    flight at a kill (at most the workers per kill), under the same Message-ID."""
    sink = Sink(latency=0.05).start()
    try:
        url = f"sqlite:///{tmp_path / 'state.db'}"
        config = write_config(tmp_path, url, smtp_port=sink.port, workers=WORKERS)
        rows = due_reminders(config, 1500, datetime.now(UTC))
        chance = random.Random(20261202)
        kills = 0
        for _ in range(20):
            served = Served(tmp_path, config)
            served.wait_listening()
            time.sleep(chance.uniform(0.2, 2.0))
            served.kill()
            kills += 1
            if not waiting(url):
                break
        # The kills fell while sending: some arrived, and rows were still waiting.
        assert kills == 20 and sum(sink.received().values()) > 0 and waiting(url) > 0
        final = Served(tmp_path, config)
        final.wait_listening()
        until(lambda: waiting(url) == 0, 180, "every row settled")
        assert final.terminate() == 0

        recorded = states(url)
        assert all(recorded[row.key] == "sent" for row in rows)
        arrived, sent = sink.received(), sent_ids(url)
        assert set(arrived) == set(sent)  # nothing lost, nothing unrecorded
        duplicates = sum(count - 1 for count in arrived.values())
        assert duplicates <= kills * WORKERS, (duplicates, kills)
        log = "".join(Path(p).read_text() for p in sorted(tmp_path.glob("serve-*.log")))
        assert "Traceback" not in log
    finally:
        sink.stop()


def test_sqlite_locked_by_another_connection_for_20_seconds_delays_but_loses_nothing(
        tmp_path: Path) -> None:
    """reliability.md S9: WAL and a busy timeout; a write lock held across the due time."""
    database = tmp_path / "state.db"
    url = f"sqlite:///{database}"
    config = write_config(tmp_path, url)
    now = datetime.now(UTC)
    rows = due_reminders(config, 50, now, due=now + timedelta(hours=1))
    served = Served(tmp_path, config)
    try:
        served.wait_listening()
        served.wait_for("delivered:")  # the first run (the catalogue's own messages) is over
        with sqlite3.connect(database, timeout=30) as probe:
            assert probe.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        engine = open_store(url).engine
        with engine.connect() as conn:
            assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
        engine.dispose()
        holder = sqlite3.connect(database, timeout=30, isolation_level=None)
        # Due in 5 s, however long the start took; the service notices within its poll,
        # and by then the database is locked.
        due = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
        holder.executemany("UPDATE outbox SET due = ? WHERE key = ?", [(due, r.key) for r in rows])
        holder.execute("BEGIN EXCLUSIVE")
        locked_at = time.monotonic()
        time.sleep(20)
        assert served.get("/healthz")[0] == 200  # alive throughout
        ours = {message_id(row.key, "yhdyspinta") for row in rows}
        assert not ours & set(maildir_ids(tmp_path))  # none could be claimed, so none went
        holder.execute("COMMIT")
        holder.close()
        assert time.monotonic() - locked_at >= 20
        until(lambda: all(states(url)[row.key] == "sent" for row in rows), 60, "sent after")
        ids = maildir_ids(tmp_path)
        assert all(ids[message_id(row.key, "yhdyspinta")] == 1 for row in rows)
        log = served.text()
        assert "database is locked" in log and "Exception in thread" not in log
    finally:
        assert served.terminate() == 0


# -- PostgreSQL -----------------------------------------------------------------------------


def _created_database() -> Iterator[str]:
    name = f"yh_serve_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_database() -> Iterator[str]:
    yield from _created_database()


@pytest.mark.timeout(300)
def test_two_instances_on_postgresql_send_nothing_twice_and_the_standby_takes_over_in_30_s(
        tmp_path: Path, pg_database: str) -> None:
    config = write_config(tmp_path, pg_database, workers=WORKERS)
    rows = due_reminders(config, 1500, datetime.now(UTC))
    leader = Served(tmp_path, config)
    leader.wait_listening()
    leader.wait_for("leader: this instance sends")
    standby = Served(tmp_path, config)
    try:
        standby.wait_listening()
        standby.wait_for("standby: another instance leads")
        status, body = standby.get("/readyz")
        assert (status, body["role"]) == (200, "standby")
        until(lambda: sum(maildir_ids(tmp_path).values()) >= 50, 60, "the leader sending")
        leader.kill()
        killed = time.monotonic()
        standby.wait_for("leader: this instance sends", timeout=30)
        until(lambda: all(s == "sent" for s in states(pg_database).values()
                          if s != "missed"), 30 - (time.monotonic() - killed), "the rest sent")
        assert time.monotonic() - killed < 30
        recorded = states(pg_database)
        assert all(recorded[row.key] == "sent" for row in rows)
        ids = maildir_ids(tmp_path)
        assert max(ids.values()) == 1  # an uncertain row was looked up, not sent again
        assert set(ids) == set(sent_ids(pg_database))
        assert standby.get("/readyz")[1]["role"] == "leader"
    finally:
        leader.close()
        assert standby.terminate() == 0


class Cluster:
    """A PostgreSQL cluster of the test's own (Debian's binaries, run as the postgres
    user), so that it can be stopped and started without touching the machine's."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        assert found, "PostgreSQL's server binaries are not installed"
        self.bin = found[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="yh-pg-"))
        shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
                       check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                          "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                          "start")

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.mark.timeout(300)
def test_postgresql_down_while_messages_fall_due_delays_them_and_sends_each_once(
        tmp_path: Path) -> None:
    """reliability.md S8: the server stopped across the due time and started again."""
    cluster = Cluster()
    cluster.start()
    served: Served | None = None
    try:
        config = write_config(tmp_path, cluster.url)
        now = datetime.now(UTC)
        rows = due_reminders(config, 100, now, due=now + timedelta(seconds=15))
        served = Served(tmp_path, config)
        served.wait_listening()
        served.wait_for("schedule planned")
        cluster.stop()
        time.sleep(20)  # the due time passes while the database is down
        assert served.get("/healthz")[0] == 200
        status, body = served.get("/readyz")
        assert status == 503 and body["database"].startswith("unreachable")
        assert not maildir_ids(tmp_path)
        cluster.start()
        until(lambda: all(states(cluster.url)[row.key] == "sent" for row in rows), 60,
              "sent once the database is back")
        ids = maildir_ids(tmp_path)
        assert all(ids[message_id(row.key, "yhdyspinta")] == 1 for row in rows)
        assert served.get("/readyz")[0] == 200
        log = served.text()
        assert re.search(r"delivery run failed|watch: OperationalError", log)
        assert "Exception in thread" not in log
    finally:
        if served is not None:
            assert served.terminate() == 0
        cluster.remove()
