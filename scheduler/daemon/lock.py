"""One active scheduler (architecture.md, reliability.md S3): the leader lock.

SQLite, the embedded default, is one machine's file: a second ``serve`` on it is a mistake,
refused at start (exit 2) by a lock file beside the database. PostgreSQL is for running
several instances: a session-level advisory lock on a connection of its own makes one of
them the leader; the others wait as hot standbys and try again every few seconds. The
lock dies with the leader's connection, so a standby takes over as soon as the server
notices: at once when the leader's process dies (its socket is closed), within the
keep-alive settings below when its machine or network does.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger("yhdyspinta.service")

# Any constant will do, as long as every instance of an installation uses the same one
# (and it differs from the migrations' lock).
LEADER_KEY = 7_401_226_010
# The server's side of the keep-alive on the lock's connection (per session): a leader
# whose machine vanished is given up after about 5 + 3 x 2 = 11 s.
_KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class LeaderLock(Protocol):
    description: str  # for messages: which file or which database
    exclusive: bool  # True: a second instance must not wait for it (SQLite)

    def acquire(self) -> bool:
        """Try once, without waiting; ``True`` when this instance now leads."""

    def alive(self) -> bool:
        """Whether the lock is still held (the keep-alive of its connection)."""

    def release(self) -> None: ...


def leader_lock(url: str) -> LeaderLock:
    parsed = make_url(url)
    if parsed.drivername.startswith("postgresql"):
        return AdvisoryLock(url)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        return FileLock(None)
    return FileLock(Path(database).with_name(Path(database).name + ".lock"))


class FileLock:
    """``flock`` on ``<database>.lock``: released by the kernel when the process ends,
    however it ends, so a stale file never blocks a restart."""

    exclusive = True

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.description = str(path) if path else "(an in-memory database)"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.path is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{socket.gethostname()} {os.getpid()}\n")  # for the operator: who holds it
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> str:
        """Who holds the lock, as its file says (host and process id)."""
        try:
            return self.path.read_text().strip() if self.path else ""
        except OSError:
            return ""

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a dedicated connection (never one of the pool's)."""

    exclusive = False

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.description = f"PostgreSQL advisory lock {LEADER_KEY} on {parsed.host}/{parsed.database}"
        self._engine = create_engine(url, poolclass=NullPool,
                                     connect_args={"connect_timeout": 5})
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        try:
            conn = self._conn or self._connect()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                    {"key": LEADER_KEY}).scalar())
        except SQLAlchemyError as exc:
            log.warning("leader lock: database not reachable (%s)", type(exc).__name__)
            self._drop()
            return False
        return got  # not got: the connection is kept for the next try (a standby holds one)

    def alive(self) -> bool:
        """The keep-alive: a query on the lock's own connection. If the connection is
        gone, so is the lock (the server released it), whatever this process thinks."""
        if self._conn is None:
            return False
        try:
            held = self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objid = :low"),
                {"low": LEADER_KEY & 0xFFFFFFFF}).scalar()
        except SQLAlchemyError:
            self._drop()
            return False
        return bool(held)

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # gone: the lock went with it
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_KEY})
            self._drop()
        self._engine.dispose()

    def _connect(self) -> Connection:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        for name, value in _KEEPALIVE.items():
            conn.execute(text(f"SET {name} = {int(value)}"))
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None
