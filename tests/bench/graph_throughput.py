"""Benchmark the ``graph`` backend's invitation throughput under Outlook-style throttling.

Usage::

    .venv/bin/python tests/bench/graph_throughput.py [--events 2000] [--mailboxes 20]
        [--latency 0.5] [--workers 120] [--serial-sample 20] [--skip-uncapped]

The local Graph (``tests/contract/graph_server.py``) runs in throttle mode: every request
holds its mailbox for ``--latency`` seconds of "work", at most 4 requests per mailbox may be
in flight (tech.md section 5), and a fifth gets 429 ApplicationThrottled + Retry-After: 1.
The throttle ceiling is therefore ``mailboxes * 4 / latency`` requests a second.

Cases, each through the real msgraph-sdk and ``GraphMailer.create_event``:

* capped, lanes: ``max_in_flight=4`` (the default), ``--events`` invitations spread evenly
  over ``--mailboxes`` organiser mailboxes, sent by 4 threads per mailbox, each with its own
  share of that mailbox's invitations (a dispatcher that schedules per mailbox);
* capped, shared queue: the same through one pool of ``--workers`` threads taking the next
  invitation whatever its mailbox, so a thread can block on a full mailbox while another
  mailbox has a free slot (head-of-line blocking);
* uncapped: the same with ``max_in_flight`` above the pool size, so only the server's 429s
  and Retry-After hold the client back (what happens without the per-mailbox semaphore);
  an invitation still throttled after kiota's 10 retries is counted as left for a later run;
* one at a time: ``--serial-sample`` invitations sent sequentially; its rate is what a
  single-threaded sender reaches (1 / latency), extrapolated to ``--events``.

Each parallel case checks that the server holds exactly ``--events`` events afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import shlex
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from azure.core.credentials import AccessToken

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scheduler.delivery import DeliveryUnavailable
from scheduler.delivery.graph import GraphMailer
from scheduler.delivery.ports import CalendarEvent, Person
from tests.contract.graph_server import running

HELSINKI = ZoneInfo("Europe/Helsinki")
CONCURRENCY = 4  # Outlook: 4 concurrent requests per app and mailbox (tech.md 5)


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("bench-token", int(time.time()) + 3600)


@dataclass
class Result:
    case: str
    events: int
    seconds: float
    throttled: int
    stored: int
    peak: int
    cpu: float  # client process CPU seconds (all threads)
    failed: int  # DeliveryUnavailable: still 429 after max_retries
    server_cpu: float = 0.0  # the Graph server process's CPU seconds over the same span
    calls: tuple[float, ...] = ()  # seconds each create_event took, in the parallel cases

    def call_ms(self, share: float) -> str:
        """The ``share`` quantile of one create_event's duration, in ms (server work
        included), or a dash for the serial case."""
        if not self.calls:
            return "—"
        ordered = sorted(self.calls)
        return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000:.0f}"

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def invitation(n: int, mailboxes: int) -> CalendarEvent:
    organizer = Person(f"toimielin{n % mailboxes:02d}@liitto.example", "Toimielin")
    start = datetime(2027, 2, 1, 9, tzinfo=HELSINKI) + timedelta(days=n // mailboxes)
    return CalendarEvent(
        uid=f"kokous-{n}@yhdyspinta", sequence=0, organizer=organizer,
        attendees=tuple(Person(f"jasen{k}@kunta{n % 7}.example", f"Jäsen {k}") for k in range(8)),
        start=start, end=start + timedelta(hours=2), subject=f"Kokous {n}",
        body_html=f"<p>Kokous {n}</p>", location="Valtuustosali")


def serve(commands: Connection, latency: float) -> None:
    """The local Graph in its own process, as the real one is: its threads must not take
    the client's GIL. Answers "url", "stats" and "stop" over the pipe."""
    with running(concurrency=CONCURRENCY, latency=latency, retry_after=1) as server:
        while True:
            command = commands.recv()
            if command == "url":
                commands.send(server.base_url)
            elif command == "cpu":  # this process's CPU seconds, all its threads
                commands.send(time.process_time())
            elif command == "stats":
                commands.send((server.throttled, sum(len(v) for v in server.events.values()),
                               max(server.peak.values(), default=0)))
            else:
                return


@contextlib.contextmanager
def graph_process(latency: float) -> Iterator[Connection]:
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=serve, args=(theirs, latency), daemon=True)
    child.start()
    try:
        yield ours
    finally:
        ours.send("stop")
        child.join(10)


