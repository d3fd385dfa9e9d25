"""The pipeline with an event backend: the meeting is created once in the convener's own
mailbox (a real exchangelib against the local EWS server), moved and cancelled in place,
one channel for its whole life (issue 4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import exchangelib  # type: ignore[import-untyped]
import pytest

from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.ews import EwsMailer
from scheduler.delivery.graph import GraphMailer
from scheduler.delivery.maildir import MaildirMailer
from scheduler.delivery.ports import Backend
from scheduler.planning.planner import Plan, Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI, ROOT
from tests.contract.ews_server import EwsServer
from tests.contract.graph_server import running
from tests.contract.test_graph import TOKEN as GRAPH_TOKEN
from tests.contract.test_graph import FakeCredential
from tests.integration.conftest import BROKEN, contacts_yaml
from tests.support.flow import Flow, services

CATALOGUE = load_catalogue(ROOT / "bodies")
UID = "kuntakokous-2027-1@yhdyspinta"
CONVENER = "kirjaamo@jyvaskyla.example"
SECRET = "asiakas-SALAISUUS-7f3a"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EwsServer]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local token peer is plain http
    with EwsServer(token="token-ALA-NAYTA", client_secret=SECRET) as peer:
        yield peer
    exchangelib.close_connections()


def pipeline(root: Path, backend: Backend) -> Flow:
    (root / "contacts.yaml").write_text(contacts_yaml(swedish=False), encoding="utf-8")
    return Flow(services(root, CATALOGUE, backend))


def exchange(mailer: EwsMailer | GraphMailer) -> Backend:
    return Backend(mailer, events=mailer, free_busy=mailer, answers=mailer)


def ews(server: EwsServer, root: Path) -> EwsMailer:
    secret = root / "secret"
    secret.write_text(SECRET, encoding="utf-8")
    return EwsMailer(service_endpoint=server.endpoint, auth="oauth2", tenant_id="t",
                     client_id="yhdyspinta-app", client_secret_file=str(secret),
                     token_url=server.token_url, timeout=5.0, retry_seconds=2)


def kuntakokous_plan() -> Plan:
    plan = plan_meetings(CATALOGUE, WorkCalendar(blackout_months=frozenset({7})),
                         Window(date(2027, 1, 1), date(2027, 12, 31)), HELSINKI)
    return Plan(tuple(m for m in plan.meetings if m.uid == UID), ())


def test_the_meeting_lives_in_the_conveners_mailbox(server: EwsServer, tmp_path: Path) -> None:
    flow = pipeline(tmp_path, exchange(ews(server, tmp_path)))
    plan = kuntakokous_plan()
    flow.sync(plan, datetime(2027, 1, 1, tzinfo=UTC))
    record = flow.store.meeting(UID)
    assert record is not None
    now = record.start - timedelta(days=14)
    flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
    report = flow.deliver(now, clock=lambda row: now)
    assert [line for line in report.failed if BROKEN not in line] == []  # only the broken address

    [item] = server.calendar(CONVENER)
    assert item.uid == UID
    # The other municipalities, the liitto and HVA; Keuruu's only contact has a broken address.
    assert len(item.attendees) == 22
    record = flow.store.meeting(UID)
    assert record is not None and record.channel == "ews" and record.remote_id == item.item_id
    assert record.remote_ical_uid == UID  # Exchange keeps the UID it was given
    kinds = [s.kind for s in server.sent]
    assert kinds.count("invitation") == 1  # Exchange invites everyone from one item
    assert kinds.count("message") > 20  # agenda-item requests, one per member organisation

    again = flow.deliver(now, clock=lambda row: now)
    flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
    assert (again.sent, len(server.calendar(CONVENER))) == (0, 1)

    server.respond(item.item_id, "kirjaamo@laukaa.example", "Accept")
    assert flow.read_responses(now) == 1
    answered = flow.store.meeting(UID)
    assert answered is not None
    assert dict(answered.responses)["kirjaamo@laukaa.example"] == "accepted"
    assert dict(answered.responses)["kirjaamo@muurame.example"] == "none"

    later = record.start + timedelta(days=7)
    flow.move(UID, later, now)
    flow.deliver(now, clock=lambda row: now)
    [item] = server.calendar(CONVENER)
    assert item.start.startswith(later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")) or \
        item.start.startswith(later.strftime("%Y-%m-%dT%H:%M"))

    flow.cancel(UID, "Päällekkäinen tilaisuus", now)
    flow.deliver(now, clock=lambda row: now)
    [item] = server.calendar(CONVENER)
    assert item.cancelled


def test_one_channel_per_meeting(server: EwsServer, tmp_path: Path) -> None:
    flow = pipeline(tmp_path, exchange(ews(server, tmp_path)))
    flow.sync(kuntakokous_plan(), datetime(2027, 1, 1, tzinfo=UTC))
    record = flow.store.meeting(UID)
    assert record is not None
    now = record.start - timedelta(days=14)
    flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
    flow.deliver(now, clock=lambda row: now)

    switched = pipeline(tmp_path, Backend(MaildirMailer(tmp_path / "out")))
    switched.move(UID, record.start + timedelta(days=1), now)
    report = switched.deliver(now, clock=lambda row: now)
    assert report.sent == 0
    assert any("one channel per meeting" in line for line in report.failed)
    assert len(server.calendar(CONVENER)) == 1


def test_graph_creates_moves_and_cancels_the_meeting_once(tmp_path: Path) -> None:
    with running(token=GRAPH_TOKEN) as server:
        mailer = GraphMailer(base_url=server.base_url, credential=FakeCredential(), timeout=5,
                             retry_delay=0.05)
        try:
            flow = pipeline(tmp_path, exchange(mailer))
            flow.sync(kuntakokous_plan(), datetime(2027, 1, 1, tzinfo=UTC))
            record = flow.store.meeting(UID)
            assert record is not None
            now = record.start - timedelta(days=14)
            flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
            flow.deliver(now, clock=lambda row: now)
            [event] = server.events[CONVENER].values()
            assert len(event["attendees"]) == 22
            created = flow.store.meeting(UID)
            assert created is not None
            assert (created.remote_id, created.remote_ical_uid) == (event["id"], event["iCalUId"])
            flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
            assert flow.deliver(now, clock=lambda row: now).sent == 0

            server.respond(CONVENER, event["id"], "kirjaamo@laukaa.example", "accepted")
            assert flow.read_responses(now) == 1
            assert len(server.batches) == 1  # the answers come in one $batch
            answered = flow.store.meeting(UID)
            assert answered is not None
            assert dict(answered.responses)["kirjaamo@laukaa.example"] == "accepted"
            assert dict(answered.responses)["kirjaamo@muurame.example"] == "none"

            flow.move(UID, record.start + timedelta(days=7), now)
            flow.deliver(now, clock=lambda row: now)
            [moved] = server.events[CONVENER].values()
            assert moved["id"] == event["id"]
            assert moved["start"]["dateTime"].startswith(
                (record.start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))

            flow.cancel(UID, "Päällekkäinen tilaisuus", now)
            flow.deliver(now, clock=lambda row: now)
            assert server.events[CONVENER] == {}
            assert len(server.cancelled[CONVENER]) == 1
        finally:
            mailer.close()
