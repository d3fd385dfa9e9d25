"""The ``graph`` backend through the real msgraph-sdk against a local Graph
(``graph_server.py``): the wire format of create / update / cancel / sendMail / responses,
exactly-once under 429 + Retry-After, 503, 504-after-the-work and a timeout, and no secret in
an error or a DEBUG log line.

MailerContract (test_mailers.py) is not subclassed: two of its three tests send iMIP
messages, which this backend refuses by design (meetings are events here), and Graph keeps
no Message-ID of ours to read back. The plain-message promises are tested below instead.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from azure.core.credentials import AccessToken

from scheduler.delivery import DeliveryRejected, DeliveryUnavailable
from scheduler.delivery.events import CalendarEvent, Person
from scheduler.delivery.graph import GraphMailer, transaction_id
from tests.contract.graph_server import Fault, GraphServer, running
from tests.contract.test_mailers import SENDER, free_port, message

HELSINKI = ZoneInfo("Europe/Helsinki")
ORGANIZER = Person("kokoukset@liitto.example", "Keski-Suomen liitto")
TOKEN = "fake-token"
THROTTLE = ("ApplicationThrottled", "Application is over its MailboxConcurrency limit.")


class FakeCredential:
    """azure.core TokenCredential without MSAL or network (tech.md section 4)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(TOKEN, int(time.time()) + 3600)


def meeting(*, hour: int = 9, attendees: tuple[str, ...] = ("matti@example.org",
                                                           "maija@example.org")) -> CalendarEvent:
    return CalendarEvent(
        uid="kuntakokous-2027-1@yhdyspinta", sequence=0, organizer=ORGANIZER,
        attendees=tuple(Person(a, a.split("@")[0].title() + " Äö") for a in attendees)
        + (ORGANIZER,),  # the convener listed too: Graph must not invite its own organiser
        start=datetime(2027, 2, 17, hour, tzinfo=HELSINKI),
        end=datetime(2027, 2, 17, hour + 2, tzinfo=HELSINKI),
        subject="Kuntakokous ke 17.2.2027", body_html="<p>Esityslista & liitteet</p>",
        location="Jyväskylä, valtuustosali", online_url="https://meet.example/kk?a=1&b=2",
        reminder_minutes=15)


@pytest.fixture
def server() -> Iterator[GraphServer]:
    with running(token=TOKEN) as graph:
        yield graph


def graph(server: GraphServer, **options: Any) -> GraphMailer:
    options.setdefault("credential", FakeCredential())
    options.setdefault("retry_delay", 0.05)  # a 503 without Retry-After: no 3 s base wait
    options.setdefault("timeout", 5)
    return GraphMailer(base_url=server.base_url, **options)


@pytest.fixture
def mailer(server: GraphServer) -> Iterator[GraphMailer]:
    backend = graph(server)
    yield backend
    backend.close()


def events(server: GraphServer) -> list[dict[str, Any]]:
    return list(server.events[ORGANIZER.email].values())


# -- round trips and the wire format --------------------------------------------------------


def test_create_event_speaks_graph(server: GraphServer, mailer: GraphMailer) -> None:
    receipt = mailer.create_event(meeting(), "kuntakokous-2027-1@y|invite|0")
    [stored] = events(server)
    assert receipt.remote_id == stored["id"] and receipt.ical_uid == stored["iCalUId"]
    [call] = server.calls("POST", "/events")
    assert call.path == f"/v1.0/users/{ORGANIZER.email}/events"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert 'outlook.timezone="FLE Standard Time"' in call.headers["prefer"]
    body = call.body
    # Helsinki wall time under the Windows name: Graph has no Europe/Helsinki (tech.md 4).
    assert body["start"] == {"dateTime": "2027-02-17T09:00:00", "timeZone": "FLE Standard Time"}
    assert body["end"] == {"dateTime": "2027-02-17T11:00:00", "timeZone": "FLE Standard Time"}
    assert [(a["type"], a["emailAddress"]) for a in body["attendees"]] == [
        ("required", {"address": "matti@example.org", "name": "Matti Äö"}),
        ("required", {"address": "maija@example.org", "name": "Maija Äö"})]
    assert body["subject"] == "Kuntakokous ke 17.2.2027"
    assert body["body"]["contentType"] == "html"
    assert body["body"]["content"].startswith("<p>Esityslista & liitteet</p>")
    assert 'href="https://meet.example/kk?a=1&amp;b=2"' in body["body"]["content"]
    assert body["location"] == {"displayName": "Jyväskylä, valtuustosali"}
    assert body["isOnlineMeeting"] is False and body["reminderMinutesBeforeStart"] == 15
    assert body["transactionId"] == transaction_id("kuntakokous-2027-1@y|invite|0")
    assert str(uuid.UUID(body["transactionId"])) == body["transactionId"]
    # Graph answered in our zone because we asked (Prefer: outlook.timezone).
    assert stored["start"]["timeZone"] == "FLE Standard Time"


