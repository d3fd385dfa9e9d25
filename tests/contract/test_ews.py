"""The ``ews`` backend against a local EWS peer (tests/contract/ews_server.py): real
exchangelib, real HTTP and SOAP, the real OAuth2 token request; nothing of exchangelib is
mocked. Round trips with the wire details Exchange acts on (tech.md section 3), the faults
FaultTolerance handles or gives up on, and credentials kept out of errors and DEBUG logs."""

from __future__ import annotations

import base64
import dataclasses
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import exchangelib  # type: ignore[import-untyped]
import pytest

from scheduler.delivery import DeliveryRejected, DeliveryUnavailable
from scheduler.delivery.events import CalendarEvent, Person
from scheduler.delivery.ews import EwsMailer

from .ews_server import EwsServer, Fault, Recorded, T

HEL = ZoneInfo("Europe/Helsinki")
ORGANISER = Person("kokoukset@liitto.example", "Keski-Suomen liitto")
CLIENT_SECRET = "asiakas-SALAISUUS-7f3a"
TOKEN = "eyJ0eXAi.access-token-ALA-NAYTA.sig"
EVENT = CalendarEvent(
    uid="kuntakokous-2027-1@yhdyspinta", sequence=0, organizer=ORGANISER,
    attendees=(Person("matti@example.org", "Matti Meikäläinen"),
               Person("liisa@example.org", "Liisa Ääkkönen")),
    start=datetime(2027, 2, 17, 10, tzinfo=HEL), end=datetime(2027, 2, 17, 12, tzinfo=HEL),
    subject="Kuntakokous ke 17.2.2027", body_html="<p>Esityslista: ä</p>",
    location="Valtuustosali", reminder_minutes=45)

MakeMailer = Callable[..., EwsMailer]


@pytest.fixture
def server() -> Iterator[EwsServer]:
    with EwsServer(token=TOKEN, client_secret=CLIENT_SECRET) as peer:
        yield peer
    exchangelib.close_connections()  # Protocols are cached per endpoint and credentials


@pytest.fixture
def make_mailer(
    server: EwsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeMailer]:
    made: list[EwsMailer] = []
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the token peer is plain http
    secret_file = tmp_path / "client-secret"
    secret_file.write_text(CLIENT_SECRET + "\n", encoding="utf-8")

    def make(**options: Any) -> EwsMailer:
        settings: dict[str, Any] = {
            "service_endpoint": server.endpoint, "auth": "oauth2", "tenant_id": "tenant",
            "client_id": "yhdyspinta-app", "client_secret_file": str(secret_file),
            "token_url": server.token_url, "timeout": 5.0, "retry_seconds": 2}
        made.append(EwsMailer(**{**settings, **options}))
        return made[-1]

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def mailer(make_mailer: MakeMailer) -> EwsMailer:
    return make_mailer()


def only(server: EwsServer, operation: str) -> Recorded:
    [request] = [r for r in server.requests if r.operation == operation]
    return request


def tag(element: ET.Element, name: str) -> str:
    return element.findtext(f"{{{T}}}{name}") or ""


# -- round trips -------------------------------------------------------------------------------


def test_create_invites_everyone_in_helsinki_time_with_our_uid(
    mailer: EwsMailer, server: EwsServer
) -> None:
    receipt = mailer.create_event(EVENT, "k1")

    [item] = server.calendar(ORGANISER.email)
    assert receipt.remote_id == item.item_id and receipt.ical_uid == EVENT.uid == item.uid
    create = only(server, "CreateItem")
    assert create.attributes["SendMeetingInvitations"] == "SendToAllAndSaveCopy"
    assert create.impersonating == ORGANISER.email  # IMPERSONATION for the app-only token
    assert create.headers["Authorization"] == f"Bearer {TOKEN}"
    assert create.timezone == "FLE Standard Time"  # Windows name of Europe/Helsinki
    [element] = create.items()
    assert element.find(f"{{{T}}}StartTimeZone").get("Id") == "FLE Standard Time"  # type: ignore[union-attr]
    assert tag(element, "Start") == "2027-02-17T10:00:00+02:00"
    assert tag(element, "UID") == EVENT.uid
    attendees = element.findall(f"{{{T}}}RequiredAttendees/{{{T}}}Attendee")
    assert [tag(a, "ResponseType") for a in attendees] == ["Unknown", "Unknown"]
    assert item.subject == EVENT.subject and item.body_type == "HTML"
    assert item.location == "Valtuustosali"
    assert (item.reminder_set, item.reminder_minutes) == (True, 45)
    assert [(a.email, a.name) for a in item.attendees] == [
        ("matti@example.org", "Matti Meikäläinen"), ("liisa@example.org", "Liisa Ääkkönen")]
    [invitation] = server.sent
    assert invitation.kind == "invitation" and len(invitation.to) == 2
    assert server.token_requests[0]["client_id"] == ["yhdyspinta-app"]


