"""The pipeline delivering with several workers (``[delivery] workers``, issue 4) into real
peers: aiosmtpd on 127.0.0.1, a Maildir on disk and the local Graph server. Each message
arrives exactly once, one recipient's messages of one meeting arrive in the outbox's
order, a transient refusal leaves its row for the next run, a final one fails only its
own row, and a bug in a worker thread is raised only after every call under way has been
recorded (otherwise the next run would send those a second time)."""

from __future__ import annotations

import asyncio
import mailbox
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import select

from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.graph import GraphMailer
from scheduler.delivery.maildir import MaildirMailer
from scheduler.delivery.ports import Backend, Receipt
from scheduler.delivery.smtp import SmtpMailer
from scheduler.errors import UserError
from scheduler.messaging.mail import message_id
from scheduler.outbox.records import OutboxRow
from scheduler.outbox.tables import outbox
from scheduler.planning.planner import Plan, Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from scheduler.settings import load_settings
from tests.conftest import HELSINKI, ROOT
from tests.contract.graph_server import running
from tests.contract.test_graph import TOKEN as GRAPH_TOKEN
from tests.contract.test_graph import FakeCredential
from tests.contract.test_mailers import Recorder, serving
from tests.integration.conftest import BROKEN, contacts_yaml
from tests.support.flow import Flow, services

CATALOGUE = load_catalogue(ROOT / "bodies")
CALENDAR = WorkCalendar(blackout_months=frozenset({7}))
UID = "kuntakokous-2027-1@yhdyspinta"
CONVENER = "kirjaamo@jyvaskyla.example"
WORKERS = 4


class Overtaking(Recorder):
    """Answers DATA after a random pause, and holds the first message to each address in
    ``stall`` for a second, so that messages on several connections overtake one another
    unless the sender keeps them in order; counts QUITs."""

    def __init__(self) -> None:
        super().__init__()
        self.random = random.Random(4)
        self.quits = 0
        self.stall: set[str] = set()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        stalled = self.stall.intersection(envelope.rcpt_tos)
        self.stall -= stalled
        await asyncio.sleep(1.0 if stalled else self.random.uniform(0.01, 0.05))
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"

    def message_ids(self) -> list[str]:
        """Message-IDs in the order the server accepted them."""
        found = []
        for _, _, raw in self.received:
            match = re.search(rb"^Message-ID: *(<[^>]+>)", raw, re.MULTILINE | re.IGNORECASE)
            assert match is not None
            found.append(match.group(1).decode())
        return found


@pytest.fixture
def server() -> Iterator[tuple[Controller, Overtaking]]:
    with serving(Overtaking()) as running:
        yield running


def pipeline(root: Path, backend: Backend, workers: int = WORKERS) -> Flow:
    (root / "contacts.yaml").write_text(contacts_yaml(swedish=False), encoding="utf-8")
    return Flow(services(root, CATALOGUE, backend, workers=workers))


def smtp(controller: Controller) -> Backend:
    return Backend(SmtpMailer(host="127.0.0.1", port=controller.port, timeout=10))


def due_rows(flow: Flow) -> tuple[list[OutboxRow], datetime]:
    """The Kuntakokous two weeks before: preparation, agenda-item requests and invitations
    are due, so most recipients have two or three rows in one run."""
    plan = plan_meetings(CATALOGUE, CALENDAR, Window(date(2027, 1, 1), date(2027, 12, 31)), HELSINKI)
    flow.sync(Plan(tuple(m for m in plan.meetings if m.uid == UID), ()), datetime(2027, 1, 1, tzinfo=UTC))
    record = flow.store.meeting(UID)
    assert record is not None
    now = record.start - timedelta(days=14)
    flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
    return list(flow.store.pending(now)), now


def states(flow: Flow) -> dict[str, tuple[str, int, str | None]]:
    """Outbox key -> (state, attempts, remote id)."""
    with flow.store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.key, outbox.c.state, outbox.c.attempts, outbox.c.remote_id))
        return {key: (state, attempts, remote) for key, state, attempts, remote in rows}


