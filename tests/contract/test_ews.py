"""The ``ews`` backend against a local EWS peer (tests/contract/ews_server.py): real
exchangelib, real HTTP and SOAP, the real OAuth2 token request; nothing of exchangelib is
mocked. Round trips with the wire details Exchange acts on (tech.md section 3), the faults
FaultTolerance handles or gives up on, and credentials kept out of errors and DEBUG logs."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import exchangelib  # type: ignore[import-untyped]
import pytest

from scheduler.delivery import DeliveryRejected, DeliveryUnavailable
from scheduler.delivery.ews import EwsMailer
from scheduler.delivery.graph import KEY_PROPERTY
from scheduler.delivery.ports import CalendarEvent, Person

from .ews_server import OUTBOX_KEY_NAME, PS_PUBLIC_STRINGS, EwsServer, Fault, Recorded, T

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
    mailer.create_event(dataclasses.replace(EVENT, uid="toinen@yhdyspinta"), "k2")
    assert [i.uid for i in server.calendar(ORGANISER.email)] == [EVENT.uid, "toinen@yhdyspinta"]
    assert server.operations().count("CreateItem") == 3  # the warm-up, refused, accepted
    assert server.early_requests == 0  # BackOffMilliseconds was honoured: none came back early


def test_server_busy_longer_than_retry_seconds_is_transient(
    mailer: EwsMailer, server: EwsServer
) -> None:
    server.faults.append(Fault("busy", back_off_ms=10_000, times=99))
    with pytest.raises(DeliveryUnavailable, match="RateLimitError"):
        mailer.create_event(EVENT, "k1")
    assert len(server.requests) == 1  # given up at the first refusal, not after 10 s and more
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
    with pytest.raises(DeliveryUnavailable, match="could not create the meeting"):
        mailer.create_event(EVENT, "k1")
    assert len(server.requests) == 1  # the first request timed out, and was not sent again


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


# -- exactly once: the UID is the idempotency key ----------------------------------------------


def test_the_lookup_asks_for_the_uid_as_exchange_stores_it(
    mailer: EwsMailer, server: EwsServer
) -> None:
    mailer.create_event(EVENT, "k1")
    lookup = only(server, "FindItem")
    field = lookup.root.find(f".//{{{T}}}IsEqualTo/{{{T}}}ExtendedFieldURI")
    assert field is not None and field.attrib == {
        "DistinguishedPropertySetId": "Meeting", "PropertyId": "3", "PropertyType": "Binary"}
    constant = lookup.root.find(f".//{{{T}}}IsEqualTo//{{{T}}}Constant")
    assert constant is not None
    # MS-OXOCAL PidLidGlobalObjectId: class id, zeros, size, "vCal-Uid", 1, the UID, NUL
    assert base64.b64decode(constant.get("Value", "")) == (
        bytes.fromhex("040000008200E00074C5B7101A82E008") + bytes(20) + (42).to_bytes(4, "little")
        + b"vCal-Uid\x01\x00\x00\x00" + EVENT.uid.encode() + b"\x00")
    assert server.operations().index("FindItem") < server.operations().index("CreateItem")


def test_a_retry_finds_the_meeting_an_unanswered_create_made(
    mailer: EwsMailer, server: EwsServer
) -> None:
    # CreateItem is done but a proxy answers 503; the look-up after it fails too, so the
    # outbox keeps the row and tries again with the same key.
    server.faults += [Fault("503", after_work=True, operation="CreateItem"),
                      Fault("503", times=99, skip=1, operation="FindItem")]
    with pytest.raises(DeliveryUnavailable):
        mailer.create_event(EVENT, "k1")
    [made] = server.calendar(ORGANISER.email)
    server.faults.clear()

    receipt = mailer.create_event(EVENT, "k1")

    assert (receipt.remote_id, receipt.ical_uid) == (made.item_id, EVENT.uid)
    assert server.calendar(ORGANISER.email) == [made]
    assert server.operations().count("CreateItem") == 1
    assert [m.kind for m in server.sent] == ["invitation"]  # invited once


def test_an_answer_lost_to_the_timeout_is_found_at_once(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    mailer = make_mailer(timeout=0.3)
    server.faults.append(Fault("delay", delay=1.0, after_work=True, operation="CreateItem"))
    receipt = mailer.create_event(EVENT, "k1")
    [made] = server.calendar(ORGANISER.email)
    assert receipt.remote_id == made.item_id
    assert server.operations().count("CreateItem") == 1
    assert server.operations().count("FindItem") == 2  # before, and after the lost answer


def test_a_meeting_not_made_before_the_503_is_made_by_the_retry(
    mailer: EwsMailer, server: EwsServer
) -> None:
    server.faults.append(Fault("503", operation="CreateItem"))  # refused before the work
    with pytest.raises(DeliveryUnavailable, match="no such item there yet"):
        mailer.create_event(EVENT, "k1")
    assert server.calendar(ORGANISER.email) == []
    receipt = mailer.create_event(EVENT, "k1")
    [made] = server.calendar(ORGANISER.email)
    assert receipt.remote_id == made.item_id


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """exchangelib waits RETRY_WAIT (10 s) before sending a failed request again; shorter
    here, so that its re-sending happens within the test's retry_seconds."""
    monkeypatch.setattr(exchangelib.protocol.BaseProtocol, "RETRY_WAIT", 0.05)