def test_an_online_link_is_added_to_the_body(mailer: EwsMailer, server: EwsServer) -> None:
    mailer.create_event(dataclasses.replace(EVENT, online_url="https://meet.example/k?a=1&b=2"),
                        "k1")
    [item] = server.calendar(ORGANISER.email)
    assert '<a href="https://meet.example/k?a=1&amp;b=2">' in item.body


def test_update_sends_to_all_and_keeps_answers(mailer: EwsMailer, server: EwsServer) -> None:
    created = mailer.create_event(EVENT, "k1")
    server.respond(created.remote_id, "matti@example.org", "Accept")
    moved = dataclasses.replace(
        EVENT, sequence=1, subject="Kuntakokous SIIRRETTY",
        start=datetime(2027, 2, 18, 13, tzinfo=HEL), end=datetime(2027, 2, 18, 15, tzinfo=HEL),
        attendees=(EVENT.attendees[0], Person("uusi@example.org", "Uusi Jäsen")))

    receipt = mailer.update_event(created.remote_id, moved, "k2")

    assert receipt.remote_id == created.remote_id and receipt.ical_uid == EVENT.uid
    update = only(server, "UpdateItem")
    assert update.attributes["SendMeetingInvitationsOrCancellations"] == "SendToAllAndSaveCopy"
    assert update.timezone == "FLE Standard Time"
    [item] = server.calendar(ORGANISER.email)
    assert (item.subject, item.start, item.end) == (
        "Kuntakokous SIIRRETTY", "2027-02-18T13:00:00+02:00", "2027-02-18T15:00:00+02:00")
    assert [(a.email, a.response) for a in item.attendees] == [
        ("matti@example.org", "Accept"), ("uusi@example.org", "Unknown")]
    assert [(m.kind, [a for a, _ in m.to]) for m in server.sent[1:]] == [
        ("update", ["matti@example.org", "uusi@example.org"]),
        ("cancellation", ["liisa@example.org"])]


def test_cancel_sends_the_comment_to_everyone(mailer: EwsMailer, server: EwsServer) -> None:
    created = mailer.create_event(EVENT, "k1")
    receipt = mailer.cancel_event(created.remote_id, EVENT, "Kokous perutaan, uusi aika tulee.",
                                  "k3")
    assert receipt.remote_id == created.remote_id
    cancel = [r for r in server.requests if r.operation == "CreateItem"][-1]
    [element] = cancel.items()
    assert element.tag == f"{{{T}}}CancelCalendarItem"
    assert element.find(f"{{{T}}}ReferenceItemId").get("Id") == created.remote_id  # type: ignore[union-attr]
    assert cancel.attributes["MessageDisposition"] == "SendAndSaveCopy"
    [item] = server.calendar(ORGANISER.email)
    assert item.cancelled
    last = server.sent[-1]
    assert last.kind == "cancellation" and last.body == "Kokous perutaan, uusi aika tulee."
    assert {a for a, _ in last.to} == {"matti@example.org", "liisa@example.org"}


@pytest.mark.parametrize(("answer", "expected"), [
    ("Accept", "accepted"), ("Decline", "declined"), ("Tentative", "tentativelyAccepted"),
    ("NoResponseReceived", "none"), ("Unknown", "none")])
def test_responses_use_the_events_words(
    mailer: EwsMailer, server: EwsServer, answer: str, expected: str
) -> None:
    created = mailer.create_event(EVENT, "k1")
    server.respond(created.remote_id, "liisa@example.org", answer)
    assert mailer.responses(created.remote_id, ORGANISER) == {
        "matti@example.org": "none", "liisa@example.org": expected}


