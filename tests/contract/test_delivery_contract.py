"""One contract every delivery backend passes, through the whole pipeline (issue 4).

The same meeting (the kuntakokous 2027, 22 organisations, convened by Jyväskylä) goes
through ``maildir``, ``smtp``, ``graph`` and ``ews``, each against its real local peer: a
Maildir on disk, aiosmtpd, the local Graph server through the real msgraph-sdk, the local
EWS server through the real exchangelib. What the contract checks is what participants
see, whatever the wire: each participant's calendar holds the meeting exactly once, moves
in place, loses it when removed or cancelled; each plain message arrives once; transient
faults of the peer lose nothing and duplicate nothing.

A participant's calendar is read the way their client would build it: for the iMIP
backends by applying the iTIP messages they received (RFC 5546 3.2: the highest SEQUENCE
wins, a CANCEL removes); for the event backends from the one item in the convener's
mailbox, whose attendee list Exchange invites, updates and cancels.
"""

from __future__ import annotations

import email
import mailbox
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import exchangelib  # type: ignore[import-untyped]
import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.ews import EwsMailer
from scheduler.delivery.graph import GraphMailer
from scheduler.delivery.maildir import MaildirMailer
from scheduler.delivery.ports import Backend
from scheduler.delivery.smtp import SmtpMailer
from scheduler.outbox.tables import outbox
from scheduler.planning.planner import Plan, Window, plan_meetings
from scheduler.planning.records import CALENDAR_KINDS, MeetingRecord
from scheduler.planning.workdays import WorkCalendar
from scheduler.service.deliver import DeliveryReport
from tests.conftest import HELSINKI, ROOT
from tests.contract import ews_server, graph_server
from tests.contract.test_graph import TOKEN as GRAPH_TOKEN
from tests.contract.test_graph import FakeCredential
from tests.contract.test_mailers import Recorder, free_port
from tests.integration.conftest import BROKEN, contacts_yaml
from tests.support.flow import Flow, services

CATALOGUE = load_catalogue(ROOT / "bodies")
CALENDAR = WorkCalendar(blackout_months=frozenset({7}))
UID = "kuntakokous-2027-1@yhdyspinta"
CONVENER = "kirjaamo@jyvaskyla.example"
WORKERS = 4  # the configured default: the promises hold with concurrent delivery calls
DROPPED = "laukaa"  # the organisation whose contact is removed in the attendee test


@dataclass(frozen=True)
class Seen:
    """One copy of the meeting in a participant's calendar."""

    start: datetime  # aware, UTC
    cancelled: bool


Calendars = dict[str, list[Seen]]  # participant address -> copies of the meeting


class Peer:
    """A backend and its real local peer, read back as participants would see it."""

    name: ClassVar[str]
    faults: ClassVar[tuple[str, ...]]  # transient faults this peer can produce

    def __init__(self, root: Path) -> None:
        """Start the peer; ``root`` is the test's own directory."""

    def backend(self) -> Backend:
        """A backend of the kind under test, talking to this peer."""
        raise NotImplementedError

    def calendars(self) -> Calendars:
        raise NotImplementedError

    def messages(self) -> list[tuple[str, str]]:
        """(recipient, subject) of every plain message that arrived, duplicates included."""
        raise NotImplementedError

    def inject(self, fault: str) -> None:
        """Make the next operations fail the way ``fault`` does (some peers: until healed)."""
        raise NotImplementedError

    def heal(self) -> None:
        """End any fault still in force."""

    def faults_left(self) -> int:
        """Injected faults not yet met (a standing fault counts as one)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the peer."""


# -- reading iMIP as a calendar client does -------------------------------------------------


