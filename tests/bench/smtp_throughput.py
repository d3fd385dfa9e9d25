"""Benchmark: 2,000 real iMIP invitations through ``SmtpMailer`` to a local aiosmtpd server.

Run: ``.venv/bin/python tests/bench/smtp_throughput.py [--messages 2000] [--runs 3]
[--connections 1 2 4 8] [--latency 0] [--skip-pipeline]``. Prints messages per second
(target >= 300/s):

* one ``SmtpMailer`` shared by N threads, so N connections in parallel (its pool opens one
  per thread sending at once), for each N of ``--connections``; N = 1 is one reused
  connection, as a run with ``[delivery] workers = 1`` sends;
* a new connection per message, for comparison;
* ``service.deliver`` with ``workers`` = N: a year of the real catalogue's actions
  (``simulate``'s virtual clock) composed, sent and recorded in SQLite, so the figure
  includes checking, composing (on the one store thread) and recording every row.

Each figure is the best of ``--runs`` runs, each with freshly built messages (flattening
a message the first time also picks its MIME boundary); the server (its own process, as
in production) must have received every message. ``--latency`` makes the server wait that
many seconds before its reply to DATA, as a remote MTA does (RFC 5321 6.1: it answers 250
only once the message is safely queued), without holding up its other connections.
Not a pytest test: figures go into the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scheduler.catalogue.contacts import Recipient
from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.ports import Backend
from scheduler.delivery.smtp import SmtpMailer
from scheduler.messaging.invites import Invitation, request
from scheduler.messaging.mail import Rendered, build_email
from scheduler.planning.planner import Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from tests.support.flow import Flow, services

HEL = ZoneInfo("Europe/Helsinki")
SENDER = Recipient("kokoukset@liitto.example", "Keski-Suomen liitto", "fi", "liitto")


class Counter:
    def __init__(self, latency: float = 0.0) -> None:
        self.count = 0
        self.latency = latency

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.latency:
            await asyncio.sleep(self.latency)
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def messages(n: int) -> list[Any]:
    attendees = [Recipient(f"osallistuja{i}@kunta{i}.example", f"Osallistuja {i}", "fi", None)
                 for i in range(10)]
    invitation = Invitation("kuntakokous-2027-1@yhdyspinta", 0, datetime(2027, 2, 17, 12, tzinfo=HEL),
                            datetime(2027, 2, 17, 16, tzinfo=HEL), "Kuntakokous 2027",
                            "Kuntakokous 2027\nJyväskylän kaupunki", "Jyväskylä")
    calendar = request(invitation, SENDER, attendees, datetime(2027, 1, 27, tzinfo=UTC), "Europe/Helsinki")
    rendered = Rendered("Kutsu: Kuntakokous ke 17.2.2027 klo 12.00", "Hyvä vastaanottaja,\n" * 20,
                        "<p>Hyvä vastaanottaja,</p>" * 20)
    return [
        build_email(sender=SENDER, recipient=attendees[i % 10], rendered=rendered,
                    key=f"kuntakokous-2027-1@yhdyspinta|invite|{i}|0", domain="yhdyspinta",
                    date=datetime(2027, 1, 27, tzinfo=UTC), calendar=calendar, method="REQUEST")
        for i in range(n)
    ]


def serve(port: int, received: Any, ready: Any, stop: Any, latency: float) -> None:
    """The server in its own process, as in production: no GIL shared with the client."""
    handler = Counter(latency)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    received.value = handler.count
    controller.stop()


@contextlib.contextmanager
def server(latency: float) -> Iterator[tuple[int, Any]]:
    """A fresh aiosmtpd in its own process: its port and its count of messages received
    (read after the block ends)."""
    port = free_port()
    received, ready, stop = multiprocessing.Value("i", 0), multiprocessing.Event(), multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(port, received, ready, stop, latency))
    process.start()
    if not ready.wait(10):
        raise RuntimeError("aiosmtpd did not start")
    try:
        yield port, received
    finally:
        stop.set()
        process.join(10)


def run(n: int, connections: int, latency: float) -> float:
    """``n`` messages through one mailer shared by ``connections`` threads."""
    batch = messages(n)
    with server(latency) as (port, received):
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=10)
        started = time.perf_counter()
        if connections == 1:
            for i, message in enumerate(batch):
                mailer.send(message, str(i))
        else:
            with ThreadPoolExecutor(connections) as pool:
                for _ in pool.map(lambda m: mailer.send(m, ""), batch, chunksize=16):
                    pass
        mailer.close()
        elapsed = time.perf_counter() - started
    assert received.value == len(batch), (received.value, len(batch))
    return len(batch) / elapsed


def run_fresh(n: int, latency: float) -> float:
    """A new connection per message: what connection reuse saves."""
    batch = messages(n)
    with server(latency) as (port, received):
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=10)
        started = time.perf_counter()
        for i, message in enumerate(batch):
            mailer.send(message, str(i))
            mailer.close()
        elapsed = time.perf_counter() - started
    assert received.value == len(batch), (received.value, len(batch))
    return len(batch) / elapsed


def run_pipeline(workers: int, latency: float) -> tuple[float, int]:
    """A year of the real catalogue's actions through ``service.deliver`` (``workers``)."""
    catalogue = load_catalogue(ROOT / "bodies")
    calendar = WorkCalendar(blackout_months=frozenset({7}))
    plan = plan_meetings(catalogue, calendar, Window(date(2027, 1, 1), date(2027, 12, 31)), HEL)
    since, until = datetime(2027, 1, 1, tzinfo=HEL), datetime(2027, 12, 31, 23, tzinfo=HEL)
    with tempfile.TemporaryDirectory() as folder, server(latency) as (port, received):
        backend = Backend(SmtpMailer(host="127.0.0.1", port=port, timeout=10))
        flow = Flow(services(Path(folder), catalogue, backend, workers=workers,
                             contacts=ROOT / "config" / "contacts.example.yaml"))
        flow.sync(plan, since)
        flow.enqueue(until, since=since)
        started = time.perf_counter()
        report = flow.deliver(until, clock=lambda row: row.due)
        elapsed = time.perf_counter() - started
    assert not report.failed and not report.retry, (report.failed[:3], report.retry[:3])
    assert received.value == report.sent, (received.value, report.sent)
    return report.sent / elapsed, report.sent