def test_the_ambiguous_autumn_hour_goes_as_utc(server: GraphServer, mailer: GraphMailer) -> None:
    start = datetime(2027, 10, 31, 3, 30, fold=1, tzinfo=HELSINKI)  # the second 03:30 (EET)
    event = meeting()
    mailer.create_event(CalendarEvent(**{**event.__dict__, "start": start,
                                         "end": datetime(2027, 10, 31, 5, tzinfo=HELSINKI)}),
                        "k")
    [call] = server.calls("POST", "/events")
    assert call.body["start"] == {"dateTime": "2027-10-31T01:30:00", "timeZone": "UTC"}
    assert call.body["end"] == {"dateTime": "2027-10-31T05:00:00", "timeZone": "FLE Standard Time"}


def test_update_patches_time_and_the_whole_attendee_list(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    created = mailer.create_event(meeting(), "k0")
    updated = mailer.update_event(created.remote_id, meeting(hour=13, attendees=(
        "matti@example.org", "uusi@example.org")), "k1")
    assert updated == created
    [call] = server.calls("PATCH")
    assert call.path == f"/v1.0/users/{ORGANIZER.email}/events/{created.remote_id}"
    assert call.body["start"] == {"dateTime": "2027-02-17T13:00:00", "timeZone": "FLE Standard Time"}
    assert "transactionId" not in call.body  # fixed at creation
    [stored] = events(server)
    assert [a["emailAddress"]["address"] for a in stored["attendees"]] == [
        "matti@example.org", "uusi@example.org"]


def test_cancel_posts_the_comment(server: GraphServer, mailer: GraphMailer) -> None:
    created = mailer.create_event(meeting(), "k0")
    receipt = mailer.cancel_event(created.remote_id, meeting(), "Kokous on peruttu.", "k1")
    assert receipt.remote_id == created.remote_id
    [call] = server.calls("POST", "/cancel")
    assert call.path == f"/v1.0/users/{ORGANIZER.email}/events/{created.remote_id}/cancel"
    assert call.body == {"Comment": "Kokous on peruttu."}  # the SDK's PascalCase, see server
    assert not events(server)
    assert server.cancelled[ORGANIZER.email][created.remote_id]["cancelComment"] == \
        "Kokous on peruttu."


def test_responses_map_the_attendees_answers(server: GraphServer, mailer: GraphMailer) -> None:
    created = mailer.create_event(meeting(attendees=("a@example.org", "b@example.org",
                                                     "c@example.org", "d@example.org")), "k")
    server.respond(ORGANIZER.email, created.remote_id, "a@example.org", "accepted")
    server.respond(ORGANIZER.email, created.remote_id, "b@example.org", "declined")
    server.respond(ORGANIZER.email, created.remote_id, "c@example.org", "tentativelyAccepted")
    server.respond(ORGANIZER.email, created.remote_id, "d@example.org", "notResponded")
    assert mailer.responses(created.remote_id, ORGANIZER) == {
        "a@example.org": "accepted", "b@example.org": "declined",
        "c@example.org": "tentativelyAccepted", "d@example.org": "none"}


def test_a_plain_message_goes_through_send_mail(server: GraphServer, mailer: GraphMailer) -> None:
    sent = message("matti@example.org", calendar=False)
    receipt = mailer.send(sent, "k1")
    assert receipt.remote_id == str(sent["Message-ID"])
    [call] = server.calls("POST", "/sendMail")
    assert call.path == f"/v1.0/users/{SENDER.email}/sendMail"
    assert call.body["SaveToSentItems"] is True  # action parameters: the SDK's PascalCase
    got = call.body["Message"]
    assert got["subject"] == str(sent["Subject"])
    assert got["body"] == {"contentType": "html", "content": "<p>ä</p>\n"}
    assert got["toRecipients"] == [{"emailAddress": {"address": "matti@example.org",
                                                     "name": "Vastaanottaja Äö"}}]
    headers = {h["name"]: h["value"] for h in got["internetMessageHeaders"]}
    assert headers["X-Yhdyspinta-Message-Id"] == str(sent["Message-ID"])
    assert headers["X-Yhdyspinta-Action"] == "invite"


def test_many_messages_each_arrive_once(server: GraphServer, mailer: GraphMailer) -> None:
    for n in range(25):
        mailer.send(message(f"vastaanottaja{n}@example.org", n, calendar=False), f"k{n}")
    ids = [{h["name"]: h["value"] for h in b["message"]["internetMessageHeaders"]}
           ["X-Yhdyspinta-Message-Id"] for b in server.sent[SENDER.email]]
    assert len(ids) == len(set(ids)) == 25


def test_a_text_only_message_is_sent_as_text(server: GraphServer, mailer: GraphMailer) -> None:
    plain = message("matti@example.org", calendar=False)
    plain.clear_content()
    plain.set_content("Hyvä vastaanottaja,\n\nä\n")
    mailer.send(plain, "k")
    [body] = server.sent[SENDER.email]
    assert body["message"]["body"] == {"contentType": "text",
                                       "content": "Hyvä vastaanottaja,\n\nä\n"}


def test_a_meeting_request_is_refused_by_send(server: GraphServer, mailer: GraphMailer) -> None:
    with pytest.raises(DeliveryRejected, match="create_event"):
        mailer.send(message("matti@example.org", calendar=True), "k")
    assert not server.requests


# -- faults: exactly once ---------------------------------------------------------------------


def test_429_with_retry_after_is_honoured_and_makes_one_event(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    for _ in range(2):
        server.faults.append(Fault(429, {"Retry-After": "1"}, *THROTTLE, method="POST"))
    started = time.monotonic()
    receipt = mailer.create_event(meeting(), "k")
    took = time.monotonic() - started
    calls = server.calls("POST", "/events")
    assert [c.status for c in calls] == [429, 429, 201]
    assert took >= 2.0  # two Retry-After: 1 waits, as kiota's RetryHandler promises
    assert len({c.body["transactionId"] for c in calls}) == 1  # stable across retries
    assert [e["id"] for e in events(server)] == [receipt.remote_id]


def test_503_is_retried_then_transient_and_nothing_is_lost(server: GraphServer) -> None:
    mailer = graph(server, max_retries=2)
    for _ in range(3):  # the first try and both retries
        server.faults.append(Fault(503, {}, "ServiceUnavailable", "Try later", method="POST"))
    with pytest.raises(DeliveryUnavailable, match="503 ServiceUnavailable"):
        mailer.create_event(meeting(), "k")
    assert len(server.calls("POST", "/events")) == 3 and not events(server)
    receipt = mailer.create_event(meeting(), "k")  # the outbox's next run
    mailer.close()
    assert [e["id"] for e in events(server)] == [receipt.remote_id]


def test_a_504_after_the_work_is_retried_without_a_second_event(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    server.faults.append(Fault(504, {}, "GatewayTimeout", "", apply=True, method="POST"))
    receipt = mailer.create_event(meeting(), "k")
    calls = server.calls("POST", "/events")
    assert [c.status for c in calls] == [504, 201]
    assert calls[0].body["transactionId"] == calls[1].body["transactionId"]
    assert [e["id"] for e in events(server)] == [receipt.remote_id]


def test_a_timeout_is_transient_and_the_retry_finds_the_same_event(server: GraphServer) -> None:
    mailer = graph(server, timeout=0.5)
    server.faults.append(Fault(delay=1.5, apply=True, method="POST"))  # done, answered late
    with pytest.raises(DeliveryUnavailable, match="ReadTimeout"):
        mailer.create_event(meeting(), "k")
    assert len(events(server)) == 1
    receipt = mailer.create_event(meeting(), "k")
    mailer.close()
    assert [e["id"] for e in events(server)] == [receipt.remote_id]
    assert len(server.calls("POST", "/events")) == 2


def test_send_mail_retries_a_429_only(server: GraphServer, mailer: GraphMailer) -> None:
    server.faults.append(Fault(429, {"Retry-After": "1"}, *THROTTLE, method="POST"))
    mailer.send(message("matti@example.org", calendar=False), "k")
    assert [c.status for c in server.calls("POST", "/sendMail")] == [429, 202]
    assert len(server.sent[SENDER.email]) == 1


@pytest.mark.parametrize("fault", [
    Fault(503, {}, "ServiceUnavailable", "", apply=True, method="POST"),
    Fault(504, {}, "GatewayTimeout", "", apply=True, method="POST"),
    Fault(delay=1.5, apply=True, method="POST"),
])
def test_send_mail_after_an_uncertain_answer_is_not_repeated(
    server: GraphServer, fault: Fault,
) -> None:
    mailer = graph(server, timeout=0.5)
    server.faults.append(fault)
    with pytest.raises(DeliveryRejected, match="^uncertain: "):
        mailer.send(message("matti@example.org", calendar=False), "k")
    mailer.close()
    assert len(server.calls("POST", "/sendMail")) == 1  # no blind retry: at most one mail
    assert len(server.sent[SENDER.email]) == 1


def test_no_server_is_transient_even_for_send_mail() -> None:
    mailer = GraphMailer(base_url=f"http://127.0.0.1:{free_port()}/v1.0",
                         credential=FakeCredential(), timeout=2)
    with pytest.raises(DeliveryUnavailable, match="ConnectError"):
        mailer.send(message("matti@example.org", calendar=False), "k")
    with pytest.raises(DeliveryUnavailable, match="ConnectError"):
        mailer.create_event(meeting(), "k")
    mailer.close()


@pytest.mark.parametrize(("status", "code"), [(400, "ErrorInvalidRequest"),
                                              (403, "ErrorAccessDenied"),
                                              (404, "ErrorItemNotFound")])
def test_other_4xx_are_final_with_graphs_code(
    server: GraphServer, mailer: GraphMailer, status: int, code: str,
) -> None:
    server.faults.append(Fault(status, {}, code, "Graph says no.", method="POST"))
    with pytest.raises(DeliveryRejected, match=f"{status} {code}: Graph says no."):
        mailer.create_event(meeting(), "k")
    assert len(server.calls("POST")) == 1  # never retried


def test_an_unknown_event_is_final(server: GraphServer, mailer: GraphMailer) -> None:
    with pytest.raises(DeliveryRejected, match="404 ErrorItemNotFound"):
        mailer.update_event("AAMkPoistettu=", meeting(), "k")


def test_at_most_max_in_flight_per_mailbox() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with running(concurrency=4, latency=0.05) as throttled:
        mailer = graph(throttled, max_in_flight=4)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: mailer.create_event(meeting(), f"k{n}"), range(40)))
        mailer.close()
        assert throttled.throttled == 0 and throttled.peak[ORGANIZER.email] == 4
        assert len(throttled.events[ORGANIZER.email]) == 40


# -- secrets ----------------------------------------------------------------------------------


def test_a_refused_token_names_tenant_and_client_but_never_the_token(
    server: GraphServer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "eyJ0eXAi.salainen-token-ALA-NAYTA.c2lnbmF0dXJl"
    token_file = tmp_path / "graph-token"
    token_file.write_text(secret + "\n", encoding="utf-8")
    caplog.set_level(logging.DEBUG)  # every logger: httpx, httpcore, kiota, azure, ours
    mailer = GraphMailer(tenant_id="liitto-tenant", client_id="yhdyspinta-app",
                         token_file=str(token_file), base_url=server.base_url, timeout=5)
    with pytest.raises(DeliveryRejected) as caught:
        mailer.create_event(meeting(), "k")
    with pytest.raises(DeliveryRejected) as caught_send:
        mailer.send(message("matti@example.org", calendar=False), "k")
    mailer.close()
    assert server.calls()[0].headers["authorization"] == f"Bearer {secret}"  # it was used
    for exc in (caught.value, caught_send.value):
        text = f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
        assert "401" in text and "InvalidAuthenticationToken" in text
        assert "liitto-tenant" in text and "yhdyspinta-app" in text
        assert "salainen" not in text
    assert caplog.records  # something was logged at DEBUG, and none of it is the token
    assert "salainen" not in caplog.text
    assert all("salainen" not in repr(r.args) for r in caplog.records)


def test_a_missing_secret_file_is_final_and_quiet(tmp_path: Path) -> None:
    mailer = GraphMailer(tenant_id="t", client_id="c",
                         client_secret_file=str(tmp_path / "ei-ole"))
    with pytest.raises(DeliveryRejected, match="cannot read client_secret_file"):
        mailer.create_event(meeting(), "k")