def imip_calendars(messages: list[EmailMessage]) -> Calendars:
    """Apply each recipient's iTIP messages in SEQUENCE order (RFC 5546 2.1.4/2.1.5): the
    latest REQUEST sets the time, a CANCEL of that SEQUENCE or later removes the meeting.
    A message delivered twice shows as two copies."""
    latest: dict[str, tuple[tuple[int, int], Seen]] = {}
    copies: Counter[tuple[str, tuple[int, int]]] = Counter()
    for message in messages:
        calendar = calendar_part(message)
        if calendar is None:
            continue
        method = str(calendar["METHOD"])
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == UID
        rank = (int(event.get("SEQUENCE", 0)), 1 if method == "CANCEL" else 0)
        start = event.decoded("DTSTART").astimezone(UTC)
        for recipient in addresses(message):
            copies[recipient, rank] += 1
            if recipient not in latest or latest[recipient][0] < rank:
                latest[recipient] = (rank, Seen(start, method == "CANCEL"))
    return {who: [seen] * copies[who, rank] for who, (rank, seen) in latest.items()}


def calendar_part(message: EmailMessage) -> icalendar.Calendar | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return icalendar.Calendar.from_ical(payload)
    return None


def addresses(message: EmailMessage) -> list[str]:
    return [a.addr_spec.lower() for a in message["To"].addresses]


def plain(messages: list[EmailMessage]) -> list[tuple[str, str]]:
    return [(who, str(m["Subject"])) for m in messages if calendar_part(m) is None
            for who in addresses(m)]


# -- the four peers ---------------------------------------------------------------------------


class ImipPeer(Peer):
    """A peer that receives iMIP mail: calendars are built from what arrived."""

    def delivered(self) -> list[EmailMessage]:
        raise NotImplementedError

    def calendars(self) -> Calendars:
        return imip_calendars(self.delivered())

    def messages(self) -> list[tuple[str, str]]:
        return plain(self.delivered())


class MaildirPeer(ImipPeer):
    name = "maildir"
    faults = ("disk",)

    def __init__(self, root: Path) -> None:
        self.path = root / "outbox"
        self.box = MaildirMailer(self.path)

    def backend(self) -> Backend:
        return Backend(self.box)

    def delivered(self) -> list[EmailMessage]:
        box = mailbox.Maildir(str(self.path), create=False)
        parsed = [email.message_from_bytes(box.get_bytes(k), policy=default) for k in box.keys()]  # noqa: SIM118
        return [m for m in parsed if isinstance(m, EmailMessage)]

    def inject(self, fault: str) -> None:
        # The disk refuses: tmp/ is not a directory, as after a failed mount (ENOTDIR).
        (self.path / "tmp").rename(self.path / "tmp.saved")
        (self.path / "tmp").write_text("", encoding="utf-8")

    def faults_left(self) -> int:
        return int((self.path / "tmp.saved").exists())

    def heal(self) -> None:
        if (self.path / "tmp.saved").exists():
            (self.path / "tmp").unlink()
            (self.path / "tmp.saved").rename(self.path / "tmp")


class SmtpPeer(ImipPeer):
    name = "smtp"
    faults = ("451", "421", "down")

    def __init__(self, root: Path) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True

    def backend(self) -> Backend:
        return Backend(SmtpMailer(host="127.0.0.1", port=self.port, timeout=5))

    def delivered(self) -> list[EmailMessage]:
        parsed = [email.message_from_bytes(raw, policy=default) for _, _, raw in self.recorder.received]
        return [m for m in parsed if isinstance(m, EmailMessage)]

    def inject(self, fault: str) -> None:
        if fault == "down":
            self.controller.stop()
            self.running = False
        else:  # the next three DATA commands are refused; 421 also closes the connection
            reply = {"451": "451 4.3.0 Try again later", "421": "421 4.3.2 Shutting down"}[fault]
            self.recorder.data_replies.extend([reply] * 3)

    def faults_left(self) -> int:
        return len(self.recorder.data_replies) + (not self.running)

    def heal(self) -> None:
        self.recorder.data_replies.clear()
        if not self.running:
            self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
            self.controller.start()
            self.running = True

    def close(self) -> None:
        if self.running:
            self.controller.stop()