def parallel(case: str, args: argparse.Namespace, max_in_flight: int,
             lanes: bool = False) -> Result:
    with graph_process(args.latency) as server:
        server.send("url")
        mailer = GraphMailer(base_url=server.recv(), credential=FakeCredential(),
                             max_in_flight=max_in_flight, max_retries=10, timeout=30)
        work = [invitation(n, args.mailboxes) for n in range(args.events)]
        calls: list[float] = []

        def one(n: int) -> bool:
            began = time.perf_counter()
            try:
                mailer.create_event(work[n], f"bench|{n}")
            except DeliveryUnavailable:  # still throttled after the retries: a later run's
                return False
            finally:
                calls.append(time.perf_counter() - began)  # list.append is atomic
            return True

        def lane(numbers: list[int]) -> int:
            return sum(not one(n) for n in numbers)

        for n in range(args.mailboxes):  # each mailbox's client made before the clock starts
            mailer.create_event(invitation(n, args.mailboxes), f"warm-up|{n}")
        server.send("cpu")
        server_cpu = server.recv()
        started, cpu = time.perf_counter(), time.process_time()
        if lanes:  # max_in_flight threads per mailbox, each with its share of that mailbox
            shares = [list(range(args.events))[m + args.mailboxes * k::args.mailboxes
                                               * max_in_flight]
                      for m in range(args.mailboxes) for k in range(max_in_flight)]
            with ThreadPoolExecutor(len(shares)) as pool:
                failed = sum(pool.map(lane, shares))
        else:  # one shared FIFO: a thread may wait on a full mailbox while another idles
            with ThreadPoolExecutor(args.workers) as pool:
                failed = sum(not ok for ok in pool.map(one, range(args.events)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        server.send("cpu")
        server_cpu = server.recv() - server_cpu
        mailer.close()
        server.send("stats")
        throttled, stored, peak = server.recv()
        return Result(case, args.events, seconds, throttled, stored - args.mailboxes, peak, cpu,
                      failed, server_cpu, tuple(calls))  # without the warm-up events


def serial(args: argparse.Namespace) -> Result:
    with graph_process(args.latency) as server:
        server.send("url")
        mailer = GraphMailer(base_url=server.recv(), credential=FakeCredential())
        for n in range(args.mailboxes):
            mailer.create_event(invitation(n, args.mailboxes), f"warm-up|{n}")
        server.send("cpu")
        server_cpu = server.recv()
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(args.serial_sample):
            mailer.create_event(invitation(n, args.mailboxes), f"serial|{n}")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        server.send("cpu")
        server_cpu = server.recv() - server_cpu
        mailer.close()
        server.send("stats")
        throttled, stored, peak = server.recv()
        return Result("one at a time", args.serial_sample, seconds, throttled, stored, peak,
                      cpu, 0, server_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--mailboxes", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=120)
    parser.add_argument("--serial-sample", type=int, default=20)
    parser.add_argument("--skip-uncapped", action="store_true")
    args = parser.parse_args()
    ceiling = args.mailboxes * CONCURRENCY / args.latency

    results = [parallel("capped, per-mailbox lanes (4 threads each)", args, CONCURRENCY,
                        lanes=True),
               parallel(f"capped, one shared queue, {args.workers} threads", args,
                        CONCURRENCY)]
    if not args.skip_uncapped:
        results.append(parallel(f"uncapped, one shared queue, {args.workers} threads "
                                "(server 429s only)", args, args.workers + 1))
    one = serial(args)

    print(f"Command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`\n")
    print(f"{args.events} invitations (create_event) over {args.mailboxes} mailboxes, "
          f"{args.workers} threads; server work {args.latency * 1000:.0f} ms a request, "
          f"≤{CONCURRENCY} in flight per mailbox, else 429 + Retry-After: 1. "
          f"Throttle ceiling {ceiling:.0f} req/s. {os.cpu_count()} CPUs; client CPU counts all "
          "the client process's threads, server CPU the Graph server process's; a call's "
          "time includes the server's work.\n")
    print("| case | events | seconds | events/s | of ceiling | vs one at a time "
          "| server 429s | peak in flight/mailbox | events stored | left for a later run "
          "| client CPU ms/event | server CPU ms/event | call ms p50 / p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in [*results, one]:
        seconds = r.seconds if r is not one else args.events / one.rate
        label = r.case if r is not one else (f"one at a time (measured on {one.events}, "
                                              f"extrapolated to {args.events})")
        events = args.events
        print(f"| {label} | {events} | {seconds:.1f} | {r.rate:.1f} | "
              f"{r.rate / ceiling:.1%} | {r.rate / one.rate:.1f}× | {r.throttled} | {r.peak} "
              f"| {r.stored if r is not one else '—'} | {r.failed} "
              f"| {r.cpu / r.events * 1000:.1f} | {r.server_cpu / r.events * 1000:.1f} "
              f"| {r.call_ms(0.5)} / {r.call_ms(0.95)} |")
    for r in results:
        if r.stored + r.failed != r.events or (r is results[0] and r.failed):
            print(f"\nFAILED: {r.case} left {r.stored} events for {r.events} invitations")
            sys.exit(1)


if __name__ == "__main__":
    main()
