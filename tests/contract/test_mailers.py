"""The message-level contract of the iMIP backends (vdirsyncer's StorageTests pattern), run
against real local peers: a Maildir on disk and an aiosmtpd server on 127.0.0.1; then the
SMTP faults a real server produces (421, 451, 550, a dropped connection, a refused login).
The contract all four backends pass, through the pipeline, is test_delivery_contract.py."""

from __future__ import annotations

import contextlib
import mailbox
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from scheduler.catalogue.contacts import Recipient
from scheduler.delivery.maildir import MaildirMailer
from scheduler.delivery.ports import DeliveryRejected, DeliveryUnavailable, MessageSender
from scheduler.delivery.smtp import SmtpMailer
from scheduler.messaging.mail import Rendered, build_email

SENDER = Recipient("kokoukset@liitto.example", "Keski-Suomen liitto", "fi", "liitto")
CALENDAR = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u@y\r\n"
            b"SUMMARY:Kokous \xc3\xa4\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def message(to: str, n: int = 0, calendar: bool = True) -> EmailMessage:
    return build_email(
        sender=SENDER, recipient=Recipient(to, "Vastaanottaja Äö", "fi", None),
        rendered=Rendered(f"Kutsu {n}: Kuntakokous ke 17.2.2027", "Hyvä vastaanottaja,\n\nä",
                          "<p>ä</p>"),
        key=f"kuntakokous-2027-1@y|invite|{to}|{n}", domain="yhdyspinta",
        date=datetime(2027, 1, 27, 7, tzinfo=UTC),
        calendar=CALENDAR if calendar else None, method="REQUEST" if calendar else None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """An aiosmtpd handler that keeps every message and answers with scripted faults."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: list[str] = []  # consumed one per DATA
        self.connections = 0

    async def handle_EHLO(self, server: Any, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        assert envelope.mail_from is not None and envelope.content is not None
        content = envelope.original_content or envelope.content
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                               content if isinstance(content, bytes) else content.encode()))
        return "250 OK queued"


R = TypeVar("R", bound=Recorder)


@contextlib.contextmanager
def serving(recorder: R) -> Iterator[tuple[Controller, R]]:
    """aiosmtpd on a free local port with ``recorder`` as its handler, for a test's life."""
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Recorder]]:
    with serving(Recorder()) as server:
        yield server


