"""Benchmark: 2,000 real iMIP invitations through ``SmtpMailer`` to a local aiosmtpd server.

Run: ``.venv/bin/python tests/bench/smtp_throughput.py [--messages 2000]``. Prints the
messages per second over one reused connection (target >= 300/s) and, for comparison,
with a new connection per message. Not a pytest test: figures go into the README.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import socket
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from scheduler.contacts import Recipient
from scheduler.delivery.smtp import SmtpMailer
from scheduler.invites import Invitation, request
from scheduler.messages import Rendered, build_email

HEL = ZoneInfo("Europe/Helsinki")
SENDER = Recipient("kokoukset@liitto.example", "Keski-Suomen liitto", "fi", "liitto")


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
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


def serve(port: int, received: Any, ready: Any, stop: Any) -> None:
    """The server in its own process, as in production: no GIL shared with the client."""
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    received.value = handler.count
    controller.stop()


def run(n: int, reuse: bool) -> float:
    port = free_port()
    received, ready, stop = multiprocessing.Value("i", 0), multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, received, ready, stop))
    server.start()
    ready.wait(10)
    batch = messages(n)
    try:
        mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=10)
        started = time.perf_counter()
        for i, message in enumerate(batch):
            mailer.send(message, str(i))
            if not reuse:
                mailer.close()
        mailer.close()
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        server.join(10)
    assert received.value == n, (received.value, n)
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    reused = run(args.messages, reuse=True)
    fresh = run(min(args.messages, 500), reuse=False)
    print(f"Python {platform.python_version()}, {args.messages} iMIP invitations (~6 kB each) "
          "to aiosmtpd on 127.0.0.1 in a separate process")
    print("| mode | messages/s | target |")
    print("|---|---:|---|")
    print(f"| one reused connection | {reused:.0f} | >= 300 |")
    print(f"| a new connection per message | {fresh:.0f} | |")


if __name__ == "__main__":
    main()