def graph_start(moment: dict[str, str]) -> datetime:
    wall = datetime.fromisoformat(moment["dateTime"][:19])
    return wall.replace(tzinfo=ZoneInfo(graph_server.ZONES[moment["timeZone"]])).astimezone(UTC)


class GraphPeer(Peer):
    name = "graph"
    faults = ("429", "503", "timeout", "lost")

    def __init__(self, root: Path) -> None:
        self.server = graph_server.GraphServer(token=GRAPH_TOKEN).start()
        self.made: list[GraphMailer] = []

    def backend(self) -> Backend:
        self.made.append(GraphMailer(base_url=self.server.base_url, credential=FakeCredential(),
                                     timeout=1, retry_delay=0.05))
        made = self.made[-1]
        return Backend(made, events=made, free_busy=made, answers=made)

    def calendars(self) -> Calendars:
        found: Calendars = {}
        for box, cancelled in ((self.server.events, False), (self.server.cancelled, True)):
            for event in box[CONVENER].values():
                for attendee in event["attendees"]:
                    who = attendee["emailAddress"]["address"].lower()
                    found.setdefault(who, []).append(Seen(graph_start(event["start"]), cancelled))
        return found

    def messages(self) -> list[tuple[str, str]]:
        return [(to["emailAddress"]["address"].lower(), sent["message"]["subject"])
                for box in self.server.sent.values() for sent in box
                for to in sent["message"]["toRecipients"]]

    def inject(self, fault: str) -> None:
        if fault == "timeout":  # three answers come later than the client waits; no work done
            faults = [graph_server.Fault(delay=2.0, status=503, method="POST")] * 3
        elif fault == "lost":  # the work is done, the answer comes too late: uncertain
            faults = [graph_server.Fault(delay=2.0, apply=True, method="POST")] * 2
            faults.append(graph_server.Fault(delay=2.0, apply=True, method="POST",
                                             endswith="/events"))  # the meeting's creation
        elif fault == "429":
            faults = [graph_server.Fault(status=429, headers={"Retry-After": "0"},
                                         code=graph_server.THROTTLED[0],
                                         message=graph_server.THROTTLED[1])] * 3
        else:
            faults = [graph_server.Fault(status=503, code="ServiceUnavailable",
                                         message="Service Unavailable")] * 3
        self.server.faults.extend(faults)

    def faults_left(self) -> int:
        return len(self.server.faults)

    def heal(self) -> None:
        self.server.faults.clear()

    def close(self) -> None:
        for made in self.made:
            made.close()
        self.server.stop()


class EwsPeer(Peer):
    name = "ews"
    faults = ("busy", "503", "timeout", "lost")
    SECRET = "asiakas-SALAISUUS-7f3a"

    def __init__(self, root: Path) -> None:
        self.server = ews_server.EwsServer(token="token-ALA-NAYTA", client_secret=self.SECRET)
        self.server.start()
        self.secret = root / "ews-secret"
        self.secret.write_text(self.SECRET, encoding="utf-8")

    def backend(self) -> Backend:
        made = EwsMailer(service_endpoint=self.server.endpoint, auth="oauth2", tenant_id="t",
                         client_id="yhdyspinta-app", client_secret_file=str(self.secret),
                         token_url=self.server.token_url, timeout=1.0, retry_seconds=1)
        return Backend(made, events=made, free_busy=made, answers=made)

    def calendars(self) -> Calendars:
        found: Calendars = {}
        for item in self.server.calendar(CONVENER):
            start = datetime.fromisoformat(item.start).astimezone(UTC)
            for attendee in item.attendees:
                found.setdefault(attendee.email.lower(), []).append(Seen(start, item.cancelled))
        return found

    def messages(self) -> list[tuple[str, str]]:
        return [(to.lower(), sent.subject) for sent in self.server.sent if sent.kind == "message"
                for to, _ in sent.to]

    def inject(self, fault: str) -> None:
        if fault == "lost":  # three CreateItems done, their answers too late: uncertain
            self.server.faults.append(ews_server.Fault("delay", times=3, delay=2.0,
                                                       operation="CreateItem", after_work=True))
            return
        kind = {"busy": "busy", "503": "503", "timeout": "delay"}[fault]
        self.server.faults.append(ews_server.Fault(kind, times=3, delay=2.0))  # type: ignore[arg-type]

    def faults_left(self) -> int:
        return sum(f.times for f in self.server.faults)

    def heal(self) -> None:
        self.server.faults.clear()

    def close(self) -> None:
        self.server.stop()
        exchangelib.close_connections()