def by_message_id(rows: list[OutboxRow]) -> dict[str, OutboxRow]:
    return {message_id(row.key, "yhdyspinta"): row for row in rows}


def sendable(rows: list[OutboxRow]) -> list[OutboxRow]:
    return [row for row in rows if row.recipient != BROKEN]


# -- SMTP ---------------------------------------------------------------------------------


def test_each_message_arrives_once_and_each_recipients_in_order(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    flow = pipeline(tmp_path, smtp(controller))
    rows, now = due_rows(flow)
    expected: dict[str, list[str]] = defaultdict(list)
    for row in sendable(rows):  # the store's order: by due time, then kind
        expected[row.recipient].append(row.key)
    recorder.stall = set(sorted(r for r, keys in expected.items() if len(keys) >= 2)[:8])
    assert len(recorder.stall) == 8  # lanes of several rows, their first message held back
    seen: list[tuple[int, int]] = []
    report = flow.deliver(now, clock=lambda row: now, progress=lambda done, total: seen.append((done, total)))

    arrived = recorder.message_ids()
    rows_by_id = by_message_id(rows)
    assert sorted(arrived) == sorted(message_id(r.key, "yhdyspinta") for r in sendable(rows))
    assert report.sent == len(arrived) and [line for line in report.failed if BROKEN not in line] == []
    assert seen == [(n, len(rows)) for n in range(1, len(rows) + 1)]
    # One connection per worker at most, each reused, each closed at the end of the run.
    assert 2 <= recorder.connections <= WORKERS and recorder.quits == recorder.connections

    order: dict[str, list[str]] = defaultdict(list)
    for mid in arrived:
        order[rows_by_id[mid].recipient].append(rows_by_id[mid].key)
    assert order == expected


def test_an_update_after_a_move_arrives_after_the_invitation_with_a_higher_sequence(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    flow = pipeline(tmp_path, smtp(controller))
    _, now = due_rows(flow)
    flow.deliver(now, clock=lambda row: now)
    record = flow.store.meeting(UID)
    assert record is not None and len(record.invited) > 20
    flow.move(UID, record.start + timedelta(days=7), now)
    report = flow.deliver(now, clock=lambda row: now)
    assert report.sent == len(record.invited)

    sequence: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for _, [recipient], raw in recorder.received:
        for method, number in re.findall(rb"METHOD:(\w+).*?SEQUENCE:(\d+)", raw, re.DOTALL):
            sequence[recipient].append((method.decode(), int(number)))
    assert {r: sequence[r] for r in record.invited} == {r: [("REQUEST", 0), ("REQUEST", 1)]
                                                        for r in record.invited}


def test_a_transient_451_leaves_its_rows_pending_and_the_next_run_sends_them(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    busy = ["kirjaamo@laukaa.example", "kirjaamo@muurame.example"]
    for address in busy:
        recorder.rcpt_replies[address] = "451 4.2.0 Mailbox busy, try later"
    recorder.data_replies.extend(["451 4.3.0 Try again later"] * 3)  # whichever DATA comes first
    flow = pipeline(tmp_path, smtp(controller))
    rows, now = due_rows(flow)
    held = [row for row in rows if row.recipient in busy]
    assert len(held) >= 4

    first = flow.deliver(now, clock=lambda row: now)
    assert len(first.retry) == len(held) + 3 and all("451" in line for line in first.retry)
    pending = {key for key, (state, _, _) in states(flow).items() if state == "pending"}
    assert {row.key for row in held} < pending and len(pending) == len(held) + 3
    assert all(states(flow)[key][1] == 1 for key in pending)  # one attempt counted
    assert len(recorder.received) == len(sendable(rows)) - len(pending)

    recorder.rcpt_replies.clear()
    second = flow.deliver(now, clock=lambda row: now)
    assert (second.sent, second.retry) == (len(pending), [])
    arrived = recorder.message_ids()
    assert sorted(arrived) == sorted(message_id(r.key, "yhdyspinta") for r in sendable(rows))
    assert "pending" not in flow.store.counts()


def test_an_invitation_still_pending_when_the_meeting_moves_goes_with_the_new_time(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    late = "kirjaamo@laukaa.example"
    recorder.rcpt_replies[late] = "451 4.2.0 Mailbox busy, try later"
    flow = pipeline(tmp_path, smtp(controller))
    _, now = due_rows(flow)
    flow.deliver(now, clock=lambda row: now)
    record = flow.store.meeting(UID)
    assert record is not None and late not in record.invited and len(record.invited) > 20
    later = record.start + timedelta(days=7)
    flow.move(UID, later, now)  # SEQUENCE 1 for everyone invited; laukaa's SEQUENCE 0 row waits
    recorder.rcpt_replies.clear()
    flow.deliver(now, clock=lambda row: now)

    [invitation] = [raw for _, rcpt, raw in recorder.received
                    if rcpt == [late] and b"METHOD:REQUEST" in raw]
    assert b"SEQUENCE:1" in invitation
    assert later.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode() in invitation or \
        later.strftime("%Y%m%dT%H%M%S").encode() in invitation
    moved = flow.store.meeting(UID)
    assert moved is not None and late in moved.invited


def test_a_refused_recipient_fails_only_its_own_rows(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    gone = "kirjaamo@laukaa.example"
    recorder.rcpt_replies[gone] = "550 5.1.1 No such user"
    flow = pipeline(tmp_path, smtp(controller))
    rows, now = due_rows(flow)
    report = flow.deliver(now, clock=lambda row: now)

    refused = [row for row in rows if row.recipient == gone]
    assert len(refused) >= 2
    assert [line for line in report.failed if gone in line and "550" in line] == \
        [line for line in report.failed if BROKEN not in line]
    assert len([line for line in report.failed if gone in line]) == len(refused)
    assert sorted(recorder.message_ids()) == sorted(
        message_id(r.key, "yhdyspinta") for r in sendable(rows) if r.recipient != gone)
    assert {states(flow)[row.key][0] for row in refused} == {"failed"}


class BuggySmtp(SmtpMailer):
    """A real SmtpMailer with a bug for one recipient: not a refusal, a crash."""

    def __init__(self, victim: str, **options: Any) -> None:
        super().__init__(**options)
        self.victim = victim

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        if self.victim in str(message["To"]):
            raise RuntimeError("a bug in the backend")
        return super().send(message, key, again=again)


def test_a_bug_in_a_worker_is_raised_after_the_calls_under_way_are_recorded(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    victim = "kirjaamo@laukaa.example"
    flow = pipeline(tmp_path, Backend(BuggySmtp(victim, host="127.0.0.1", port=controller.port,
                                                timeout=10)))
    rows, now = due_rows(flow)
    with pytest.raises(RuntimeError, match="a bug in the backend") as caught:
        flow.deliver(now, clock=lambda row: now)
    assert any(victim in note and "left pending" in note for note in caught.value.__notes__)

    # Whatever reached the server is recorded as sent, so nothing goes twice.
    recorded = states(flow)
    sent = {message_id(key, "yhdyspinta") for key, (state, _, _) in recorded.items() if state == "sent"}
    assert set(recorder.message_ids()) == sent
    [buggy] = [row for row in rows if row.recipient == victim][:1]
    assert recorded[buggy.key][:2] == ("pending", 0)  # like a one-at-a-time run: untouched
    assert recorder.quits == recorder.connections  # the mailer was still closed

    fixed = pipeline(tmp_path, smtp(controller))
    fixed.deliver(now, clock=lambda row: now)
    arrived = recorder.message_ids()
    assert len(arrived) == len(set(arrived))
    assert sorted(arrived) == sorted(message_id(r.key, "yhdyspinta") for r in sendable(rows))


class Interrupted(Exception):
    """What Ctrl-C would be, raised on the store's thread in the middle of a run."""


def test_an_interruption_records_the_calls_under_way_before_it_ends_the_run(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    flow = pipeline(tmp_path, smtp(controller))
    _, now = due_rows(flow)

    def interrupt(done: int, total: int) -> None:
        if done == 10:
            raise Interrupted

    with pytest.raises(Interrupted):
        flow.deliver(now, clock=lambda row: now, progress=interrupt)
    recorded = states(flow)
    sent = {message_id(key, "yhdyspinta") for key, (state, _, _) in recorded.items() if state == "sent"}
    assert set(recorder.message_ids()) == sent and len(sent) >= 10
    assert "pending" in {state for state, _, _ in recorded.values()}  # the rest waits
    assert recorder.quits == recorder.connections


def test_the_smtp_mailer_shared_by_threads_opens_one_connection_each_and_closes_them(
    server: tuple[Controller, Overtaking], tmp_path: Path
) -> None:
    controller, recorder = server
    flow = pipeline(tmp_path, smtp(controller), workers=1)
    rows, now = due_rows(flow)
    record = flow.store.meeting(UID)
    assert record is not None
    messages = [flow.composer.message(row, record, now) for row in sendable(rows)]
    mailer = smtp(controller).sender
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda m: mailer.send(m, ""), messages))
    mailer.close()
    assert sorted(recorder.message_ids()) == sorted(str(m["Message-ID"]) for m in messages)
    assert 2 <= recorder.connections <= 8 and recorder.quits == recorder.connections


# -- Maildir and Graph -------------------------------------------------------------------------


def test_the_maildir_takes_every_message_once_from_eight_workers(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    flow = pipeline(tmp_path, Backend(MaildirMailer(folder)), workers=8)
    rows, now = due_rows(flow)
    report = flow.deliver(now, clock=lambda row: now)

    box = mailbox.Maildir(str(folder), create=False)
    keys = set(box.keys())
    recorded = {remote for state, _, remote in states(flow).values() if state == "sent"}
    assert report.sent == len(keys) == len(sendable(rows)) and keys == recorded
    ids = [str(box[key]["Message-ID"]) for key in keys]
    assert sorted(ids) == sorted(message_id(r.key, "yhdyspinta") for r in sendable(rows))
    assert not list((folder / "tmp").iterdir())  # every write finished (tmp -> new)


def test_graph_creates_the_meeting_once_with_eight_workers(tmp_path: Path) -> None:
    with running(token=GRAPH_TOKEN, concurrency=4, latency=0.05) as graph:
        mailer = GraphMailer(base_url=graph.base_url, credential=FakeCredential(), timeout=5,
                             retry_delay=0.05)
        flow = pipeline(tmp_path, Backend(mailer, events=mailer, free_busy=mailer,
                                          answers=mailer), workers=8)
        rows, now = due_rows(flow)
        report = flow.deliver(now, clock=lambda row: now)
        assert [line for line in report.failed if BROKEN not in line] == []

        [event] = graph.events[CONVENER].values()
        assert len(event["attendees"]) == 22
        record = flow.store.meeting(UID)
        assert record is not None and record.remote_id == event["id"]
        plain = [row for row in sendable(rows) if row.recipient != "*"]
        assert sum(len(sent) for sent in graph.sent.values()) == len(plain)
        # The mailer's own limit holds whatever the pipeline's: no request was throttled.
        assert graph.throttled == 0 and 2 <= max(graph.peak.values()) <= 4

        flow.move(UID, record.start + timedelta(days=7), now)
        assert flow.deliver(now, clock=lambda row: now).sent == 1
        [moved] = graph.events[CONVENER].values()
        assert moved["id"] == event["id"]


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "words"), [("0", "at least 1"), ("65", "at most 64"),
                                              ('"four"', "whole number")])
def test_workers_out_of_range_is_refused_in_words(value: str, words: str) -> None:
    with pytest.raises(UserError) as caught:
        load_settings(None, {"YHDYSPINTA_DELIVERY_WORKERS": value})
    [problem] = caught.value.problems
    assert problem.path == "delivery.workers" and words in problem.message
    assert "YHDYSPINTA_DELIVERY_WORKERS" in problem.file


def test_the_default_is_four_workers_and_a_pipeline_refuses_zero(tmp_path: Path) -> None:
    assert load_settings(None, {}).delivery.workers == 4
    with pytest.raises(ValueError, match="workers must be 1 to 64, got 0"):
        pipeline(tmp_path, Backend(MaildirMailer(tmp_path / "outbox")), workers=0)