class MailerContract:
    """What every backend promises; subclasses provide the backend and a way to read back."""

    @pytest.fixture
    def mailer(self) -> MessageSender:
        raise NotImplementedError

    def delivered(self) -> list[EmailMessage]:
        raise NotImplementedError

    def test_a_message_arrives_whole(self, mailer: MessageSender) -> None:
        sent = message("matti@example.org")
        receipt = mailer.send(sent, "k1")
        mailer.close()
        assert receipt.remote_id
        [got] = self.delivered()
        for header in ("Message-ID", "From", "To", "Subject"):
            assert str(got[header]) == str(sent[header])
        [part] = [p for p in got.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REQUEST"
        assert part.get_content().encode() == CALENDAR

    def test_many_messages_each_arrive_once(self, mailer: MessageSender) -> None:
        for n in range(25):
            mailer.send(message(f"vastaanottaja{n}@example.org", n), f"k{n}")
        mailer.close()
        ids = [str(m["Message-ID"]) for m in self.delivered()]
        assert len(ids) == len(set(ids)) == 25

    def test_a_plain_message_has_no_calendar(self, mailer: MessageSender) -> None:
        mailer.send(message("matti@example.org", calendar=False), "k")
        mailer.close()
        [got] = self.delivered()
        assert not [p for p in got.walk() if p.get_content_type() == "text/calendar"]
        assert got.get_body(preferencelist=("plain",)) is not None


class TestMaildir(MailerContract):
    @pytest.fixture
    def mailer(self, tmp_path: Path) -> MessageSender:
        self.path = tmp_path / "deep" / "outbox"
        return MaildirMailer(self.path)

    def delivered(self) -> list[EmailMessage]:
        box = mailbox.Maildir(str(self.path), create=False)
        parsed = [message_from_bytes(box.get_bytes(k), policy=default) for k in box.keys()]  # noqa: SIM118
        assert not list((self.path / "tmp").iterdir())  # every write finished (tmp -> new)
        return [m for m in parsed if isinstance(m, EmailMessage)]


class TestSmtp(MailerContract):
    @pytest.fixture
    def mailer(self, smtp_server: tuple[Controller, Recorder]) -> MessageSender:
        controller, self.recorder = smtp_server
        return SmtpMailer(host="127.0.0.1", port=controller.port, timeout=5)

    def delivered(self) -> list[EmailMessage]:
        parsed = [message_from_bytes(raw, policy=default) for _, _, raw in self.recorder.received]
        return [m for m in parsed if isinstance(m, EmailMessage)]

    def test_envelope_sender_is_the_organiser_and_the_connection_is_reused(
        self, mailer: MessageSender
    ) -> None:
        for n in range(5):
            mailer.send(message(f"v{n}@example.org", n), f"k{n}")
        mailer.close()
        assert {mail_from for mail_from, _, _ in self.recorder.received} == {SENDER.email}
        assert self.recorder.connections == 1


# -- SMTP faults -------------------------------------------------------------------------------


def smtp(controller: Controller, **options: Any) -> SmtpMailer:
    return SmtpMailer(host="127.0.0.1", port=controller.port, timeout=5, **options)


def test_a_refused_recipient_fails_only_its_own_message(smtp_server: tuple[Controller, Recorder]) -> None:
    controller, recorder = smtp_server
    recorder.rcpt_replies["poissa@example.org"] = "550 5.1.1 No such user"
    mailer = smtp(controller)
    mailer.send(message("eka@example.org"), "a")
    with pytest.raises(DeliveryRejected, match="550"):
        mailer.send(message("poissa@example.org"), "b")
    mailer.send(message("toka@example.org"), "c")
    mailer.close()
    assert [rcpt for _, rcpt, _ in recorder.received] == [["eka@example.org"], ["toka@example.org"]]


def test_451_is_transient_and_the_message_goes_on_the_next_try(
    smtp_server: tuple[Controller, Recorder],
) -> None:
    controller, recorder = smtp_server
    recorder.data_replies.append("451 4.3.0 Try again later")
    mailer = smtp(controller)
    with pytest.raises(DeliveryUnavailable, match="451"):
        mailer.send(message("matti@example.org"), "a")
    mailer.send(message("matti@example.org"), "a")
    mailer.close()
    assert len(recorder.received) == 1


def test_421_closes_and_the_next_send_reconnects(smtp_server: tuple[Controller, Recorder]) -> None:
    controller, recorder = smtp_server
    recorder.data_replies.append("421 4.3.2 Service shutting down")
    mailer = smtp(controller)
    with pytest.raises(DeliveryUnavailable, match="421"):
        mailer.send(message("matti@example.org"), "a")
    mailer.send(message("matti@example.org", 1), "b")
    mailer.close()
    assert len(recorder.received) == 1
    assert recorder.connections == 2


def test_no_server_is_transient() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(DeliveryUnavailable, match="cannot connect"):
        mailer.send(message("matti@example.org"), "a")


@pytest.mark.parametrize("secret", ["salasana-ala-nayta-1234", "salasana-ÄLÄ-NÄYTÄ"])
def test_a_refused_login_names_the_user_but_never_the_password(tmp_path: Path, secret: str) -> None:
    password_file = tmp_path / "smtp-password"
    password_file.write_text(secret + "\n", encoding="utf-8")

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"oikea"
        return AuthResult(success=ok, handled=False)

    controller = Controller(Recorder(), hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    try:
        mailer = smtp(controller, username="palvelu", password_file=str(password_file))
        with pytest.raises(DeliveryRejected) as caught:
            mailer.send(message("matti@example.org"), "a")
    finally:
        controller.stop()
    assert "palvelu" in str(caught.value)
    assert secret not in str(caught.value) and "salasana" not in repr(caught.value)