# -- the contract -----------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each peer's own faults: a Maildir cannot answer 429, an SMTP server can say 421, and
    only a peer that can be asked afterwards (Graph, EWS) can promise exactly once when the
    work was done but the answer lost ("lost"); SMTP cannot (RFC 5321 6.1)."""
    if "fault" in metafunc.fixturenames and metafunc.cls is not None:
        metafunc.parametrize("fault", metafunc.cls.peer_class.faults)


def kuntakokous_2027() -> Plan:
    plan = plan_meetings(CATALOGUE, CALENDAR, Window(date(2027, 1, 1), date(2027, 12, 31)), HELSINKI)
    return Plan(tuple(m for m in plan.meetings if m.uid == UID), ())


class DeliveryContract:
    peer_class: ClassVar[type[Peer]]

    @pytest.fixture
    def peer(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local token peers are http
        made = self.peer_class(tmp_path)
        try:
            yield made
        finally:
            made.close()

    @pytest.fixture
    def flow(self, peer: Peer, tmp_path: Path) -> Flow:
        return self.pipeline(peer, tmp_path)

    @staticmethod
    def pipeline(peer: Peer, root: Path, *, omit: str | None = None) -> Flow:
        (root / "contacts.yaml").write_text(contacts_yaml(swedish=False, omit=omit), encoding="utf-8")
        return Flow(services(root, CATALOGUE, peer.backend(), workers=WORKERS))

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def invite_round(flow: Flow) -> tuple[MeetingRecord, datetime, DeliveryReport]:
        """Plan and send everything due three weeks before: preparation reminder, the
        members' agenda-item requests and the invitation."""
        flow.sync(kuntakokous_2027(), datetime(2027, 1, 1, tzinfo=UTC))
        record = flow.store.meeting(UID)
        assert record is not None
        now = record.start - timedelta(days=20)
        flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
        report = flow.deliver(now, clock=lambda row: now)
        return record, now, report

    @staticmethod
    def participants(flow: Flow) -> set[str]:
        record = flow.store.meeting(UID)
        assert record is not None
        return {r.email.lower() for r in flow.audience.attendees(record)}

    @staticmethod
    def live(calendars: Calendars) -> dict[str, list[Seen]]:
        return {who: [s for s in seen if not s.cancelled] for who, seen in calendars.items()
                if any(not s.cancelled for s in seen)}

    @staticmethod
    def sent_plain(flow: Flow) -> Counter[str]:
        """Recipients of the plain-message rows the store says were sent."""
        with flow.store.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.kind, outbox.c.recipient)
                                .where(outbox.c.state == "sent")).all()
        return Counter(r.recipient.lower() for r in rows if r.kind not in CALENDAR_KINDS)

    def assert_everyone_once(self, peer: Peer, flow: Flow, start: datetime) -> None:
        calendars = peer.calendars()
        expected = self.participants(flow)
        assert set(self.live(calendars)) == expected
        for who in expected:
            assert calendars[who] == [Seen(start.astimezone(UTC), False)], who
        received = Counter(who for who, _ in peer.messages())
        assert received == self.sent_plain(flow)
        assert max(Counter(peer.messages()).values()) == 1  # no message twice

    # -- the promises -----------------------------------------------------------------------

    def test_every_participant_gets_the_meeting_exactly_once(self, peer: Peer, flow: Flow) -> None:
        record, _, _ = self.invite_round(flow)
        assert len(self.participants(flow)) == 22  # Keuruu's one contact has a broken address
        self.assert_everyone_once(peer, flow, record.start)
        stored = flow.store.meeting(UID)
        assert stored is not None and stored.channel == peer.name
        assert flow.store.counts().get("pending", 0) == 0
        assert [who for _, who, _ in flow.store.failures()] == [BROKEN], flow.store.failures()

    def test_the_members_are_asked_for_agenda_items_and_the_convener_reminded(
        self, peer: Peer, flow: Flow
    ) -> None:
        self.invite_round(flow)
        received = Counter(who for who, _ in peer.messages())
        assert received[CONVENER] >= 1  # the agenda-preparation reminder
        members = self.participants(flow) - {CONVENER}
        assert all(received[who] >= 1 for who in members)  # the agenda-item request

    def test_running_again_sends_nothing(self, peer: Peer, flow: Flow) -> None:
        _, now, _ = self.invite_round(flow)
        before = (peer.calendars(), sorted(peer.messages()))
        flow.enqueue(now, since=datetime(2026, 12, 1, tzinfo=UTC))
        assert flow.deliver(now, clock=lambda row: now).sent == 0
        assert (peer.calendars(), sorted(peer.messages())) == before

    def test_a_move_changes_every_calendar_in_place(self, peer: Peer, flow: Flow) -> None:
        record, now, _ = self.invite_round(flow)
        later = record.start + timedelta(days=7)
        flow.move(UID, later, now)
        flow.deliver(now, clock=lambda row: now)
        self.assert_everyone_once(peer, flow, later)

    def test_a_removed_participant_loses_the_meeting_and_the_rest_keep_it(
        self, peer: Peer, flow: Flow, tmp_path: Path
    ) -> None:
        _, now, _ = self.invite_round(flow)
        removed = f"kirjaamo@{DROPPED}.example"
        assert removed in self.live(peer.calendars())
        fewer = self.pipeline(peer, tmp_path, omit=DROPPED)
        assert fewer.sync(kuntakokous_2027(), now) >= 1
        fewer.deliver(now, clock=lambda row: now)
        live = self.live(peer.calendars())
        assert removed not in live
        assert set(live) == self.participants(flow) - {removed}

    def test_a_cancellation_removes_it_from_every_calendar(self, peer: Peer, flow: Flow) -> None:
        _, now, _ = self.invite_round(flow)
        invited = set(self.live(peer.calendars()))
        flow.cancel(UID, "Päällekkäinen tilaisuus", now)
        flow.deliver(now, clock=lambda row: now)
        assert self.live(peer.calendars()) == {}
        assert invited <= set(peer.calendars())  # told, not forgotten

    def test_transient_faults_lose_nothing_and_duplicate_nothing(
        self, peer: Peer, flow: Flow, fault: str
    ) -> None:
        peer.inject(fault)
        record, now, report = self.invite_round(flow)
        assert report.retry or peer.faults_left() == 0  # the fault was met, not bypassed
        peer.heal()
        later = now + timedelta(hours=1)
        flow.deliver(later, clock=lambda row: later)  # the next dispatch run retries
        self.assert_everyone_once(peer, flow, record.start)
        assert flow.store.counts().get("pending", 0) == 0
        assert [who for _, who, _ in flow.store.failures()] == [BROKEN], flow.store.failures()


class TestMaildir(DeliveryContract):
    peer_class = MaildirPeer


class TestSmtp(DeliveryContract):
    peer_class = SmtpPeer


class TestGraph(DeliveryContract):
    peer_class = GraphPeer


class TestEws(DeliveryContract):
    peer_class = EwsPeer

