"""``yhdyspinta serve`` as a process for tests (issue 10): its configuration in the test's
folder over the real catalogue, templates and example contacts; a store filled with
reminders already due; a real local SMTP server (aiosmtpd) that answers as slowly as
asked; and the process started, probed, signalled and killed like an operator would."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from scheduler.outbox.records import OutboxRow
from scheduler.planning.records import Kind, MeetingRecord
from scheduler.service.bootstrap import Services, load_services
from scheduler.service.schedule import meeting_row, refresh
from tests.conftest import ROOT

BODIES = ROOT / "bodies"
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    """A real SMTP server recording each message's Message-ID; ``latency`` seconds before
    it answers DATA, as a remote server that queues the message first (RFC 5321 6.1)."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.ids: list[str] = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        del server, session
        if self.latency:
            await asyncio.sleep(self.latency)
        content = envelope.original_content or b""
        found = _MESSAGE_ID.search(content)
        with self._lock:
            self.ids.append(found.group(1).decode() if found else "")
        return "250 OK queued"

    def start(self) -> Sink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def received(self) -> Counter[str]:
        with self._lock:
            return Counter(self.ids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, database: str, *, smtp_port: int | None = None,
                 workers: int = 4, poll: float = 0.5, **service: Any) -> Path:
    """A configuration over the real templates, calendars and example contacts, with its
    database, outbox and feeds in ``folder``; Maildir unless ``smtp_port`` is given."""
    backend = f'"smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntimeout = 20' \
        if smtp_port else '"maildir"'
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in service.items())
    text = f"""
[planning]
calendars = "{ROOT / 'calendars'}"
[database]
url = "{database}"
[messages]
templates = "{ROOT / 'templates' / 'mail'}"
contacts = "{ROOT / 'config' / 'contacts.example.yaml'}"
[service]
host = "127.0.0.1"
port = 0
log_format = "json"
poll_seconds = {poll}
standby_seconds = 1
{extra}
[delivery]
maildir = "{folder / 'outbox'}"
feeds = "{folder / 'feeds'}"
workers = {workers}
backend = {backend}
"""
    path = folder / "yhdyspinta.toml"
    path.write_text(text, encoding="utf-8")
    return path


def planned(services: Services, now: datetime) -> tuple[list[MeetingRecord], list[str]]:
    """The schedule planned and stored as the service will plan it at ``now``: its coming
    meetings of bodies with a convener (messages go for those), and the organisations'
    mailboxes."""
    refresh(services, now, read_calendars=False)
    boxes = sorted(box.email for box in services.contacts.mailboxes.values())
    coming = [r for r in services.store.all_meetings()
              if r.start > now + timedelta(days=2) and not r.cancelled
              and services.catalogue.bodies[r.body].conveners]
    return coming, boxes


def due_reminders(config: Path, count: int, now: datetime, *,
                  due: datetime | None = None) -> list[OutboxRow]:
    """The schedule stored and ``count`` messages about its coming meetings due at ``due``
    (default: a minute before ``now``), to the organisations' mailboxes: reminders, then
    agenda, preparation and agenda-item messages (about 3,300 in all)."""
    services = load_services(config, BODIES)
    try:
        coming, boxes = planned(services, now)
        rows: list[OutboxRow] = []
        moment = due or now - timedelta(minutes=1)
        # Reminders first, then the conveners' other messages, for as many as asked.
        for kind in (Kind.REMIND, Kind.AGENDA, Kind.PREPARE, Kind.REQUEST_ITEMS):
            for record in coming:
                for box in boxes:
                    rows.append(meeting_row(record, kind, box, moment))
                    if len(rows) == count:
                        services.store.add(rows)
                        return rows
        raise AssertionError(f"only {len(rows)} reminders to make, {count} asked")
    finally:
        services.close()


class Served:
    """One ``yhdyspinta serve`` process; its log (JSON lines) in ``folder/serve-N.log``."""

    _count = 0

    def __init__(self, folder: Path, config: Path, *, bodies: Path = BODIES) -> None:
        Served._count += 1
        self.log_path = folder / f"serve-{Served._count}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "--config", str(config), "--bodies", str(bodies),
             "serve"], cwd=folder, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.address: str | None = None

    def wait_listening(self, timeout: float = 60) -> str:
        """The base URL once the service listens (read from its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.entries():
                found = re.search(r"listening on (http://[\d.]+:\d+)", entry.get("message", ""))
                if found:
                    self.address = found.group(1)
                    return self.address
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.text()}")
            time.sleep(0.1)
        raise AssertionError(f"serve did not listen within {timeout} s:\n{self.text()}")

    def wait_for(self, words: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(words in entry.get("message", "") for entry in self.entries()):
                return
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.text()}")
            time.sleep(0.1)
        raise AssertionError(f"{words!r} not logged within {timeout} s:\n{self.text()}")

    def get(self, path: str) -> tuple[int, Any]:
        assert self.address, "wait_listening first"
        try:
            with urllib.request.urlopen(self.address + path, timeout=10) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        return status, (json.loads(body) if body.startswith(b"{") else body.decode())

    def entries(self) -> list[dict[str, Any]]:
        found = []
        for line in self.text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                found.append({"message": line})
        return found

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._log.close()

    def terminate(self, timeout: float = 40) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._log.close()
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        self._log.close()
