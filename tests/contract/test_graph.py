"""The ``graph`` backend through the real msgraph-sdk against a local Graph
(``graph_server.py``): the wire format of create / update / cancel / sendMail / responses,
exactly-once under 429 + Retry-After, 503, 504-after-the-work and a timeout, and no secret in
an error or a DEBUG log line.

MailerContract (test_mailers.py) is not subclassed: two of its three tests send iMIP
messages, which this backend refuses by design (meetings are events here), and Graph keeps
no Message-ID of ours to read back. The plain-message promises are tested below instead.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from azure.core.credentials import AccessToken

from scheduler.delivery import DeliveryRejected, DeliveryUnavailable
from scheduler.delivery.graph import GraphMailer, transaction_id
from scheduler.delivery.ports import CalendarEvent, Person
from tests.conftest import ROOT
from tests.contract.graph_server import Fault, GraphServer, running
from tests.contract.test_mailers import SENDER, free_port, message
from tests.contract.token_server import (
    JWT_BEARER,
    TokenServer,
    client_certificate,
    decode_assertion,
)
from tests.contract.token_server import running as token_server

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
def test_send_mail_after_an_uncertain_answer_is_found_not_repeated(
    server: GraphServer, fault: Fault,
) -> None:
    mailer = graph(server, timeout=0.5)
    server.faults.append(fault)
    with pytest.raises(DeliveryUnavailable, match="^uncertain: "):
        mailer.send(message("matti@example.org", calendar=False), "k'1")
    assert len(server.calls("POST", "/sendMail")) == 1  # no blind retry inside the call
    receipt = mailer.send(message("matti@example.org", calendar=False), "k'1", again=True)
    mailer.close()
    assert receipt.remote_id
    [lookup] = server.calls("GET", "/messages")
    assert "ep/value eq 'k''1'" in unquote(lookup.query)  # the key as an OData literal
    assert len(server.calls("POST", "/sendMail")) == 1  # it had gone: not sent again
    assert len(server.sent[SENDER.email]) == 1


def test_send_mail_whose_uncertain_attempt_did_not_go_is_sent_on_the_retry(
    server: GraphServer,
) -> None:
    mailer = graph(server, timeout=0.5)
    server.faults.append(Fault(delay=1.5, status=503, method="POST"))  # late, and no work done
    with pytest.raises(DeliveryUnavailable, match="^uncertain: "):
        mailer.send(message("matti@example.org", calendar=False), "k")
    assert server.sent[SENDER.email] == []
    mailer.send(message("matti@example.org", calendar=False), "k", again=True)
    mailer.close()
    assert len(server.calls("GET", "/messages")) == 1
    [sent] = server.sent[SENDER.email]
    [key] = sent["message"]["singleValueExtendedProperties"]
    assert key["value"] == "k"


def test_a_first_attempt_does_not_look_before_sending(server: GraphServer,
                                                      mailer: GraphMailer) -> None:
    mailer.send(message("matti@example.org", calendar=False), "k")
    assert server.calls("GET", "/messages") == []


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


# -- attendee responses in JSON $batch (issue 4: "re-queue the inner 429s of a $batch") -------

MAILBOXES = ("kokoukset@liitto.example", "kirjaamo@hva.example", "kirjaamo@jkl.example")
ANSWERS = ("accepted", "declined", "tentativelyAccepted", "notResponded")


def invited(server: GraphServer, mailer: GraphMailer, count: int,
            mailboxes: tuple[str, ...] = MAILBOXES) -> dict[str, tuple[Person, dict[str, str]]]:
    """``count`` meetings spread over ``mailboxes``, each with an attendee of its own who has
    answered (cycling through Graph's answers): event id -> (organiser, expected answers)."""
    made: dict[str, tuple[Person, dict[str, str]]] = {}
    for n in range(count):
        organizer = Person(mailboxes[n % len(mailboxes)], "Kirjaamo")
        address = f"osallistuja{n}@example.org"
        event = CalendarEvent(**{**meeting().__dict__, "organizer": organizer,
                                 "attendees": (Person(address, f"Osallistuja {n}"),)})
        remote_id = mailer.create_event(event, f"k{n}").remote_id
        answer = ANSWERS[n % len(ANSWERS)]
        server.respond(organizer.email, remote_id, address, answer)
        made[remote_id] = (organizer, {address: "none" if answer == "notResponded" else answer})
    return made


def batch_posts(server: GraphServer) -> list[Any]:
    return [c.body for c in server.calls("POST", "/$batch")]


def test_45_meetings_of_3_mailboxes_are_read_in_3_batches_and_map_back(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    made = invited(server, mailer, 45)
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
    posts = batch_posts(server)
    assert len(posts) == 3  # ceil(45 / 20): Graph runs four of a batch at a time anyway
    assert sorted(len(p["requests"]) for p in posts) == [5, 20, 20]
    # Graph's request format, with the id we gave (not msgraph-core's uuid) and our Prefer.
    first = posts[0]["requests"][0]
    assert first["id"] == "1" and first["method"] == "GET"
    assert first["url"].startswith("/users/") and first["url"].endswith("?%24select=attendees")
    assert 'IdType="ImmutableId"' in first["headers"]["prefer"]
    inner = server.calls("GET", "")
    assert len(inner) == 45 and all(c.batch_id and c.status == 200 for c in inner)
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in inner)
    assert {c.path.rsplit("/", 1)[1] for c in inner} == set(made)
    # The answers came back in another order than asked, and still map to their meetings.
    assert any(order != sorted(order, key=int) for order in server.batches)


def test_an_inner_429_is_asked_again_after_its_retry_after(
    server: GraphServer, mailer: GraphMailer, caplog: pytest.LogCaptureFixture,
) -> None:
    made = invited(server, mailer, 3)
    throttled = list(made)[1]
    server.faults.append(Fault(429, {"Retry-After": "1"}, *THROTTLE, method="GET",
                               endswith=f"/events/{throttled}"))
    caplog.set_level(logging.DEBUG, logger="scheduler.delivery.graph")
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
    assert [c.status for c in server.calls("GET", f"/events/{throttled}")] == [429, 200]
    assert [len(p["requests"]) for p in batch_posts(server)] == [3, 1]  # only it, again
    assert "1 inner requests throttled, waiting 1.0 s" in caplog.text  # its Retry-After


def test_a_retry_after_beyond_max_wait_fails_that_meeting_only(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    made = invited(server, mailer, 3)
    throttled = next(iter(made))
    server.faults.append(Fault(429, {"Retry-After": "600"}, *THROTTLE, method="GET",
                               endswith=f"/events/{throttled}"))
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    failure = got.pop(throttled)
    assert isinstance(failure, DeliveryUnavailable)
    assert "429 ApplicationThrottled" in str(failure) and "Retry-After 600 s" in str(failure)
    assert got == {remote_id: made[remote_id][1] for remote_id in got}
    assert len(batch_posts(server)) == 1  # not asked again


def test_inner_503s_are_asked_again_until_the_rounds_run_out(server: GraphServer) -> None:
    mailer = graph(server, max_retries=2)
    made = invited(server, mailer, 2)
    answered, busy = made
    for _ in range(3):  # the first round and both retries
        server.faults.append(Fault(503, {}, "ServiceUnavailable", "Try later", method="GET",
                                   endswith=f"/events/{busy}"))
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    mailer.close()
    assert isinstance(got[busy], DeliveryUnavailable)
    assert "503 ServiceUnavailable: Try later" in str(got[busy])
    assert "after 3 $batch rounds" in str(got[busy])
    assert got[answered] == made[answered][1]
    assert [len(p["requests"]) for p in batch_posts(server)] == [2, 1, 1]


def test_an_inner_404_fails_only_its_meeting(server: GraphServer, mailer: GraphMailer) -> None:
    made = invited(server, mailer, 4)
    items = [(remote_id, who) for remote_id, (who, _) in made.items()]
    got = mailer.read_answers([*items[:2], ("AAMkPoistettu=", ORGANIZER), *items[2:]])
    failure = got.pop("AAMkPoistettu=")
    assert isinstance(failure, DeliveryRejected)
    assert str(failure) == (f"graph read responses for {ORGANIZER.email}: 404 "
                            "ErrorItemNotFound: The specified object was not found in the store.")
    assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
    assert len(batch_posts(server)) == 1  # a final answer: not asked again


def test_inner_429s_of_the_mailbox_throttle_are_asked_again() -> None:
    # Another app holds two of the mailbox's four slots: of the four inner requests Graph
    # runs at a time, the excess gets 429 ApplicationThrottled + Retry-After from Outlook.
    with running(concurrency=2, latency=0.2) as throttled:
        mailer = graph(throttled, max_retries=10)
        made = invited(throttled, mailer, 8, mailboxes=(ORGANIZER.email,))
        throttled.requests.clear()
        got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
        mailer.close()
        assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
        statuses = [c.status for c in throttled.calls("GET", "")]
        assert statuses.count(200) == 8 and statuses.count(429) == throttled.throttled > 0
        assert len(batch_posts(throttled)) > 1
        assert throttled.peak[ORGANIZER.email] == 2


def test_a_batch_takes_its_share_of_the_mailbox_slots_from_single_calls() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with running(concurrency=4, latency=0.05) as throttled:
        mailer = graph(throttled)
        made = invited(throttled, mailer, 12, mailboxes=(ORGANIZER.email,))
        with ThreadPoolExecutor(8) as pool:
            created = [pool.submit(mailer.create_event, meeting(), f"uusi{n}") for n in range(24)]
            got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
            assert all(f.result().remote_id for f in created)
        mailer.close()
        assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
        # Never more than Outlook's four at once, single calls and batch items together.
        assert throttled.throttled == 0 and throttled.peak[ORGANIZER.email] == 4


def test_a_mailer_allowed_fewer_than_four_in_flight_puts_no_more_in_a_batch(
    server: GraphServer,
) -> None:
    mailer = graph(server, max_in_flight=2)
    made = invited(server, mailer, 5, mailboxes=(ORGANIZER.email,))
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    mailer.close()
    assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
    assert [len(p["requests"]) for p in batch_posts(server)] == [2, 2, 1]


def test_an_outer_503_is_retried_then_fails_every_meeting_transiently(
    server: GraphServer,
) -> None:
    mailer = graph(server, max_retries=2)
    made = invited(server, mailer, 25)  # two batches; the second is never sent
    server.faults.append(Fault(503, {}, "ServiceUnavailable", "", method="POST",
                               endswith="/$batch"))
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}
    assert len(batch_posts(server)) == 3  # kiota retried the one 503: a batch of GETs
    server.requests.clear()
    for _ in range(3):
        server.faults.append(Fault(503, {}, "ServiceUnavailable", "", method="POST",
                                   endswith="/$batch"))
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    mailer.close()
    assert set(got) == set(made)
    assert all(isinstance(f, DeliveryUnavailable) and "503 ServiceUnavailable" in str(f)
               for f in got.values())
    assert len(batch_posts(server)) == 3 and not server.calls("GET")


def test_a_batch_that_times_out_fails_every_meeting_transiently(server: GraphServer) -> None:
    mailer = graph(server, timeout=0.5)
    made = invited(server, mailer, 25)
    server.faults.append(Fault(delay=1.5, method="POST", endswith="/$batch"))  # answered late
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    assert set(got) == set(made)
    assert all(isinstance(f, DeliveryUnavailable) and "ReadTimeout" in str(f)
               for f in got.values())
    assert len(batch_posts(server)) == 1  # no second batch after a timeout
    got = mailer.read_answers([(remote_id, who) for remote_id, (who, _) in made.items()])
    mailer.close()
    assert got == {remote_id: answers for remote_id, (_, answers) in made.items()}  # next run


def test_responses_many_of_nothing_asks_nothing(server: GraphServer, mailer: GraphMailer) -> None:
    assert mailer.read_answers([]) == {}
    assert not server.requests


def test_the_local_graph_refuses_more_than_20_requests_in_a_batch(server: GraphServer) -> None:
    import httpx

    requests = [{"id": str(n), "method": "GET", "url": f"/users/{ORGANIZER.email}/events/x{n}"}
                for n in range(21)]
    answer = httpx.post(f"{server.base_url}/$batch", json={"requests": requests},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"
    assert "at most 20 requests" in answer.json()["error"]["message"]
    assert [c.path for c in server.requests] == ["/v1.0/$batch"]  # none of them was run
    answer = httpx.post(f"{server.base_url}/$batch", json={"requests": requests[:20]},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert sorted(int(r["id"]) for r in answer.json()["responses"]) == list(range(20))
    assert {r["status"] for r in answer.json()["responses"]} == {404}


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


# -- free/busy (getSchedule) ------------------------------------------------------------------

OTHER = "kirjaamo@hva.example"
UTC_ZONE = ZoneInfo("UTC")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=HELSINKI)


def test_free_busy_reads_busy_tentative_and_oof_in_utc(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    mailer.create_event(meeting(), "k")  # 17.2.2027 09-11 Helsinki: an event of the mailbox
    server.add_busy(ORGANIZER.email, at(2, 8), at(2, 9, 30))
    server.add_busy(ORGANIZER.email, at(3, 13), at(3, 14), status="tentative")
    server.add_busy(ORGANIZER.email, at(4, 0), at(6, 0), status="oof")
    server.add_busy(ORGANIZER.email, at(8, 10), at(8, 11), status="workingElsewhere")
    server.add_busy(ORGANIZER.email, at(9, 10), at(9, 11), status="free")
    server.add_busy(OTHER, at(10, 12), at(10, 15))
    found = mailer.free_busy([ORGANIZER.email, OTHER], datetime(2027, 2, 1, tzinfo=HELSINKI),
                             datetime(2027, 3, 31, 23, 59, tzinfo=HELSINKI))
    utc = UTC_ZONE
    assert found == {
        ORGANIZER.email: [
            (datetime(2027, 2, 17, 7, tzinfo=utc), datetime(2027, 2, 17, 9, tzinfo=utc)),
            (datetime(2027, 3, 2, 6, tzinfo=utc), datetime(2027, 3, 2, 7, 30, tzinfo=utc)),
            (datetime(2027, 3, 3, 11, tzinfo=utc), datetime(2027, 3, 3, 12, tzinfo=utc)),
            (datetime(2027, 3, 3, 22, tzinfo=utc), datetime(2027, 3, 5, 22, tzinfo=utc))],
        OTHER: [(datetime(2027, 3, 10, 10, tzinfo=utc), datetime(2027, 3, 10, 13, tzinfo=utc))]}
    assert all(b.utcoffset() == timedelta(0) for v in found.values() for pair in v for b in pair)
    [call] = server.calls("POST", "/getSchedule")
    assert call.path == f"/v1.0/users/{ORGANIZER.email}/calendar/getSchedule"
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert 'outlook.timezone="UTC"' in call.headers["prefer"]
    assert call.body["Schedules"] == [ORGANIZER.email, OTHER]  # the SDK's PascalCase
    assert call.body["StartTime"] == {"dateTime": "2027-01-31T22:00:00", "timeZone": "UTC"}
    assert call.body["EndTime"] == {"dateTime": "2027-03-31T20:59:00", "timeZone": "UTC"}
    assert 5 <= call.body["AvailabilityViewInterval"] <= 1440


def test_free_busy_of_a_year_is_asked_in_windows_under_62_days(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    boxes = [f"kunta{n:02}@example.fi" for n in range(25)]  # more than 20 schedules
    start, end = datetime(2027, 1, 1, tzinfo=HELSINKI), datetime(2027, 12, 31, 23, 59,
                                                                 tzinfo=HELSINKI)
    blocks = [(at(2, 9, month=1), at(2, 10, month=1)), (at(1, 9, month=7), at(1, 10, month=7)),
              (at(31, 15, month=12), at(31, 16, month=12))]
    for begin, finish in blocks:
        server.add_busy(boxes[-1], begin, finish)
    # One long out-of-office that every window boundary in the spring cuts through.
    server.add_busy(boxes[0], at(20, 0, month=2), at(20, 0, month=5), status="oof")
    found = mailer.free_busy(boxes, start, end)
    calls = server.calls("POST", "/getSchedule")
    assert all(c.status == 200 for c in calls)
    windows = sorted({(c.body["StartTime"]["dateTime"], c.body["EndTime"]["dateTime"])
                      for c in calls})
    assert len(windows) == 6 and len(calls) == 12  # 6 windows x 2 groups of mailboxes
    edges = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in windows]
    assert all(b - a < timedelta(days=62) for a, b in edges)
    assert all(edges[n][1] == edges[n + 1][0] for n in range(5))  # no gap, no overlap
    assert edges[0][0] == start.astimezone(UTC_ZONE).replace(tzinfo=None)
    assert edges[-1][1] == end.astimezone(UTC_ZONE).replace(tzinfo=None)
    assert sorted(len(c.body["Schedules"]) for c in calls) == [5] * 6 + [20] * 6
    assert found[boxes[-1]] == [(b.astimezone(UTC_ZONE), e.astimezone(UTC_ZONE))
                                for b, e in blocks]
    assert found[boxes[0]] == [(at(20, 0, month=2).astimezone(UTC_ZONE),
                                at(20, 0, month=5).astimezone(UTC_ZONE))]  # once, not per window
    assert set(found) == set(boxes) and not any(found[b] for b in boxes[1:-1])


def test_the_local_graph_refuses_a_window_over_62_days(server: GraphServer) -> None:
    import httpx

    answer = httpx.post(f"{server.base_url}/users/{ORGANIZER.email}/calendar/getSchedule",
                        headers={"Authorization": f"Bearer {TOKEN}"}, json={
                            "schedules": [ORGANIZER.email],
                            "startTime": {"dateTime": "2027-01-01T00:00:00", "timeZone": "UTC"},
                            "endTime": {"dateTime": "2027-03-05T00:00:00", "timeZone": "UTC"}})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "ErrorTimeIntervalTooBig"
    assert "allowed limit = 62 days; the actual limit = 63 days" in \
        answer.json()["error"]["message"]


def test_an_unknown_mailbox_is_warned_about_and_left_out(
    server: GraphServer, mailer: GraphMailer, caplog: pytest.LogCaptureFixture,
) -> None:
    server.unknown.add("poistunut@example.fi")
    server.add_busy(OTHER, at(10, 12), at(10, 15))
    found = mailer.free_busy([OTHER, "poistunut@example.fi"], at(1, 0), at(31, 0))
    assert found == {OTHER: [(at(10, 12).astimezone(UTC_ZONE), at(10, 15).astimezone(UTC_ZONE))]}
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "poistunut@example.fi" in warning.getMessage()
    assert "5009" in warning.getMessage() and "Unable to resolve" in warning.getMessage()


def test_an_unknown_mailbox_first_in_line_does_not_hide_the_others(
    server: GraphServer, mailer: GraphMailer, caplog: pytest.LogCaptureFixture,
) -> None:
    server.unknown.add("aaa-poistunut@example.fi")
    server.add_busy(OTHER, at(10, 12), at(10, 15))
    found = mailer.free_busy(["aaa-poistunut@example.fi", OTHER], at(1, 0), at(31, 0))
    assert list(found) == [OTHER] and len(found[OTHER]) == 1
    assert [c.status for c in server.calls("POST", "/getSchedule")] == [404, 200]
    assert "aaa-poistunut@example.fi" in caplog.text and "ErrorInvalidUser" in caplog.text


def test_free_busy_when_no_calendar_can_be_read_is_rejected_naming_them(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    server.unknown.update({"a@example.fi", "b@example.fi"})
    # Each is refused as the mailbox the request goes through: 404 ErrorInvalidUser.
    with pytest.raises(DeliveryRejected, match="a@example.fi: 404 ErrorInvalidUser.*; "
                                               "b@example.fi: 404 ErrorInvalidUser"):
        mailer.free_busy(["a@example.fi", "b@example.fi"], at(1, 0), at(31, 0))


def test_free_busy_honours_429_and_fails_transiently_after_503s(server: GraphServer) -> None:
    mailer = graph(server, max_retries=2)
    server.add_busy(OTHER, at(10, 12), at(10, 15))
    for _ in range(2):
        server.faults.append(Fault(429, {"Retry-After": "1"}, *THROTTLE,
                                   endswith="/getSchedule"))
    assert len(mailer.free_busy([OTHER], at(1, 0), at(31, 0))[OTHER]) == 1
    assert [c.status for c in server.calls("POST", "/getSchedule")] == [429, 429, 200]
    for _ in range(3):
        server.faults.append(Fault(503, {}, "ServiceUnavailable", "", endswith="/getSchedule"))
    with pytest.raises(DeliveryUnavailable, match="getSchedule for kirjaamo@hva.example: 503"):
        mailer.free_busy([OTHER], at(1, 0), at(31, 0))
    mailer.close()


def test_free_busy_of_nobody_or_of_an_empty_window_asks_nothing(
    server: GraphServer, mailer: GraphMailer,
) -> None:
    assert mailer.free_busy([], at(1, 0), at(31, 0)) == {}
    assert mailer.free_busy([OTHER], at(2, 0), at(1, 0)) == {OTHER: []}
    assert not server.requests


# -- credentials: client secret and certificate against a local HTTPS token endpoint --------

TENANT, CLIENT_ID = "liitto-tenant", "yhdyspinta-app"
SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture
def login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenServer]:
    with token_server(tmp_path) as endpoint:
        monkeypatch.setenv("SSL_CERT_FILE", str(endpoint.ca_file))  # trust the test CA only
        yield endpoint


@pytest.fixture
def open_graph() -> Iterator[GraphServer]:
    with running() as graph_server:  # any bearer token; the tests compare it themselves
        yield graph_server


def signed_in(login: TokenServer, graph_server: GraphServer, *, client_secret_file: str = "",
              certificate_file: str = "") -> GraphMailer:
    return GraphMailer(tenant_id=TENANT, client_id=CLIENT_ID, base_url=graph_server.base_url,
                       authority_host=login.authority_host, timeout=5,
                       client_secret_file=client_secret_file, certificate_file=certificate_file)


def test_a_client_secret_signs_in_and_graph_gets_that_token(
    login: TokenServer, open_graph: GraphServer, tmp_path: Path,
) -> None:
    app = login.register(TENANT, CLIENT_ID, secret="s3cr3t~value")
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("s3cr3t~value\n", encoding="utf-8")
    mailer = signed_in(login, open_graph, client_secret_file=str(secret_file))
    mailer.create_event(meeting(), "k1")
    mailer.free_busy([ORGANIZER.email], at(1, 0), at(31, 0))
    mailer.close()
    [asked] = login.requests  # one sign-in for both calls, and no discovery documents
    assert (asked.method, asked.path) == ("POST", f"/{TENANT}/oauth2/v2.0/token")
    # kiota's provider also asks for continuous access evaluation ("claims": xms_cc CP1).
    assert {k: v for k, v in asked.form.items() if k != "claims"} == {
        "client_id": CLIENT_ID, "client_secret": "s3cr3t~value",
        "grant_type": "client_credentials", "scope": SCOPE}
    [token] = app.issued
    assert [c.headers["authorization"] for c in open_graph.calls()] == [f"Bearer {token}"] * 2


def test_a_certificate_signs_a_client_assertion_and_graph_gets_that_token(
    login: TokenServer, open_graph: GraphServer, tmp_path: Path,
) -> None:
    pem, certificate = client_certificate(tmp_path)
    app = login.register(TENANT, CLIENT_ID, certificate=certificate)
    mailer = signed_in(login, open_graph, certificate_file=str(pem))
    mailer.create_event(meeting(), "k1")
    mailer.close()
    [asked] = login.requests
    assert "client_secret" not in asked.form
    assert asked.form["client_assertion_type"] == JWT_BEARER
    header, claims = decode_assertion(asked.form["client_assertion"])
    assert header["alg"] == "PS256" and header["x5t#S256"]
    assert claims["aud"] == f"https://{login.authority_host}/{TENANT}/oauth2/v2.0/token"
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    # The server issued a token only after checking the signature with the registered key.
    [token] = app.issued
    assert [c.headers["authorization"] for c in open_graph.calls()] == [f"Bearer {token}"]


def test_an_unregistered_certificate_is_refused(
    login: TokenServer, open_graph: GraphServer, tmp_path: Path,
) -> None:
    _, registered = client_certificate(tmp_path, "rekisteroity")
    other, _ = client_certificate(tmp_path, "toinen")
    login.register(TENANT, CLIENT_ID, certificate=registered)
    mailer = signed_in(login, open_graph, certificate_file=str(other))
    with pytest.raises(DeliveryRejected, match="authentication failed for tenant "
                                               f"'{TENANT}', client '{CLIENT_ID}'"):
        mailer.create_event(meeting(), "k1")
    mailer.close()
    assert not open_graph.requests


def test_a_refused_secret_names_tenant_and_client_but_never_the_secret(
    login: TokenServer, open_graph: GraphServer, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    login.register(TENANT, CLIENT_ID, secret="the-right-one")
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("Vanha~salaisuus.ALA-NAYTA\n", encoding="utf-8")
    caplog.set_level(logging.DEBUG)  # every logger: azure.core, azure.identity, httpx, ours
    mailer = signed_in(login, open_graph, client_secret_file=str(secret_file))
    with pytest.raises(DeliveryRejected) as caught:
        mailer.create_event(meeting(), "k1")
    with pytest.raises(DeliveryRejected):
        mailer.free_busy([ORGANIZER.email], at(1, 0), at(31, 0))
    mailer.close()
    assert login.requests[0].form["client_secret"] == "Vanha~salaisuus.ALA-NAYTA"  # it was sent
    assert not open_graph.requests  # and nothing went to Graph without a token
    exc = caught.value
    text = f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
    assert TENANT in text and CLIENT_ID in text and "authentication failed" in text
    assert "salaisuus" not in text
    assert caplog.records
    assert "salaisuus" not in caplog.text
    assert all("salaisuus" not in repr(r.args) for r in caplog.records)


def test_an_untrusted_token_endpoint_is_not_signed_in_to(
    login: TokenServer, open_graph: GraphServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the test CA is not trusted now
    login.register(TENANT, CLIENT_ID, secret="s3cr3t~value")
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("s3cr3t~value", encoding="utf-8")
    mailer = signed_in(login, open_graph, client_secret_file=str(secret_file))
    with pytest.raises(DeliveryUnavailable, match="while signing in"):
        mailer.create_event(meeting(), "k1")
    mailer.close()
    assert not login.requests and not open_graph.requests  # the TLS handshake failed first


# -- end to end: `yhdyspinta plan` reads the conveners' calendars through Graph --------------

JYVASKYLA = "kirjaamo@jyvaskyla.example"  # the kuntakokous convener (contacts.example.yaml)


def plan_cli(tmp_path: Path, base_url: str, *, freebusy: bool = True) -> tuple[int, str, str]:
    """``python -m scheduler plan`` as an operator runs it, with the graph backend."""
    token_file = tmp_path / "graph-token"
    token_file.write_text(TOKEN, encoding="utf-8")
    token_file.chmod(0o600)  # `check` refuses a secret every user may read
    config = tmp_path / "yhdyspinta.toml"
    config.write_text(f"""
[planning]
freebusy = {str(freebusy).lower()}
[database]
url = "sqlite:///{tmp_path / 'state.db'}"
[delivery]
backend = "graph"
[graph]
base_url = "{base_url}"
token_file = "{token_file}"
timeout = 5
""", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YHDYSPINTA_")}
    done = subprocess.run([sys.executable, "-m", "scheduler", "--config", str(config), "plan",
                           "--from", "2027-01-01", "--to", "2027-12-31", "--format", "json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    return done.returncode, done.stdout, done.stderr


def kuntakokous(out: str) -> dict[str, Any]:
    meetings: list[dict[str, Any]] = json.loads(out)["meetings"]
    [found] = [m for m in meetings if m["body"] == "kuntakokous"]
    return found


def test_plan_avoids_a_day_the_conveners_calendar_is_busy(
    server: GraphServer, tmp_path: Path,
) -> None:
    code, out, err = plan_cli(tmp_path, server.base_url)
    assert code in (0, 2), err
    free = kuntakokous(out)
    asked = server.calls("POST", "/getSchedule")
    assert any(JYVASKYLA in c.body["Schedules"] for c in asked)
    # The convener's own calendar is taken that afternoon: the same plan moves the meeting.
    start, end = datetime.fromisoformat(free["start"]), datetime.fromisoformat(free["end"])
    server.add_busy(JYVASKYLA, start + timedelta(hours=1), start + timedelta(hours=2),
                    subject="Kaupunginhallitus")
    code_busy, out_busy, err_busy = plan_cli(tmp_path, server.base_url)
    assert code_busy == code, err_busy
    moved = kuntakokous(out_busy)
    assert moved["start"][:10] != free["start"][:10]
    moved_start = datetime.fromisoformat(moved["start"])
    assert not (moved_start < end and start < datetime.fromisoformat(moved["end"]))
    busy_day = f"{start.day}.{start.month}.{start.year}"  # the reason says why, in Finnish
    assert any(busy_day in reason and "kalenterissa" in reason for reason in moved["reasons"])
    assert "could not be read" not in err_busy


def test_plan_with_graph_unreachable_warns_and_plans_as_before(tmp_path: Path) -> None:
    code_off, out_off, _ = plan_cli(tmp_path, f"http://127.0.0.1:{free_port()}/v1.0",
                                    freebusy=False)
    code, out, err = plan_cli(tmp_path, f"http://127.0.0.1:{free_port()}/v1.0")
    assert code == code_off
    assert "the conveners' calendars could not be read" in err and "ConnectError" in err
    assert "planning without them" in err
    assert json.loads(out)["meetings"] == json.loads(out_off)["meetings"]


def test_plan_names_the_convener_whose_calendar_could_not_be_read(
    server: GraphServer, tmp_path: Path,
) -> None:
    server.unknown.add(JYVASKYLA)
    code, out, err = plan_cli(tmp_path, server.base_url)
    assert code in (0, 2), err
    assert "the calendars of jyvaskyla could not be read" in err
    assert kuntakokous(out)["start"]  # planned anyway, without that calendar