def best(runs: int, measure: Any) -> tuple[float, list[float]]:
    figures = [measure() for _ in range(runs)]
    return max(figures), figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the server waits before answering DATA")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    rows = []
    for n in args.connections:
        top, figures = best(args.runs, lambda n=n: run(args.messages, n, args.latency))
        rows.append((f"SmtpMailer, {n} connection{'s' if n > 1 else ''} ({n} threads)",
                     args.messages, top, figures))
    fresh = min(args.messages, 500)
    top, figures = best(args.runs, lambda: run_fresh(fresh, args.latency))
    rows.append(("SmtpMailer, a new connection per message", fresh, top, figures))
    if not args.skip_pipeline:
        for n in args.connections:
            measured = [run_pipeline(n, args.latency) for _ in range(args.runs)]
            rows.append((f"service.deliver, workers = {n}", measured[0][1],
                         max(rate for rate, _ in measured), [rate for rate, _ in measured]))
    print(f"Python {platform.python_version()}, {platform.machine()}, "
          f"{multiprocessing.cpu_count()} cores; iMIP invitations (~6 kB each) to aiosmtpd on "
          f"127.0.0.1 in a separate process answering DATA after {args.latency * 1000:.0f} ms; "
          f"best of {args.runs} runs (target >= 300/s)")
    print("| case | messages | best messages/s | all runs |")
    print("|---|---:|---:|---|")
    for name, count, top, figures in rows:
        print(f"| {name} | {count} | {top:.0f} | {', '.join(f'{f:.0f}' for f in figures)} |")


if __name__ == "__main__":
    main()