@pytest.mark.usefixtures("quick_retries")
def test_exchangelib_does_not_send_a_create_again_after_a_503(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    mailer = make_mailer(retry_seconds=5)  # FaultTolerance would re-send after 0.05 s
    server.faults.append(Fault("503", after_work=True, operation="CreateItem"))
    receipt = mailer.create_event(EVENT, "k1")
    [made] = server.calendar(ORGANISER.email)
    assert receipt.remote_id == made.item_id
    assert server.operations().count("CreateItem") == 1


@pytest.mark.usefixtures("quick_retries")
def test_exchangelib_does_not_send_a_create_again_after_a_timeout(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    mailer = make_mailer(timeout=0.3, retry_seconds=5)
    mailer.create_event(dataclasses.replace(EVENT, uid="ensin@yhdyspinta"), "k0")
    # With more than one connection exchangelib re-sends after a timeout (_get_elements);
    # several worker threads grow the pool so. The protocol is reached through our Account.
    mailer._account(ORGANISER.email).protocol.increase_poolsize()
    server.faults.append(Fault("delay", delay=1.0, after_work=True, operation="CreateItem"))
    receipt = mailer.create_event(EVENT, "k1")
    assert [i.uid for i in server.calendar(ORGANISER.email)] == ["ensin@yhdyspinta", EVENT.uid]
    assert receipt.remote_id == server.calendar(ORGANISER.email)[1].item_id
    assert server.operations().count("CreateItem") == 2  # one each


@pytest.mark.usefixtures("quick_retries")
def test_every_event_exists_once_and_none_is_lost_under_faults(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    """What the outbox does: a row whose call ends in DeliveryUnavailable is tried again
    with the same key, until it has a receipt."""
    mailer = make_mailer(timeout=0.5, retry_seconds=5)
    faults: list[Fault | None] = [
        Fault("busy", operation="CreateItem"), Fault("503", operation="CreateItem"),
        Fault("503", after_work=True, operation="CreateItem"),
        Fault("delay", delay=1.0, after_work=True, operation="CreateItem"),
        Fault("503", operation="FindItem"), Fault("busy", operation="FindItem"), None]
    events = [dataclasses.replace(EVENT, uid=f"kokous-{n}@yhdyspinta") for n in range(14)]
    receipts, attempts = {}, 0
    for n, event in enumerate(events):
        fault = faults[n % len(faults)]
        if fault is not None:
            server.faults.append(dataclasses.replace(fault))
        for _ in range(3):
            attempts += 1
            try:
                receipts[event.uid] = mailer.create_event(event, f"rivi-{n}")
                break
            except DeliveryUnavailable:
                continue
    items = server.calendar(ORGANISER.email)
    assert sorted(i.uid for i in items) == sorted(e.uid for e in events)  # each exactly once
    assert {uid: r.remote_id for uid, r in receipts.items()} == {i.uid: i.item_id for i in items}
    assert len([m for m in server.sent if m.kind == "invitation"]) == len(events)
    assert attempts == len(events) + 2  # the two 503s before the work needed a second try


def test_a_uid_that_cannot_be_looked_up_is_refused_before_anything_is_sent(
    mailer: EwsMailer, server: EwsServer
) -> None:
    with pytest.raises(DeliveryRejected, match="not ASCII"):
        mailer.create_event(dataclasses.replace(EVENT, uid="kokous-ä@yhdyspinta"), "k1")
    assert server.requests == []


# -- exactly once: a plain message carries its outbox key --------------------------------------

SENDER = ORGANISER.email
# A key as the pipeline makes them (uid|kind|recipient|sequence), with what XML and a
# restriction's Constant must carry whole: quotes, <, &, non-ASCII.
ODD_KEY = 'kokous-"A"&<B>\'s|muistutus|Ääkkönen <liisa@example.org>|0'


def sent_with(server: EwsServer, key: str) -> list[str]:
    """The item ids of messages in the sender's mailbox that carry ``key``."""
    return [m.item_id for m in server.messages(SENDER) if m.outbox_key == key]


def test_a_message_carries_the_key_graph_uses(mailer: EwsMailer, server: EwsServer) -> None:
    mailer.send(message("matti@example.org"), "k1")

    [element] = only(server, "CreateItem").items()
    [prop] = element.findall(f"{{{T}}}ExtendedProperty")
    uri = prop.find(f"{{{T}}}ExtendedFieldURI")
    assert uri is not None
    # The same named property as graph's singleValueExtendedProperty id
    as_graph_names_it = (f"String {{{uri.get('PropertySetId', '').upper()}}} "
                         f"Name {uri.get('PropertyName')}")
    assert as_graph_names_it == KEY_PROPERTY
    assert uri.get("PropertySetId", "").lower() == PS_PUBLIC_STRINGS
    assert (uri.get("PropertyName"), uri.get("PropertyType")) == (OUTBOX_KEY_NAME, "String")
    assert tag(prop, "Value") == "k1"
    [sent] = server.messages(SENDER)
    assert (sent.outbox_key, sent.folder) == ("k1", "sentitems")
    assert "FindItem" not in server.operations()  # a first attempt does not look


@pytest.mark.usefixtures("quick_retries")
@pytest.mark.parametrize("fault", [
    Fault("503", after_work=True, operation="CreateItem"),
    Fault("delay", delay=1.0, after_work=True, operation="CreateItem"),
    Fault("drop", after_work=True, operation="CreateItem"),
], ids=["503-after-the-work", "timeout-after-the-work", "dropped-after-the-work"])
@pytest.mark.parametrize("connections", [1, 2])
def test_a_lost_answer_is_uncertain_and_the_retry_finds_the_message(
    make_mailer: MakeMailer, server: EwsServer, fault: Fault, connections: int
) -> None:
    # FaultTolerance would re-send after 0.05 s within retry_seconds; with more than one
    # connection exchangelib also re-sends after a timeout (_get_elements).
    mailer = make_mailer(timeout=0.3, retry_seconds=5)
    mailer.send(message("matti@example.org", 0), "k0")  # the token and the folders
    for _ in range(connections - 1):
        mailer._account(SENDER).protocol.increase_poolsize()
    server.faults.append(dataclasses.replace(fault))  # parametrize shares the object

    with pytest.raises(DeliveryUnavailable, match="^uncertain: ews: no answer to sending"):
        mailer.send(message("matti@example.org", 1), "k1")
    [made] = sent_with(server, "k1")  # Exchange did send it, once
    assert server.operations().count("CreateItem") == 2  # k0, and k1 once: not re-sent

    receipt = mailer.send(message("matti@example.org", 1), "k1", again=True)

    assert receipt.remote_id == "<muistutus-1@yhdyspinta>"
    assert sent_with(server, "k1") == [made]  # no second message
    assert server.operations().count("CreateItem") == 2
    lookup = only(server, "FindItem")
    folders = [f.get("Id") for f in lookup.root.iter(f"{{{T}}}DistinguishedFolderId")]
    assert folders == ["sentitems", "outbox"]


def test_a_timeout_before_any_work_is_sent_once_by_the_retry(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    mailer = make_mailer(timeout=0.3)
    # The request hangs and the connection closes; Exchange never did it. The client
    # cannot tell this from a lost answer, so it is uncertain too.
    server.faults.append(Fault("drop", delay=1.0, operation="CreateItem"))
    with pytest.raises(DeliveryUnavailable, match="^uncertain: "):
        mailer.send(message("matti@example.org"), "k1")
    assert server.messages(SENDER) == []

    mailer.send(message("matti@example.org"), "k1", again=True)

    assert len(sent_with(server, "k1")) == 1
    assert server.operations()[-2:] == ["FindItem", "CreateItem"]  # looked, then sent


def test_a_message_still_in_the_outbox_is_found(mailer: EwsMailer, server: EwsServer) -> None:
    server.hold_in_outbox = True  # transport has not taken it yet: no copy in Sent Items
    server.faults.append(Fault("503", after_work=True, operation="CreateItem"))
    with pytest.raises(DeliveryUnavailable, match="^uncertain: "):
        mailer.send(message("matti@example.org"), "k1")
    mailer.send(message("matti@example.org"), "k1", again=True)
    [sent] = server.messages(SENDER)
    assert (sent.outbox_key, sent.folder) == ("k1", "outbox")


def test_a_key_with_quotes_and_unicode_round_trips(mailer: EwsMailer, server: EwsServer) -> None:
    server.faults.append(Fault("503", after_work=True, operation="CreateItem"))
    with pytest.raises(DeliveryUnavailable, match="^uncertain: "):
        mailer.send(message("liisa@example.org"), ODD_KEY)
    [sent] = server.messages(SENDER)
    assert sent.outbox_key == ODD_KEY  # whole, as the server stored it

    mailer.send(message("liisa@example.org"), ODD_KEY, again=True)
    assert len(server.messages(SENDER)) == 1  # the restriction's Constant matched it
    # A key that differs only at the end is another message, and is sent.
    mailer.send(message("liisa@example.org", 2), ODD_KEY[:-1] + "1", again=True)
    assert [m.outbox_key for m in server.messages(SENDER)] == [ODD_KEY, ODD_KEY[:-1] + "1"]


@pytest.mark.usefixtures("quick_retries")
@pytest.mark.parametrize(("auth", "connections"), [("oauth2", 1), ("basic", 1), ("basic", 2)])
def test_a_connection_never_made_is_transient_but_not_uncertain(
    make_mailer: MakeMailer, server: EwsServer, tmp_path: Path, auth: str, connections: int
) -> None:
    # With oauth2 the refused CreateItem is followed by a refused token request (exchangelib
    # retires the session and a new one asks for a token); with basic, by nothing, or with
    # two connections by exchangelib's own retry of a request that never went.
    password = tmp_path / "password"
    password.write_text("oikea", encoding="utf-8")
    mailer = make_mailer(auth=auth, username=SENDER, password_file=str(password),
                         retry_seconds=1)
    server.keep_alive = False  # no connection stays open to be used after stop()
    mailer.send(message("matti@example.org", 0), "k0")  # Sent Items (and a token) known
    for _ in range(connections - 1):
        mailer._account(SENDER).protocol.increase_poolsize()
    server.stop()  # now the CreateItem itself finds the port closed: connection refused
    with pytest.raises(DeliveryUnavailable) as caught:
        mailer.send(message("matti@example.org", 1), "k1")
    assert str(caught.value).startswith("ews: could not send a message")  # not "uncertain"
    assert server.operations().count("CreateItem") == 1  # k0 only


def test_a_lost_answer_stays_uncertain_when_signing_in_again_fails(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    mailer = make_mailer(timeout=0.3)
    mailer.send(message("matti@example.org", 0), "k0")
    # After the timeout exchangelib retires the session; the new one asks for a token,
    # and is refused. The failure that matters is still the CreateItem's lost answer.
    server.client_secret = "toinen-salaisuus"
    server.faults.append(Fault("delay", delay=1.0, after_work=True, operation="CreateItem"))
    with pytest.raises(DeliveryUnavailable, match="^uncertain: "):
        mailer.send(message("matti@example.org", 1), "k1")
    assert len(sent_with(server, "k1")) == 1


def test_a_lookup_that_fails_sends_nothing(mailer: EwsMailer, server: EwsServer) -> None:
    server.faults.append(Fault("503", times=99, operation="FindItem"))
    with pytest.raises(DeliveryUnavailable) as caught:
        mailer.send(message("matti@example.org"), "k1", again=True)
    assert not str(caught.value).startswith("uncertain")  # nothing was sent: plainly again
    assert "CreateItem" not in server.operations()


@pytest.mark.usefixtures("quick_retries")
def test_every_message_is_sent_once_and_none_is_lost_under_faults(
    make_mailer: MakeMailer, server: EwsServer
) -> None:
    """What the outbox does: a row whose send ends in DeliveryUnavailable is tried again
    with the same key, ``again`` from the second attempt on (pipeline.Pipeline)."""
    mailer = make_mailer(timeout=0.3, retry_seconds=5)
    rounds: list[list[Fault]] = [
        [Fault("busy", operation="CreateItem")],  # refused before the work: waited out
        [Fault("503", operation="CreateItem")],  # before the work, but who can tell
        [Fault("503", after_work=True, operation="CreateItem")],
        [Fault("delay", delay=1.0, after_work=True, operation="CreateItem")],
        [Fault("drop", after_work=True, operation="CreateItem")],
        [Fault("drop", delay=1.0, operation="CreateItem")],
        [Fault("503", after_work=True, operation="CreateItem"),
         Fault("503", operation="FindItem")],  # the retry's look-up is retried in turn
        []]
    attempts = 0
    for n in range(16):
        server.faults += [dataclasses.replace(f) for f in rounds[n % len(rounds)]]
        for attempt in range(3):
            attempts += 1
            try:
                mailer.send(message(f"vastaanottaja{n}@example.org", n), f"rivi-{n}",
                            again=attempt > 0)
                break
            except DeliveryUnavailable:
                continue
    keys = [m.outbox_key or "" for m in server.messages(SENDER)]
    assert sorted(keys) == sorted(f"rivi-{n}" for n in range(16))  # each exactly once
    assert attempts == 16 + 2 * 6  # six kinds of round in eight needed a second attempt
    assert all(f.times == 0 for f in server.faults)  # every fault was met


# -- free/busy ---------------------------------------------------------------------------------

OTHER = "sihteeri@kunta.example"
UTC = ZoneInfo("UTC")


def test_free_busy_gives_busy_oof_and_tentative_in_utc(mailer: EwsMailer, server: EwsServer) -> None:
    mailer.create_event(EVENT, "k1")  # 10-12 in Helsinki: 08-10 UTC
    for day, busy_type in enumerate(("Busy", "OOF", "Tentative", "Free", "WorkingElsewhere",
                                     "NoData"), start=1):
        server.add_busy(OTHER, datetime(2027, 2, day, 9, tzinfo=HEL),
                        datetime(2027, 2, day, 10, tzinfo=HEL), busy_type)
    server.add_busy(OTHER, datetime(2027, 2, 1, 9, 30, tzinfo=HEL),
                    datetime(2027, 2, 1, 11, tzinfo=HEL))  # overlaps the first: merged

    busy = mailer.free_busy([ORGANISER.email, OTHER], datetime(2027, 2, 1, tzinfo=HEL),
                            datetime(2027, 2, 28, tzinfo=HEL))

    assert busy == {
        ORGANISER.email: [(datetime(2027, 2, 17, 8, tzinfo=UTC), datetime(2027, 2, 17, 10, tzinfo=UTC))],
        OTHER: [(datetime(2027, 2, 1, 7, tzinfo=UTC), datetime(2027, 2, 1, 9, tzinfo=UTC)),
                (datetime(2027, 2, 2, 7, tzinfo=UTC), datetime(2027, 2, 2, 8, tzinfo=UTC)),
                (datetime(2027, 2, 3, 7, tzinfo=UTC), datetime(2027, 2, 3, 8, tzinfo=UTC))]}
    assert all(moment.utcoffset() == timedelta(0) for blocks in busy.values()
               for block in blocks for moment in block)
    zones, [ask] = only(server, "GetServerTimeZones"), [
        r for r in server.requests if r.operation == "GetUserAvailability"]
    assert [e.text for e in zones.root.iter(f"{{{T}}}Id")] == ["UTC"]
    assert ask.impersonating == ORGANISER.email  # an app-only token must name a mailbox
    assert ask.root.findtext(f".//{{{T}}}RequestedView") == "FreeBusy"  # no subjects


def test_free_busy_of_an_hour_that_happens_twice_in_helsinki(
    mailer: EwsMailer, server: EwsServer
) -> None:
    # 31.10.2027: 03:00-04:00 comes twice in Helsinki; in UTC the two are 00-01 and 01-02.
    server.add_busy(OTHER, datetime(2027, 10, 31, 1, tzinfo=UTC),
                    datetime(2027, 10, 31, 2, tzinfo=UTC))
    busy = mailer.free_busy([OTHER], datetime(2027, 10, 30, tzinfo=HEL),
                            datetime(2027, 11, 1, tzinfo=HEL))
    assert busy[OTHER] == [(datetime(2027, 10, 31, 1, tzinfo=UTC),
                            datetime(2027, 10, 31, 2, tzinfo=UTC))]


def test_free_busy_asks_at_most_100_mailboxes_and_42_days_at_a_time(
    mailer: EwsMailer, server: EwsServer
) -> None:
    boxes = [f"kunta{n:03}@kunta.example" for n in range(150)]
    start, end = datetime(2027, 1, 1, tzinfo=HEL), datetime(2028, 1, 1, tzinfo=HEL)
    # across the boundary of the first two windows: comes back once, whole
    across = (start + timedelta(days=42) - timedelta(hours=1), start + timedelta(days=42, hours=1))
    server.add_busy(boxes[120], *across)

    busy = mailer.free_busy(boxes, start, end)

    asks = [r for r in server.requests if r.operation == "GetUserAvailability"]
    windows = sorted({(a.root.findtext(f".//{{{T}}}StartTime"), a.root.findtext(f".//{{{T}}}EndTime"))
                      for a in asks})
    spans = [(datetime.fromisoformat(s or ""), datetime.fromisoformat(e or "")) for s, e in windows]
    assert all(e - s <= timedelta(days=42) for s, e in spans)
    assert spans[0][0] == start and spans[-1][1] == end  # the whole year ...
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # ... without gaps
    assert len(spans) == 9  # 365 days / 42
    sizes = sorted(len(a.root.findall(f".//{{{T}}}MailboxData")) for a in asks)
    assert sizes == [50] * 9 + [100] * 9
    assert sorted(busy) == boxes
    assert busy[boxes[120]] == [tuple(m.astimezone(UTC) for m in across)]
    assert server.operations().count("GetServerTimeZones") == 1


@pytest.mark.parametrize("code", ["ErrorMailRecipientNotFound", "ErrorNoFreeBusyAccess"])
def test_a_mailbox_the_server_cannot_answer_for_is_named(
    mailer: EwsMailer, server: EwsServer, code: str
) -> None:
    server.free_busy_errors["poistunut@kunta.example"] = code
    with pytest.raises(DeliveryRejected, match=f"poistunut@kunta.example \\({code}\\)") as caught:
        mailer.free_busy([ORGANISER.email, "poistunut@kunta.example", OTHER],
                         datetime(2027, 2, 1, tzinfo=HEL), datetime(2027, 2, 2, tzinfo=HEL))
    assert OTHER not in str(caught.value)


@pytest.mark.parametrize("fault", [
    Fault("busy", back_off_ms=10_000, operation="GetUserAvailability"),
    Fault("503", times=99, operation="GetUserAvailability"),
    Fault("delay", delay=1.0, operation="GetUserAvailability")])
def test_free_busy_faults_are_transient(
    make_mailer: MakeMailer, server: EwsServer, fault: Fault
) -> None:
    mailer = make_mailer(timeout=0.3)
    server.faults.append(fault)
    with pytest.raises(DeliveryUnavailable, match="could not read free/busy"):
        mailer.free_busy([OTHER], datetime(2027, 2, 1, tzinfo=HEL), datetime(2027, 2, 2, tzinfo=HEL))
    assert server.operations().count("GetUserAvailability") == 1


def test_a_busy_answer_for_one_mailbox_is_transient(mailer: EwsMailer, server: EwsServer) -> None:
    server.free_busy_errors[OTHER] = "ErrorServerBusy"
    with pytest.raises(DeliveryUnavailable, match=f"{OTHER} \\(ErrorServerBusy\\)"):
        mailer.free_busy([OTHER], datetime(2027, 2, 1, tzinfo=HEL), datetime(2027, 2, 2, tzinfo=HEL))


def test_free_busy_of_nobody_asks_nothing(mailer: EwsMailer, server: EwsServer) -> None:
    assert mailer.free_busy([], datetime(2027, 2, 1, tzinfo=HEL),
                            datetime(2027, 2, 2, tzinfo=HEL)) == {}
    assert server.requests == []


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
    with pytest.raises(DeliveryRejected, match="401") as caught:
        mailer.create_event(EVENT, "k1")
    assert len(server.requests) == 1  # not retried as throttling: no AD lockout
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


# -- NTLM, as on-premises Exchange asks for it -------------------------------------------------

SERVICE = "KESKISUOMI\\svc-yhdyspinta"  # a service account with ApplicationImpersonation
SERVICE_PASSWORD = "Palvelu-SALASANA-ÄLÄ-NÄYTÄ-9"


@pytest.fixture
def ntlm_server() -> Iterator[EwsServer]:
    # The peer checks each AUTHENTICATE with pyspnego's NTLM acceptor against this password.
    with EwsServer(ntlm_users={SERVICE: SERVICE_PASSWORD}) as peer:
        yield peer
    exchangelib.close_connections()


@pytest.fixture
def make_ntlm_mailer(ntlm_server: EwsServer, tmp_path: Path) -> Iterator[Callable[[str], EwsMailer]]:
    made: list[EwsMailer] = []

    def make(password: str) -> EwsMailer:
        password_file = tmp_path / f"password-{len(made)}"
        password_file.write_text(password + "\n", encoding="utf-8")
        made.append(EwsMailer(service_endpoint=ntlm_server.endpoint, auth="ntlm",
                              username=SERVICE, password_file=str(password_file),
                              timeout=5.0, retry_seconds=60))
        return made[-1]

    yield make
    for backend in made:
        backend.close()


def test_ntlm_makes_a_meeting_and_sends_a_message_as_the_service_account(
    make_ntlm_mailer: Callable[[str], EwsMailer], ntlm_server: EwsServer
) -> None:
    mailer = make_ntlm_mailer(SERVICE_PASSWORD)

    created = mailer.create_event(EVENT, "k1")
    mailer.send(message("matti@example.org"), "k2")

    [item] = ntlm_server.calendar(ORGANISER.email)
    assert created.remote_id == item.item_id and item.uid == EVENT.uid
    assert [m.to[0][0] for m in ntlm_server.messages(ORGANISER.email)] == ["matti@example.org"]
    assert {r.operation for r in ntlm_server.requests} >= {"CreateItem", "FindItem"}
    # Every request done was on a connection the acceptor authenticated as the service
    # account, which acts for the organiser by impersonation (tech.md section 3).
    assert {r.user for r in ntlm_server.requests} == {SERVICE}
    assert {r.impersonating for r in ntlm_server.requests} == {ORGANISER.email}
    assert ntlm_server.ntlm_refusals == 0


def test_ntlm_authenticates_the_connection_once_for_many_requests(
    make_ntlm_mailer: Callable[[str], EwsMailer], ntlm_server: EwsServer
) -> None:
    mailer = make_ntlm_mailer(SERVICE_PASSWORD)
    created = mailer.create_event(EVENT, "k1")
    mailer.update_event(created.remote_id, EVENT, "k2")
    mailer.responses(created.remote_id, ORGANISER)
    for n in range(3):
        mailer.send(message("matti@example.org", n), f"m{n}")

    requests = ntlm_server.requests
    # One after another, exchangelib uses one session, so one keep-alive connection: one
    # handshake, and the later requests ride on it without an Authorization header.
    assert len(requests) >= 8
    assert {r.connection for r in requests} == {requests[0].connection}
    assert ntlm_server.ntlm_challenges == 1
    assert ntlm_server.ntlm_logins == [(requests[0].connection, SERVICE)]
    assert [r for r in requests if "Authorization" in r.headers] == [requests[0]]
    assert requests[0].headers["Authorization"].startswith("NTLM ")


def test_ntlm_from_several_threads_authenticates_each_connection_once(
    make_ntlm_mailer: Callable[[str], EwsMailer], ntlm_server: EwsServer
) -> None:
    mailer = make_ntlm_mailer(SERVICE_PASSWORD)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: mailer.send(message(f"v{n}@example.org", n), f"m{n}"),
                      range(24)))

    assert len(ntlm_server.messages(ORGANISER.email)) == 24
    connections = {r.connection for r in ntlm_server.requests}
    # However many connections exchangelib opened (at most max_connections = 4), each was
    # authenticated exactly once, and each request came on an authenticated one.
    assert 1 <= len(connections) <= 4
    assert sorted(c for c, _ in ntlm_server.ntlm_logins) == sorted(connections)
    assert ntlm_server.ntlm_challenges == len(connections)
    assert {r.user for r in ntlm_server.requests} == {SERVICE}
    assert len(ntlm_server.requests) > len(connections)


def test_a_wrong_ntlm_password_names_the_user_only(
    make_ntlm_mailer: Callable[[str], EwsMailer], ntlm_server: EwsServer,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Vaara-SALASANA-ÄLÄ-NÄYTÄ-0"
    mailer = make_ntlm_mailer(wrong)

    with pytest.raises(DeliveryRejected, match="401") as caught:
        mailer.create_event(EVENT, "k1")

    # The handshake ran, and pyspnego's acceptor refused the AUTHENTICATE message; nothing
    # was done, and it was not tried again (failed logins count towards an AD lockout).
    assert (ntlm_server.ntlm_challenges, ntlm_server.ntlm_refusals) == (1, 1)
    assert ntlm_server.ntlm_logins == [] and ntlm_server.requests == []
    assert SERVICE in str(caught.value)
    assert caught.value.__cause__ is None
    assert_clean(repr(caught.value), wrong, SERVICE_PASSWORD, "SALASANA")
    assert "Authorization" in caplog.text  # exchangelib logged the request headers at DEBUG
    assert_clean(caplog.text, wrong, *ntlm_server.ntlm_tokens)  # not the NTLM messages


def test_a_working_ntlm_run_logs_no_password_or_ntlm_message(
    make_ntlm_mailer: Callable[[str], EwsMailer], ntlm_server: EwsServer,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mailer = make_ntlm_mailer(SERVICE_PASSWORD)
    mailer.create_event(EVENT, "k1")
    mailer.send(message("matti@example.org"), "k2")
    assert ntlm_server.ntlm_logins and ntlm_server.ntlm_tokens
    assert "Authorization" in caplog.text
    assert_clean(caplog.text, SERVICE_PASSWORD, *ntlm_server.ntlm_tokens)


def test_ntlm_with_a_upn_user_name(tmp_path: Path) -> None:
    # exchangelib sends an e-mail-form user as "\user@domain" (no domain part, protocol.py),
    # which the acceptor looks up as a UPN.
    user = "svc-yhdyspinta@keskisuomi.example"
    password = tmp_path / "password"
    password.write_text(SERVICE_PASSWORD, encoding="utf-8")
    with EwsServer(ntlm_users={user: SERVICE_PASSWORD}) as peer:
        mailer = EwsMailer(service_endpoint=peer.endpoint, auth="ntlm", username=user,
                           password_file=str(password), timeout=5.0)
        try:
            mailer.create_event(EVENT, "k1")
        finally:
            mailer.close()
            exchangelib.close_connections()
    assert len(peer.calendar(ORGANISER.email)) == 1
    assert {r.user for r in peer.requests} == {user}
    assert {r.impersonating for r in peer.requests} == {ORGANISER.email}