def test_a_delegate_uses_its_own_mailbox_without_impersonation(
    server: EwsServer, make_mailer: MakeMailer, tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text("oikea", encoding="utf-8")
    server.authorization = "Basic " + base64.b64encode(
        f"{ORGANISER.email}:oikea".encode()).decode()
    mailer = make_mailer(auth="basic", username=ORGANISER.email, password_file=str(password))
    mailer.create_event(EVENT, "k1")
    assert {r.impersonating for r in server.requests} == {None}
    assert len(server.calendar(ORGANISER.email)) == 1


# -- plain messages (the MailerContract's promises; see the report for why not a subclass) -----


def message(to: str, n: int = 0, html: bool = True) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{ORGANISER.name} <{ORGANISER.email}>"
    mail["To"] = f"Vastaanottaja Äö <{to}>"
    mail["Subject"] = f"Muistutus {n}: Kuntakokous ke 17.2.2027"
    mail["Message-ID"] = f"<muistutus-{n}@yhdyspinta>"
    mail.set_content("Hyvä vastaanottaja,\n\nä <b>")
    if html:
        mail.add_alternative("<p>Hyvä vastaanottaja, ä</p>", subtype="html")
    return mail


def test_a_message_arrives_whole(mailer: EwsMailer, server: EwsServer) -> None:
    receipt = mailer.send(message("matti@example.org"), "k1")
    assert receipt.remote_id == "<muistutus-0@yhdyspinta>"
    [sent] = server.sent
    assert sent.mailbox == ORGANISER.email and sent.kind == "message"
    assert sent.subject == "Muistutus 0: Kuntakokous ke 17.2.2027"
    assert sent.to == [("matti@example.org", "Vastaanottaja Äö")]
    assert (sent.body_type, sent.body.strip()) == ("HTML", "<p>Hyvä vastaanottaja, ä</p>")
    request = [r for r in server.requests if r.operation == "CreateItem"][-1]
    assert request.attributes["MessageDisposition"] == "SendAndSaveCopy"


def test_many_messages_each_arrive_once(mailer: EwsMailer, server: EwsServer) -> None:
    for n in range(25):
        mailer.send(message(f"vastaanottaja{n}@example.org", n), f"k{n}")
    assert sorted(m.to[0][0] for m in server.sent) == sorted(
        f"vastaanottaja{n}@example.org" for n in range(25))


def test_a_text_only_message_is_escaped_into_html(mailer: EwsMailer, server: EwsServer) -> None:
    mailer.send(message("matti@example.org", html=False), "k1")
    [sent] = server.sent
    assert sent.body_type == "HTML" and "ä &lt;b&gt;" in sent.body


def test_a_calendar_part_is_refused_before_anything_is_sent(
    mailer: EwsMailer, server: EwsServer
) -> None:
    mail = message("matti@example.org")
    mail.add_attachment(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", maintype="text",
                        subtype="calendar", filename="invite.ics")
    with pytest.raises(DeliveryRejected, match="create_event"):
        mailer.send(mail, "k1")
    assert server.requests == []


# -- faults ------------------------------------------------------------------------------------


def test_server_busy_is_waited_out_and_makes_exactly_one_item(
    mailer: EwsMailer, server: EwsServer
) -> None:
    mailer.create_event(EVENT, "warm-up")  # GetFolder and the token out of the way
    server.faults.append(Fault("busy", back_off_ms=300, operation="CreateItem"))
    began = time.monotonic()
    mailer.create_event(dataclasses.replace(EVENT, uid="toinen@yhdyspinta"), "k2")
    waited = time.monotonic() - began
    assert [i.uid for i in server.calendar(ORGANISER.email)] == [EVENT.uid, "toinen@yhdyspinta"]
    assert server.operations().count("CreateItem") == 3  # the warm-up, refused, accepted
    assert waited >= 0.3  # BackOffMilliseconds was honoured


def test_server_busy_longer_than_retry_seconds_is_transient(
    mailer: EwsMailer, server: EwsServer
) -> None:
    server.faults.append(Fault("busy", back_off_ms=10_000, times=99))
    began = time.monotonic()
    with pytest.raises(DeliveryUnavailable, match="RateLimitError"):
        mailer.create_event(EVENT, "k1")
    assert time.monotonic() - began < 2
    assert server.calendar(ORGANISER.email) == []


def test_persistent_503_is_transient(mailer: EwsMailer, server: EwsServer) -> None:
    server.faults.append(Fault("503", times=99))
    with pytest.raises(DeliveryUnavailable):
        mailer.create_event(EVENT, "k1")
    assert server.calendar(ORGANISER.email) == []


def test_an_answer_slower_than_the_timeout_is_transient(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    mailer = make_mailer(timeout=0.3, retry_seconds=1)
    server.faults.append(Fault("delay", delay=1.0, times=99))
    began = time.monotonic()
    with pytest.raises(DeliveryUnavailable, match="could not create the meeting"):
        mailer.create_event(EVENT, "k1")
    assert time.monotonic() - began < 3


def test_no_server_is_transient(make_mailer: MakeMailer, server: EwsServer) -> None:
    mailer = make_mailer(service_endpoint="http://127.0.0.1:9/EWS/Exchange.asmx", retry_seconds=1)
    with pytest.raises(DeliveryUnavailable):
        mailer.send(message("matti@example.org"), "k1")


def test_an_unknown_item_is_final_with_its_code(mailer: EwsMailer, server: EwsServer) -> None:
    with pytest.raises(DeliveryRejected, match="ErrorItemNotFound"):
        mailer.update_event("AAMkAD-puuttuu", EVENT, "k1")
    with pytest.raises(DeliveryRejected, match="ErrorItemNotFound"):
        mailer.cancel_event("AAMkAD-puuttuu", EVENT, "peruttu", "k2")


def test_an_invalid_recipient_is_final(mailer: EwsMailer, server: EwsServer) -> None:
    server.invalid_recipients.add("liisa@example.org")
    with pytest.raises(DeliveryRejected, match="ErrorInvalidRecipients"):
        mailer.create_event(EVENT, "k1")
    assert server.calendar(ORGANISER.email) == []


def test_a_401_after_a_success_is_taken_for_throttling(
    mailer: EwsMailer, server: EwsServer
) -> None:
    mailer.create_event(EVENT, "k1")
    server.faults.append(Fault("401"))
    with pytest.raises(DeliveryUnavailable, match="401"):
        mailer.send(message("matti@example.org"), "k2")


# -- secrets -----------------------------------------------------------------------------------


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_a_refused_password_names_the_user_only(
    server: EwsServer, make_mailer: MakeMailer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "salasana-ÄLÄ-NÄYTÄ-42"
    password = tmp_path / "password"
    password.write_text(secret + "\n", encoding="utf-8")
    server.authorization = "Basic " + base64.b64encode(b"palvelu@liitto.example:oikea").decode()
    # requests encodes Basic credentials as Latin-1; check the UTF-8 form too
    sent_headers = [base64.b64encode(f"palvelu@liitto.example:{secret}".encode(charset)).decode()
                    for charset in ("latin-1", "utf-8")]
    mailer = make_mailer(auth="basic", username="palvelu@liitto.example",
                         password_file=str(password), retry_seconds=60)
    began = time.monotonic()
    with pytest.raises(DeliveryRejected, match="401") as caught:
        mailer.create_event(EVENT, "k1")
    assert time.monotonic() - began < 2  # not retried as throttling: no AD lockout
    assert len(server.requests) == 1
    assert "palvelu@liitto.example" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is not None
    assert_clean(repr(caught.value), secret, *sent_headers, "salasana")
    assert caplog.records  # exchangelib did log the request at DEBUG ...
    assert "Authorization" in caplog.text  # ... with its request headers ...
    assert_clean(caplog.text, secret, *sent_headers)  # ... but not the credentials


def test_a_refused_client_secret_names_the_client_id_only(
    server: EwsServer, make_mailer: MakeMailer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = tmp_path / "wrong-secret"
    wrong.write_text("vaara-SALAISUUS-0000", encoding="utf-8")
    mailer = make_mailer(client_secret_file=str(wrong))
    with pytest.raises(DeliveryRejected, match="invalid_client") as caught:
        mailer.create_event(EVENT, "k1")
    assert "yhdyspinta-app" in str(caught.value)
    assert_clean(repr(caught.value), "vaara-SALAISUUS-0000", CLIENT_SECRET)
    assert server.token_requests[0]["client_secret"] == ["vaara-SALAISUUS-0000"]
    assert server.requests == []
    assert "client_secret" in caplog.text  # requests-oauthlib logged the token request ...
    assert_clean(caplog.text, "vaara-SALAISUUS-0000")  # ... with the secret redacted


def test_a_working_run_logs_no_token_or_secret(
    mailer: EwsMailer, server: EwsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = mailer.create_event(EVENT, "k1")
    mailer.update_event(created.remote_id, EVENT, "k2")
    mailer.send(message("matti@example.org"), "k3")
    assert "Authorization" in caplog.text  # exchangelib.util logs request headers at DEBUG
    assert_clean(caplog.text, TOKEN, CLIENT_SECRET)


def test_a_missing_secret_file_is_final(make_mailer: MakeMailer, tmp_path: Path) -> None:
    mailer = make_mailer(client_secret_file=str(tmp_path / "ei-ole"))
    with pytest.raises(DeliveryRejected, match="cannot read client_secret_file"):
        mailer.create_event(EVENT, "k1")


def test_configuration_mistakes_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown version"):
        EwsMailer(service_endpoint="https://ews.example/EWS/Exchange.asmx", version="Exchange2099")
    with pytest.raises(ValueError, match="service_endpoint"):
        EwsMailer()
