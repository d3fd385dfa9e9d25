"""Benchmark: ``yhdyspinta serve`` (issue 10) as a process, SQLite, SMTP to a local aiosmtpd.

Run: ``.venv/bin/python tests/bench/service.py [--quick] [--lateness 1000]
[--catch-up 10000] [--workers 1 4] [--runs 1] [--mailer-runs 3] [--idle 10] [--lead 40]``.
``--quick`` is a smoke run (100 lateness rows, 1,000 catch-up rows). Prints a markdown
table ``| measure | value | target |``:

* **firing lateness**: ``--lateness`` reminders due at times spread evenly over one minute
  that starts ``--lead`` (40) s after the rows are stored and the process started, ~39 s
  after it has planned, run its first wake and gone idle: the service must wake at each
  due time, not catch up. Lateness = the time the message reached the SMTP server (its own
  clock, at the end of DATA) - the row's due time; p50, p99 and max over every row
  (target p99 < 1 s).
* **catch-up**: ``--catch-up`` reminders already due (a minute ago) when the process starts,
  for each ``[delivery] workers`` of ``--workers``: the time from starting the process to
  the last of them at the server (target < 60 s), the time to the first, and the pipeline's
  rate after the first; beside it the bare ``SmtpMailer`` on one connection to the same
  kind of server, sending the same reminders composed beforehand (best of
  ``--mailer-runs``), so the rate the pipeline adds its work to, and the composer alone.
  The CPU time the service and the server used meanwhile (``/proc/<pid>/stat``) shows
  which one was busy: the service is one Python process, so near 1.0 core it is bound by
  its GIL, whatever ``workers`` says.
* **idle memory**: VmRSS of the service (``/proc/<pid>/status``) once it has planned,
  delivered what was due at start and sat idle ``--idle`` seconds, before the firing
  case's first row falls due (target < 120 MiB); VmHWM (its peak so far) beside it, and
  the same two after the firing and catch-up runs.

Each service figure is from ``--runs`` runs (default one: a full run takes minutes), the
best run's shown with all runs beside; a fresh temporary folder and SQLite database per
run. The real catalogue (``bodies/``) has only a few hundred (coming meeting, mailbox)
pairs, so after the example contacts' mailboxes every meeting gets synthetic recipients
(``vastaanottaja-NNNNN@kunta.example``): all rows are ``remind`` rows (one message per
meeting and recipient), ~4.5 kB plain text + HTML, no calendar part. The service also
enqueues and sends the real catalogue's actions falling due at its start (the first
wake); those messages are counted apart ("other") and left out of the figures, but their
sending is part of the time to the first reminder. The SMTP server runs in a process of
its own (no GIL shared with the service or with this script), records each message's
arrival time and Message-ID, and maps it back to its row with
``scheduler.messaging.mail.message_id(row.key, "yhdyspinta")``. Not a pytest test:
figures go into the README.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scheduler.delivery.smtp import SmtpMailer
from scheduler.messaging.mail import message_id
from scheduler.outbox.records import OutboxRow
from scheduler.planning.records import Kind, MeetingRecord
from scheduler.service.bootstrap import load_services
from scheduler.service.schedule import meeting_row
from tests.support.service import BODIES, Served, free_port, planned, write_config

UID_DOMAIN = "yhdyspinta"  # [planning] uid_domain's default, which write_config keeps
MIB = 1024 * 1024
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

# Targets (issue 10).
LATENESS_P99 = 1.0  # seconds
CATCH_UP = 60.0  # seconds from process start to the 10,000th message
IDLE_RSS = 120.0  # MiB


# -- the SMTP server, in a process of its own -------------------------------------------------


class Recorder:
    """aiosmtpd handler: (arrival time, Message-ID) of every message, at the end of DATA."""

    def __init__(self, count: Any) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.count = count

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        del server, session
        arrived = time.time()
        found = _MESSAGE_ID.search(envelope.original_content or b"")
        self.arrivals.append((arrived, found.group(1).decode() if found else ""))
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK queued"


def _serve(port: int, count: Any, commands: Connection) -> None:
    """The server process: answers ``arrivals`` with what it recorded, ends on ``stop``."""
    recorder = Recorder(count)
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    commands.send("ready")
    try:
        while True:
            command = commands.recv()
            if command == "arrivals":
                commands.send(list(recorder.arrivals))
            elif command == "stop":
                break
    finally:
        controller.stop()


class RemoteSink:
    """A fresh aiosmtpd in its own process (as in production: its own interpreter)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._count: Any = multiprocessing.Value("i", 0)
        self._commands, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(self.port, self._count, child),
                                                daemon=True)

    def __enter__(self) -> Self:
        self._process.start()
        if not self._commands.poll(20) or self._commands.recv() != "ready":
            raise RuntimeError("aiosmtpd did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._commands.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    @property
    def pid(self) -> int:
        return int(self._process.pid or 0)

    @property
    def count(self) -> int:
        return int(self._count.value)

    def arrivals(self) -> list[tuple[float, str]]:
        self._commands.send("arrivals")
        arrivals: list[tuple[float, str]] = self._commands.recv()
        return arrivals


# -- the store ----------------------------------------------------------------------------------


def recipients(mailboxes: list[str]) -> Iterator[str]:
    """The example contacts' mailboxes, then as many synthetic recipients as needed."""
    yield from mailboxes
    number = 0
    while True:
        number += 1
        yield f"vastaanottaja-{number:05d}@kunta.example"


def store_reminders(config: Path, now: datetime, dues: list[datetime]
                    ) -> tuple[dict[str, datetime], list[tuple[OutboxRow, MeetingRecord]]]:
    """The schedule planned and stored as the service will plan it, and one ``remind`` row
    per due time, each to another (coming meeting, recipient) pair: Message-ID -> due time,
    and the rows with their meetings (for composing them outside the service)."""
    services = load_services(config, BODIES)
    try:
        coming, boxes = planned(services, now)
        rows: list[tuple[OutboxRow, MeetingRecord]] = []
        for recipient in recipients(boxes):
            for record in coming:
                if len(rows) == len(dues):
                    break
                rows.append((meeting_row(record, Kind.REMIND, recipient, dues[len(rows)]), record))
            if len(rows) == len(dues):
                break
        added = services.store.add(row for row, _ in rows)
        assert added == len(dues), (added, len(dues))
        return {message_id(row.key, UID_DOMAIN): row.due for row, _ in rows}, rows
    finally:
        services.close()


# -- the service ----------------------------------------------------------------------------------


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MiB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024 / MIB
    return found["VmRSS"], found["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def last_run(served: Served) -> float:
    """When the service's last delivery run ended (its /metrics; 0 before the first)."""
    _, text = served.get("/metrics")
    found = re.search(r"^yhdyspinta_last_delivery_timestamp_seconds (\S+)$", str(text),
                      re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_until(what: str, done: Any, served: Served, timeout: float, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited {served.process.returncode}:\n{served.text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{served.text()[-3000:]}")
        time.sleep(every)


def stop(served: Served) -> None:
    code = served.terminate()
    if code != 0:
        raise AssertionError(f"serve exited {code} on SIGTERM:\n{served.text()[-3000:]}")


def delivered_lines(served: Served) -> int:
    return sum(entry.get("message", "").startswith("delivered:") for entry in served.entries())


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Firing:
    p50: float
    p99: float
    max: float
    min: float
    others: int  # messages not of ours (the catalogue's own actions at start)
    wakes: int  # "delivered:" log lines during the minute: delivery runs that sent something
    slack: float  # seconds from the service's idle (planned, first wake done) to the first due
    idle_rss: float
    idle_hwm: float
    after_rss: float
    after_hwm: float


def firing(count: int, lead: float, idle: float) -> Firing:
    """``count`` reminders due over one minute starting ``lead`` seconds from now."""
    with tempfile.TemporaryDirectory(prefix="yhdyspinta-bench-") as name, RemoteSink() as sink:
        folder = Path(name)
        config = write_config(folder, f"sqlite:///{folder / 'yhdyspinta.db'}",
                              smtp_port=sink.port, workers=4)
        now = datetime.now(UTC)
        first = now + timedelta(seconds=lead)
        dues = [first + timedelta(seconds=60 * i / count) for i in range(count)]
        ids, _ = store_reminders(config, now, dues)
        served = Served(folder, config)
        try:
            served.wait_listening()
            served.wait_for("schedule planned")
            # The first wake (the catalogue's own actions due now) has ended once the
            # service has recorded a delivery run.
            wait_until("the first wake", lambda: last_run(served) > 0, served, 60)
            slack = (first - datetime.now(UTC)).total_seconds()
            time.sleep(min(idle, max(slack - 5, 0)))
            idle_rss, idle_hwm = memory(served.process.pid)
            before = delivered_lines(served)
            wait_until("every reminder at the server",
                       lambda: sum(i in ids for _, i in sink.arrivals()) == count
                       if sink.count >= count else False,
                       served, lead + 60 + 120, every=0.5)
            wakes = delivered_lines(served) - before
            time.sleep(idle)
            after_rss, after_hwm = memory(served.process.pid)
            stop(served)
        finally:
            served.close()
        arrivals = sink.arrivals()
    late = [t - ids[i].timestamp() for t, i in arrivals if i in ids]
    assert len(late) == count, (len(late), count)
    return Firing(percentile(late, 0.5), percentile(late, 0.99), max(late), min(late),
                  len(arrivals) - count, wakes, slack, idle_rss, idle_hwm, after_rss, after_hwm)


@dataclass
class CatchUp:
    workers: int
    total: float  # process start -> the last reminder at the server
    first: float  # process start -> the first reminder at the server
    rate: float  # reminders per second after the first
    others: int
    rss: float  # after idling once done
    hwm: float
    cpu: float  # the service's CPU seconds from its start to the last reminder
    sink_cpu: float  # the SMTP server's, meanwhile


def catch_up(count: int, workers: int, idle: float) -> CatchUp:
    """``count`` reminders already due when the process starts."""
    with tempfile.TemporaryDirectory(prefix="yhdyspinta-bench-") as name, RemoteSink() as sink:
        folder = Path(name)
        config = write_config(folder, f"sqlite:///{folder / 'yhdyspinta.db'}",
                              smtp_port=sink.port, workers=workers)
        now = datetime.now(UTC)
        ids, _ = store_reminders(config, now, [now - timedelta(minutes=1)] * count)
        sink_cpu = cpu_seconds(sink.pid)
        started = time.time()
        served = Served(folder, config)
        try:
            wait_until("every reminder at the server",
                       lambda: sum(i in ids for _, i in sink.arrivals()) == count
                       if sink.count >= count else False,
                       served, 600, every=0.25)
            cpu = cpu_seconds(served.process.pid)
            sink_cpu = cpu_seconds(sink.pid) - sink_cpu
            time.sleep(idle)
            rss, hwm = memory(served.process.pid)
            stop(served)
        finally:
            served.close()
        arrivals = sink.arrivals()
    ours = sorted(t for t, i in arrivals if i in ids)
    assert len(ours) == count, (len(ours), count)
    rate = (count - 1) / (ours[-1] - ours[0]) if count > 1 else float("nan")
    return CatchUp(workers, ours[-1] - started, ours[0] - started, rate,
                   len(arrivals) - count, rss, hwm, cpu, sink_cpu)


def bare_mailer(count: int) -> float:
    """The same kind of reminders, composed beforehand by the service's composer, through
    one ``SmtpMailer`` connection: messages per second."""
    with tempfile.TemporaryDirectory(prefix="yhdyspinta-bench-") as name, RemoteSink() as sink:
        folder = Path(name)
        config = write_config(folder, f"sqlite:///{folder / 'yhdyspinta.db'}",
                              smtp_port=sink.port, workers=1)
        now = datetime.now(UTC)
        _, rows = store_reminders(config, now, [now - timedelta(minutes=1)] * count)
        services = load_services(config, BODIES)
        try:
            batch = [services.composer.message(row, record, now) for row, record in rows]
        finally:
            services.close()
        mailer = SmtpMailer(host="127.0.0.1", port=sink.port, timeout=20)
        started = time.perf_counter()
        for (row, _), message in zip(rows, batch, strict=True):
            mailer.send(message, row.key)
        mailer.close()
        elapsed = time.perf_counter() - started
        received = sink.count
    assert received == count, (received, count)
    return count / elapsed


def compose_rate(count: int) -> float:
    """Messages per second the service's composer makes (one thread), for comparison."""
    with tempfile.TemporaryDirectory(prefix="yhdyspinta-bench-") as name:
        folder = Path(name)
        config = write_config(folder, f"sqlite:///{folder / 'yhdyspinta.db'}", smtp_port=25)
        now = datetime.now(UTC)
        _, rows = store_reminders(config, now, [now - timedelta(minutes=1)] * count)
        services = load_services(config, BODIES)
        try:
            started = time.perf_counter()
            for row, record in rows:
                services.composer.message(row, record, now).as_bytes()
            return count / (time.perf_counter() - started)
        finally:
            services.close()


# -- the report -----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 100 firing rows, 1,000 catch-up rows, 3 s idle")
    parser.add_argument("--lateness", type=int, default=1000, help="rows due in the minute")
    parser.add_argument("--catch-up", type=int, default=10000, help="rows due at start")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--runs", type=int, default=1, help="runs of each service case")
    parser.add_argument("--mailer-runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle before memory")
    parser.add_argument("--lead", type=float, default=40.0,
                        help="seconds from storing the firing rows to the first one's due time")
    args = parser.parse_args()
    if args.quick:
        args.lateness, args.catch_up, args.idle, args.mailer_runs = 100, 1000, 3.0, 1
    load = os.getloadavg()
    print(f"Python {platform.python_version()} ({sys.executable}), {platform.machine()}, "
          f"{os.cpu_count()} cores, {platform.platform()}; load average at start "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)

    firings = []
    for run in range(args.runs):
        print(f"firing lateness: run {run + 1}, {args.lateness} rows ...", flush=True)
        firings.append(firing(args.lateness, args.lead, args.idle))
    fire = min(firings, key=lambda f: f.p99)

    catches: dict[int, list[CatchUp]] = {}
    for workers in args.workers:
        for run in range(args.runs):
            print(f"catch-up: workers = {workers}, run {run + 1}, {args.catch_up} rows ...",
                  flush=True)
            catches.setdefault(workers, []).append(catch_up(args.catch_up, workers, args.idle))

    print("bare SmtpMailer and composer ...", flush=True)
    mailer_count = min(args.catch_up, 2000)
    mailer = [bare_mailer(mailer_count) for _ in range(args.mailer_runs)]
    composing = [compose_rate(mailer_count) for _ in range(args.mailer_runs)]

    def all_runs(values: list[float], fmt: str) -> str:
        if len(values) < 2:
            return ""
        return " (runs: " + ", ".join(fmt.format(v) for v in values) + ")"

    rows: list[tuple[str, str, str]] = []
    n = args.lateness
    rows += [
        (f"firing lateness p50 ({n} reminders due over one minute)", ms(fire.p50), ""),
        (f"firing lateness p99 ({n} reminders)",
         ms(fire.p99) + all_runs([f.p99 * 1000 for f in firings], "{:.0f} ms"), "< 1,000 ms"),
        (f"firing lateness max ({n} reminders)", ms(fire.max), ""),
        ("firing: delivery runs that sent during the minute", str(fire.wakes), ""),
    ]
    for workers, runs in catches.items():
        best = min(runs, key=lambda c: c.total)
        rows += [
            ((f"catch-up, workers = {workers}: process start -> {args.catch_up:,}th reminder "
              "at the server"),
             f"{best.total:.1f} s" + all_runs([c.total for c in runs], "{:.1f} s"), "< 60 s"),
            (f"catch-up, workers = {workers}: process start -> first reminder",
             f"{best.first:.1f} s", ""),
            (f"catch-up, workers = {workers}: pipeline after the first reminder",
             f"{best.rate:.0f} messages/s", ""),
            ((f"catch-up, workers = {workers}: CPU of the service / of the SMTP server, "
              "start to last reminder"),
             (f"{best.cpu:.1f} s ({best.cpu / best.total:.2f} cores) / {best.sink_cpu:.1f} s "
              f"({best.sink_cpu / best.total:.2f} cores)"), ""),
        ]
    rows += [
        ((f"bare SmtpMailer, one connection, the same reminders composed beforehand "
          f"({mailer_count:,}; best of {len(mailer)})"),
         f"{max(mailer):.0f} messages/s" + all_runs(mailer, "{:.0f}"), ""),
        (f"composing the same reminders, one thread, no sending (best of {len(composing)})",
         f"{max(composing):.0f} messages/s" + all_runs(composing, "{:.0f}"), ""),
        (f"idle memory: VmRSS after planning, first wake and {args.idle:.0f} s idle",
         f"{fire.idle_rss:.1f} MiB" + all_runs([f.idle_rss for f in firings], "{:.1f}"),
         "< 120 MiB"),
        ("idle memory: VmHWM (peak) at that point", f"{fire.idle_hwm:.1f} MiB", ""),
        (f"VmRSS / VmHWM after the {n} firing rows and {args.idle:.0f} s idle",
         f"{fire.after_rss:.1f} / {fire.after_hwm:.1f} MiB", ""),
    ]
    for workers, runs in catches.items():
        best = min(runs, key=lambda c: c.total)
        rows.append(((f"VmRSS / VmHWM after the {args.catch_up:,}-row catch-up, workers = "
                      f"{workers}, and {args.idle:.0f} s idle"),
                     f"{best.rss:.1f} / {best.hwm:.1f} MiB", ""))

    print()
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; "
          f"SQLite (a fresh database per run); SMTP to aiosmtpd on 127.0.0.1 in its own process; "
          f"{args.runs} run{'s' if args.runs > 1 else ''} of each service case "
          f"(the best shown); firing with workers = 4")
    print()
    print("| measure | value | target |")
    print("|---|---:|---|")
    for measure, value, target in rows:
        print(f"| {measure} | {value} | {target} |")
    print()
    print(f"Notes: firing rows' first due time {fire.slack:.0f} s after the service had planned "
          f"and run its first wake; earliest arrival {ms(fire.min)} from its due time "
          f"(negative = early); messages not of ours (the catalogue's own actions due at "
          f"start): firing {fire.others}, catch-up "
          + ", ".join(f"workers = {w}: {runs[0].others}" for w, runs in catches.items())
          + f". Median of the runs' firing p50: "
          f"{statistics.median(f.p50 for f in firings) * 1000:.0f} ms. Load average at the end "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()) + " (other processes on the machine).")


if __name__ == "__main__":
    main()
