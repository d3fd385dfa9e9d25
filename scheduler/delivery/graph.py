"""The ``graph`` backend: meetings as events in the convener's Exchange Online calendar and
plain messages through ``sendMail``, all through Microsoft Graph v1.0 with msgraph-sdk.

This module owns the Graph wire decisions (tech.md section 4) and the delivery semantics on
top of them:

* ``create_event`` POSTs to ``/users/{organizer}/events`` with a ``transactionId`` derived
  from the outbox key, so kiota's automatic retries of a POST on 429/503/504 (tech.md 0.3)
  and our own later retries after a timeout return the same event instead of a second one.
* ``update_event`` PATCHes the whole meeting state (idempotent), ``cancel_event`` POSTs
  ``/cancel`` with a comment, ``responses`` reads the attendees' ``status.response``;
  ``responses_many`` reads many meetings' in JSON ``$batch`` requests of 20, asking inner
  429/503/504s again itself (kiota retries only the outer request).
* ``send`` POSTs ``/users/{from}/sendMail``. That call has no idempotency key, so only a 429
  (Graph refused before doing anything) is retried; a 5xx or a lost response after the
  request went out is a final "uncertain" rejection rather than a possible duplicate.
* At most ``max_in_flight`` requests per mailbox are in flight (Outlook's 4 concurrent
  requests per app and mailbox, tech.md section 5); Retry-After is honoured.
* Credentials come from files (client secret, certificate, or a bearer token) and never
  appear in an exception or a log line; a refused login names the tenant and client only.

The SDK is async; one private event loop in a daemon thread serves all calls of a mailer,
so the pipeline's threads call it synchronously and share one connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import html
import json
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from azure.core.credentials import AccessToken
from azure.core.exceptions import AzureError, ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_builder import BaseRequestBuilder
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.request_option import RequestOption
from kiota_abstractions.serialization import (
    Parsable,
    ParsableFactory,
    ParseNode,
    SerializationWriter,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.models.attachment import Attachment
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.schedule_information import ScheduleInformation
from msgraph.generated.models.single_value_legacy_extended_property import (
    SingleValueLegacyExtendedProperty,
)
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
    GetSchedulePostRequestBody,
)
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
    CancelPostRequestBody,
)
from msgraph.generated.users.item.events.item.event_item_request_builder import (
    EventItemRequestBuilder,
)
from msgraph.generated.users.item.messages.messages_request_builder import MessagesRequestBuilder
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

# msgraph_core ships no py.typed; only these names are used from it.
from msgraph_core import GraphClientFactory  # type: ignore[import-untyped]
from msgraph_core.authentication import (  # type: ignore[import-untyped]
    AzureIdentityAuthenticationProvider,
)
from msgraph_core.requests.batch_request_content import (  # type: ignore[import-untyped]
    BatchRequestContent,
)
from msgraph_core.requests.batch_request_item import (  # type: ignore[import-untyped]
    BatchRequestItem,
)

from . import DeliveryRejected, DeliveryUnavailable, Receipt
from .events import CalendarEvent, EventReceipt, Person

log = logging.getLogger(__name__)

T = TypeVar("T")
_Call = Callable[[GraphServiceClient], Coroutine[Any, Any, T]]  # one SDK call, on the loop

HELSINKI = ZoneInfo("Europe/Helsinki")
# Graph's dateTimeTimeZone takes Windows zone names; its short IANA list has Europe/Kiev but
# not Europe/Helsinki (tech.md 4, learn.microsoft.com/graph/api/resources/datetimetimezone).
# "FLE Standard Time" (Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius) follows the same
# EU rules as Europe/Helsinki.
WINDOWS_ZONE = "FLE Standard Time"
# Returned times in our zone, and ids that survive the move to Deleted Items on cancel
# (tech.md 4: "id changes when an item moves folders").
PREFER = ('outlook.timezone="FLE Standard Time"', 'IdType="ImmutableId"')
# The longest Retry-After we sleep through inside one call; beyond it the job is rescheduled
# (kiota itself gives up at 180 s, RetryHandlerOption.MAX_DELAY).
MAX_WAIT = 120.0
# Our outbox key on every sent message, a named property in the PS_PUBLIC_STRINGS set
# ([MS-OXPROPS] 1.3.2), so a retry can find what an uncertain sendMail did.
KEY_PROPERTY = "String {00020329-0000-0000-C000-000000000046} Name yhdyspinta-outbox-key"
# One connection pool per mailbox, as large as its slots: httpcore scans every pooled
# connection on each request, so one shared HTTP/1.1 pool of 80 connections (20 mailboxes x 4)
# cost ~3 ms of CPU a request in tests/bench/graph_throughput.py. Over HTTP/2 (Graph itself)
# each mailbox then uses one multiplexed connection.
RESPONSES = {"accepted": "accepted", "tentativelyAccepted": "tentativelyAccepted",
             "declined": "declined"}  # none, notResponded, organizer -> "none"
# getSchedule's limits (learn.microsoft.com/graph/outlook-get-free-busy-schedule, "Limits and
# error conditions"): up to 20 schedules a request, and a time window "less than 62 days"
# (beyond it Graph answers 400 ErrorTimeIntervalTooBig, "The allowed limit = 62 days").
MAX_SCHEDULES = 20
MAX_SCHEDULE_WINDOW = timedelta(days=61)
# Which free/busy statuses keep a convener from a meeting. busy and oof (out of office) are
# plain; tentative too, because it is a meeting not yet declined or a hold the person placed,
# which Outlook's scheduling assistant shows as a conflict, and the convener's absence would
# cost a statutory meeting. workingElsewhere is a working person, only not at the office
# (Graph v1.0's availabilityView even reports it as 0, free); free and unknown are free.
BUSY_STATUSES = frozenset({"busy", "oof", "tentative"})
# JSON batching (learn.microsoft.com/graph/json-batching): at most 20 requests in a batch.
MAX_BATCH = 20
# Graph hands Outlook "up to four individual requests from the batch at a time, regardless of
# the target mailboxes" (learn.microsoft.com/graph/throttling-limits, "Outlook service limits
# for JSON batching"), so one batch never uses more than four of a mailbox's concurrency.
BATCH_PARALLEL = 4
# Inner answers that a later batch asks again: the throttle (429) and a busy or timed-out
# backend (503, 504). Safe, as every inner request of ours is a GET. kiota's RetryHandler
# sees only the outer 200 and never retries an inner item (tech.md 4).
RETRIED_INNER = frozenset({429, 503, 504})
# Batches span mailboxes, so they have a connection pool of their own.
_BATCH_POOL = "$batch"
# Taking several slots at once is done by one thread at a time: two batches each holding part
# of a mailbox's slots and waiting for the rest would wait for ever.
_BATCH_ACQUIRE = threading.Lock()


class TokenCredential(Protocol):
    """azure.core's TokenCredential, sync or async (the kiota provider awaits either)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken | Awaitable[AccessToken]: ...


def transaction_id(key: str) -> str:
    """The event's ``transactionId``: the outbox key hashed into UUID form, the same on every
    retry of the same outbox row (Graph keeps the first event of a transactionId)."""
    return str(uuid.UUID(bytes=hashlib.sha256(key.encode("utf-8")).digest()[:16]))


class TokenFileCredential:
    """A bearer token kept in a file by something else (a sidecar, ``az account
    get-access-token``); read on every call so a rotated file is picked up. No ``__repr__``
    shows the token."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        del scopes, kwargs
        try:
            token = self._path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ClientAuthenticationError(f"cannot read token_file ({exc.strerror})") from None
        if not token:
            raise ClientAuthenticationError("token_file is empty")
        return AccessToken(token, int(time.time()) + 300)

    def __repr__(self) -> str:
        return f"TokenFileCredential({str(self._path)!r})"


class GraphMailer:
    name: ClassVar[str] = "graph"

    def __init__(
        self,
        tenant_id: str = "",
        client_id: str = "",
        client_secret_file: str = "",
        certificate_file: str = "",
        token_file: str = "",
        base_url: str = "https://graph.microsoft.com/v1.0",
        authority_host: str = "login.microsoftonline.com",
        timeout: float = 30.0,
        max_in_flight: int = 4,
        max_retries: int = RetryHandlerOption.DEFAULT_MAX_RETRIES,
        retry_delay: float = RetryHandlerOption.DEFAULT_DELAY,
        credential: TokenCredential | None = None,
    ) -> None:
        self.tenant_id, self.client_id = tenant_id, client_id
        self._secret_file, self._certificate_file = client_secret_file, certificate_file
        self._token_file = token_file
        self.base_url, self.authority_host = base_url.rstrip("/"), authority_host
        self.timeout, self.max_in_flight = timeout, max_in_flight
        # kiota's policy for every call but sendMail: retries after the first attempt, and
        # a base delay used when a 503/504 carries no Retry-After (tech.md 4).
        self._retry = RetryHandlerOption(delay=retry_delay, max_retries=max_retries)
        self._credential = credential
        self._owned: object = None  # a credential we built, and so close
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._auth: AzureIdentityAuthenticationProvider | None = None
        self._clients: dict[str, GraphServiceClient] = {}
        self._https: list[httpx.AsyncClient] = []

    # -- the EventMailer protocol ----------------------------------------------------------

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """sendMail, saved to Sent Items with ``key`` as an extended property. sendMail has
        no idempotency key, so an uncertain answer (5xx, a timeout after the request went)
        is not retried blindly: it is transient, and the next attempt (``again``) first
        looks for the key in the sender's mailbox and sends only if it is not there."""
        sender = message["From"].addresses[0].addr_spec
        if any(part.get_content_type() == "text/calendar" for part in message.walk()):
            # sendMail's JSON has no iMIP part; an invitation through here would arrive as
            # a plain mail with an .ics and no meeting in the organiser's calendar.
            raise DeliveryRejected("graph: meeting requests go through create_event, "
                                   "not sendMail")
        receipt = Receipt(str(message["Message-ID"]))
        if again and self._already_sent(sender, key):
            log.info("graph: sendMail for %s: the earlier attempt had gone; not sent again",
                     sender)
            return receipt
        body = SendMailPostRequestBody(message=_message(message, key), save_to_sent_items=True)

        async def call(client: GraphServiceClient) -> None:
            # No kiota retries here (tech.md 0.3): a retried sendMail after a 503/504 can be
            # a duplicate. Only 429 is safe to repeat, and _throttled does that itself.
            await client.users.by_user_id(sender).send_mail.post(
                body, request_configuration=_config(RetryHandlerOption(should_retry=False)))

        self._run(sender, "sendMail", key, self._throttled(call), idempotent=False)
        return receipt

    def _already_sent(self, sender: str, key: str) -> bool:
        """Whether a message carrying ``key`` is in any folder of ``sender`` (Sent Items,
        or still the Outbox): filtering on a singleValueExtendedProperty is the documented
        way to find our own items by our own id."""
        literal = key.replace("'", "''")  # an OData string literal doubles its quotes
        query = (f"singleValueExtendedProperties/Any(ep: ep/id eq '{KEY_PROPERTY}' "
                 f"and ep/value eq '{literal}')")

        async def call(client: GraphServiceClient) -> bool:
            config = _config()
            config.query_parameters = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
                filter=query, select=["id"], top=1)
            found = await client.users.by_user_id(sender).messages.get(request_configuration=config)
            return bool(found and found.value)

        return self._run(sender, "looking for an earlier sendMail", key, call, idempotent=True)

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        mailbox = event.organizer.email
        body = _event(event)
        body["transactionId"] = transaction_id(key)
        body["isOnlineMeeting"] = False  # no Teams meeting: the link, if any, is in the body

        async def call(client: GraphServiceClient) -> EventReceipt:
            events = client.users.by_user_id(mailbox).events
            info = _json_request(Method.POST, events, body, self._config())
            return _receipt(await _send(client, info))

        return self._run(mailbox, "create event", key, call, idempotent=True)

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        mailbox = event.organizer.email
        body = _event(event)  # the whole state each time: a retried PATCH changes nothing

        async def call(client: GraphServiceClient) -> EventReceipt:
            item = self._item(client, mailbox, remote_id)
            info = _json_request(Method.PATCH, item, body, self._config())
            return _receipt(await _send(client, info), remote_id)

        return self._run(mailbox, "update event", key, call, idempotent=True)

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str, key: str) -> Receipt:
        mailbox = event.organizer.email

        async def call(client: GraphServiceClient) -> Receipt:
            # Organizer-only; sends the cancellation with the comment and moves the event to
            # Deleted Items (learn.microsoft.com/graph/api/event-cancel). 202, no body.
            await self._item(client, mailbox, remote_id).cancel.post(
                CancelPostRequestBody(comment=comment), request_configuration=self._config())
            return Receipt(remote_id)

        return self._run(mailbox, "cancel event", key, call, idempotent=True)

    def responses(self, remote_id: str, organizer: Person) -> dict[str, str]:
        mailbox = organizer.email

        async def call(client: GraphServiceClient) -> dict[str, str]:
            got = await self._item(client, mailbox, remote_id).get(
                request_configuration=self._config())
            answers: dict[str, str] = {}
            for attendee in (got.attendees if got else None) or []:
                address = attendee.email_address.address if attendee.email_address else None
                if not address:
                    continue
                response = attendee.status.response if attendee.status else None
                value = str(response.value) if response is not None else "none"
                answers[address.lower()] = RESPONSES.get(value, "none")
            return answers

        return self._run(mailbox, "read responses", remote_id, call, idempotent=True)

    def responses_many(self, items: list[tuple[str, Person]]
                       ) -> dict[str, dict[str, str] | Exception]:
        """``responses`` for many meetings at once: event id -> attendee address -> answer,
        or that meeting's own DeliveryRejected / DeliveryUnavailable.

        The GETs go in JSON ``$batch`` requests of at most 20. An inner 429, 503 or 504 is
        asked again in a later batch after the largest inner Retry-After (up to
        ``max_retries`` more rounds; a Retry-After beyond ``MAX_WAIT`` fails that meeting at
        once, as elsewhere here). Any other inner error fails its meeting only. A batch
        that fails as a whole (after kiota's own retries of the outer POST, safe as it holds
        only GETs) fails every meeting not yet answered, and no further batch is sent."""
        mailboxes = {remote_id: organizer.email for remote_id, organizer in items}
        results: dict[str, dict[str, str] | Exception] = {}
        pending: dict[str, str] = dict.fromkeys(mailboxes, "")  # id -> why it is asked again
        wait = 0.0
        for attempt in range(self._retry.max_retry + 1):
            if not pending:
                break
            if wait:
                log.debug("graph $batch: %d inner requests throttled, waiting %.1f s",
                          len(pending), wait)
                time.sleep(wait)
            pending, wait = self._batch_round(list(pending), mailboxes, results, attempt)
        for remote_id, why in pending.items():
            results[remote_id] = DeliveryUnavailable(
                f"{why}; still throttled after {self._retry.max_retry + 1} $batch rounds")
        return results

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Busy, tentative and out-of-office intervals (aware, UTC) per mailbox, read with
        getSchedule in as many requests as Graph's limits need. A mailbox Graph cannot
        read (unknown, outside the app's access policy) is logged as a warning and left
        out of the answer; when none can be read, DeliveryRejected names them all."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("free_busy needs aware start and end times")
        wanted = list(dict.fromkeys(mailboxes))
        busy: dict[str, set[tuple[datetime, datetime]]] = {m: set() for m in wanted}
        refused: dict[str, str] = {}
        for begin, finish in _schedule_windows(start, end):
            for first in range(0, len(wanted), MAX_SCHEDULES):
                group = [m for m in wanted[first:first + MAX_SCHEDULES] if m not in refused]
                self._read_schedules(group, begin, finish, busy, refused)
        if wanted and len(refused) == len(wanted):
            raise DeliveryRejected("graph getSchedule: no calendar could be read: " + "; ".join(
                f"{mailbox}: {why}" for mailbox, why in refused.items()))
        for mailbox, why in refused.items():
            log.warning("graph getSchedule: the calendar of %s could not be read (%s); "
                        "its busy times are not known", mailbox, why)
        return {m: sorted(found) for m, found in busy.items() if m not in refused}

    def close(self) -> None:
        with self._lock:
            loop, thread, https = self._loop, self._thread, self._https
            self._loop = self._thread = self._auth = None
            self._clients, self._https = {}, []
        if loop is None or thread is None:
            return
        owned, self._owned = self._owned, None
        if owned is not None:
            self._credential = None

        async def shutdown() -> None:
            for http in https:
                await http.aclose()
            closer = getattr(owned, "close", None)  # azure.identity.aio credentials
            if closer is not None:
                result = closer()
                if asyncio.iscoroutine(result):
                    await result

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    # -- plumbing --------------------------------------------------------------------------

    def _config(self, *options: RequestOption) -> RequestConfiguration[Any]:
        return _config(*(options or (self._retry,)))

    @staticmethod
    def _item(client: GraphServiceClient, mailbox: str, remote_id: str) -> EventItemRequestBuilder:
        return client.users.by_user_id(mailbox).events.by_event_id(remote_id)

    def _throttled(self, call: _Call[T]) -> _Call[T]:
        """``call`` again after a 429, honouring Retry-After up to ``MAX_WAIT`` and
        ``max_retries`` times: used where kiota's retries are off (sendMail)."""

        async def again(client: GraphServiceClient) -> T:
            for attempt in range(self._retry.max_retry + 1):
                try:
                    return await call(client)
                except APIError as exc:
                    if exc.response_status_code != 429 or attempt == self._retry.max_retry:
                        raise
                    wait = _retry_after(exc.response_headers)
                    if wait is None:
                        wait = self._retry.max_delay + 0.5 * 2 ** attempt
                    if wait > MAX_WAIT:
                        raise
                    log.debug("graph: 429, waiting %.1f s before attempt %d", wait, attempt + 2)
                    await asyncio.sleep(wait)
            raise AssertionError("unreachable")

        return again

    def _run(self, mailbox: str, what: str, key: str, call: _Call[T], *, idempotent: bool) -> T:
        """Run ``call`` on the private loop, holding one of the mailbox's slots, and turn
        every failure into DeliveryRejected or DeliveryUnavailable."""
        slot = self._slot(mailbox)
        with slot:
            try:
                client, loop = self._connect(mailbox)
                return asyncio.run_coroutine_threadsafe(call(client), loop).result()
            except (DeliveryRejected, DeliveryUnavailable):
                raise
            except (APIError, httpx.HTTPError, AzureError) as exc:  # anything else is a bug
                failure = self._failure(exc, mailbox, what, idempotent=idempotent)
                log.info("%s", failure)
                log.debug("graph: %s for %s failed (key %s)", what, mailbox, key)
                raise failure from None

    def _read_schedules(self, group: list[str], begin: datetime, finish: datetime,
                        busy: dict[str, set[tuple[datetime, datetime]]],
                        refused: dict[str, str]) -> None:
        """One getSchedule for ``group`` over one window, asked through the first mailbox's
        own calendar; if Graph refuses that mailbox itself (404 unknown user, 403 outside
        the app's access policy), it is set aside and the rest asked through the next."""
        while group:
            caller = group[0]
            answer = self._run(caller, "getSchedule", f"{begin:%Y-%m-%d}..{finish:%Y-%m-%d}",
                               self._get_schedule(caller, group, begin, finish),
                               idempotent=True)  # a read: kiota's retries are safe
            if isinstance(answer, str):
                refused[caller] = answer
                group = group[1:]
                continue
            by_id = {(info.schedule_id or "").lower(): info for info in answer}
            for mailbox in group:
                info = by_id.get(mailbox.lower())
                if info is None:
                    refused[mailbox] = "no schedule in Graph's answer"
                elif info.error is not None:
                    # Graph answers 200 with an error object per schedule it cannot read
                    # ("Unable to resolve e-mail address ...", responseCode 5009).
                    refused[mailbox] = (f"{info.error.response_code or ''} "
                                        f"{info.error.message or ''}").strip()
                else:
                    busy[mailbox].update(_busy_items(info))
            return

    def _get_schedule(self, caller: str, group: list[str], begin: datetime, finish: datetime,
                      ) -> _Call[list[ScheduleInformation] | str]:
        body = GetSchedulePostRequestBody(
            schedules=list(group), start_time=_utc(begin), end_time=_utc(finish),
            availability_view_interval=_view_interval(finish - begin))
        config: RequestConfiguration[Any] = RequestConfiguration(options=[self._retry])
        # Answers in UTC (the default, asked for anyway): no zone name to translate back.
        config.headers.add("Prefer", 'outlook.timezone="UTC"')

        async def call(client: GraphServiceClient) -> list[ScheduleInformation] | str:
            try:
                got = await client.users.by_user_id(caller).calendar.get_schedule.post(
                    body, request_configuration=config)
            except APIError as exc:
                if exc.response_status_code in (403, 404):
                    return f"{exc.response_status_code} {_graph_error(exc)}"
                raise
            return list((got.value if got else None) or [])

        return call

    def _batch_round(self, pending: list[str], mailboxes: dict[str, str],
                     results: dict[str, dict[str, str] | Exception], attempt: int,
                     ) -> tuple[dict[str, str], float]:
        """Ask ``pending`` once, in as few batches as the limits allow; returns the ids to
        ask again (with why) and how long to wait first."""
        again: dict[str, str] = {}
        wait = 0.0
        for batch in _pack(pending, mailboxes, self._per_mailbox()):
            try:
                answers = self._post_batch(batch, mailboxes)
            except (DeliveryRejected, DeliveryUnavailable) as failure:
                for remote_id in pending:
                    results.setdefault(remote_id, failure)
                return {}, 0.0
            for remote_id in batch:
                verdict = self._verdict(answers.get(remote_id), mailboxes[remote_id])
                if not isinstance(verdict, _Again):
                    results[remote_id] = verdict
                    continue
                delay = verdict.retry_after
                if delay is None:  # kiota's own back-off for a 503 without Retry-After
                    delay = self._retry.max_delay + 0.5 * 2 ** attempt
                if delay > MAX_WAIT:
                    results[remote_id] = DeliveryUnavailable(
                        f"{verdict.why}; Retry-After {delay:.0f} s is beyond {MAX_WAIT:.0f} s")
                    continue
                again[remote_id] = verdict.why
                wait = max(wait, delay)
        return again, wait

    def _per_mailbox(self) -> int:
        """How many requests for one mailbox a batch may hold: any number while Graph's
        four at a time fit in ``max_in_flight``, else ``max_in_flight``."""
        return MAX_BATCH if self.max_in_flight >= BATCH_PARALLEL else self.max_in_flight

    def _post_batch(self, batch: list[str], mailboxes: dict[str, str]) -> dict[str, _InnerAnswer]:
        """One ``POST /$batch`` of GET attendees for ``batch`` (event ids), holding the
        mailboxes' slots; the answers by event id, whatever order Graph gave them in."""
        ids = {str(n): remote_id for n, remote_id in enumerate(batch, 1)}
        counts = Counter(mailboxes[remote_id].lower() for remote_id in batch)

        async def call(client: GraphServiceClient) -> _BatchAnswer | None:
            content = BatchRequestContent()
            for request_id, remote_id in ids.items():
                info = self._item(client, mailboxes[remote_id], remote_id
                                  ).to_get_request_information(_attendees_config())
                # add_request_information(request_id=...) ignores the id (tech.md 0.2).
                content.add_request(None, BatchRequestItem(info, id=request_id))
            info = await client.batch.to_post_request_information(content)
            # Not client.batch.post: its BatchResponseItem drops every JSON object body
            # (kiota-python issue 737), so the answer is read by our own _BatchAnswer.
            error_mapping: dict[str, type[ParsableFactory[Any]]] = {"XXX": ODataError}
            return await client.request_adapter.send_async(info, _BatchAnswer, error_mapping)

        with self._holding(counts):
            try:
                client, loop = self._connect(_BATCH_POOL)
                got = asyncio.run_coroutine_threadsafe(call(client), loop).result()
            except (APIError, httpx.HTTPError, AzureError) as exc:
                failure = self._failure(exc, ", ".join(sorted(counts)),
                                        "read responses ($batch)", idempotent=True)
                log.info("%s", failure)
                raise failure from None
        return {ids[a.id]: a for a in (got.responses if got else []) if a.id in ids}

    def _verdict(self, answer: _InnerAnswer | None, mailbox: str
                 ) -> dict[str, str] | DeliveryRejected | DeliveryUnavailable | _Again:
        """One inner answer as the meeting's answers, its failure, or a reason to ask again;
        Graph's error words as ``_failure`` gives them for a single call."""
        where = f"graph read responses for {mailbox}"
        if answer is None:
            return DeliveryUnavailable(f"{where}: no answer to it in the $batch response")
        status = answer.status or 0
        if 200 <= status < 300:
            return _answers(answer.body)
        text = f"{where}: {status} {answer.error_text()}"
        if status in RETRIED_INNER:
            return _Again(_retry_after(answer.headers), text)
        if status == 401:
            return DeliveryRejected(f"{text} (tenant {self.tenant_id!r}, "
                                    f"client {self.client_id!r})")
        if status >= 500:
            return DeliveryUnavailable(text)
        return DeliveryRejected(text)

    @contextlib.contextmanager
    def _holding(self, counts: Counter[str]) -> Iterator[None]:
        """The slots a batch uses: of each mailbox as many as Graph may run at once (its
        requests there, at most four), taken in one order by one thread at a time."""
        taken: list[threading.BoundedSemaphore] = []
        try:
            with _BATCH_ACQUIRE:
                for mailbox in sorted(counts):
                    slot = self._slot(mailbox)
                    for _ in range(min(counts[mailbox], BATCH_PARALLEL, self.max_in_flight)):
                        slot.acquire()
                        taken.append(slot)
            yield
        finally:
            for slot in taken:
                slot.release()

    def _slot(self, mailbox: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(mailbox.lower())
            if slot is None:
                slot = self._slots[mailbox.lower()] = threading.BoundedSemaphore(
                    self.max_in_flight)
            return slot

    def _connect(self, mailbox: str) -> tuple[GraphServiceClient, asyncio.AbstractEventLoop]:
        """The mailbox's client (its own connection pool, one shared credential) and the
        private loop, both made on first use."""
        with self._lock:
            if self._auth is None:
                credential = self._credential
                if credential is None:
                    credential = self._credential = self._owned = self._make_credential()
                host = urlsplit(self.base_url).hostname or "graph.microsoft.com"
                # allowed_hosts: kiota attaches no token to any other host, silently
                # (tech.md 4).
                self._auth = AzureIdentityAuthenticationProvider(
                    credential, scopes=[f"https://{_scope_host(host)}/.default"],
                    allowed_hosts=[host])
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                                name="graph-mailer")
                self._thread.start()
            client = self._clients.get(mailbox.lower())
            if client is None:
                http = GraphClientFactory.create_with_default_middleware(
                    client=httpx.AsyncClient(
                        timeout=httpx.Timeout(self.timeout), http2=True,
                        limits=httpx.Limits(max_connections=self.max_in_flight,
                                            max_keepalive_connections=self.max_in_flight)),
                    options={RetryHandlerOption.get_key(): self._retry})
                self._https.append(http)
                adapter = GraphRequestAdapter(self._auth, client=http)
                adapter.base_url = self.base_url  # every request builder expands {+baseurl}
                client = self._clients[mailbox.lower()] = GraphServiceClient(
                    request_adapter=adapter)
            return client, self._loop

    def _make_credential(self) -> TokenCredential:
        if self._token_file:
            return TokenFileCredential(self._token_file)
        # Imported here: azure.identity pulls in msal and cryptography, needed only for these.
        from azure.identity.aio import CertificateCredential, ClientSecretCredential

        if not (self.tenant_id and self.client_id):
            raise DeliveryRejected("graph: tenant_id and client_id are needed with "
                                   "client_secret_file or certificate_file")
        if self._secret_file:
            try:
                secret = Path(self._secret_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise DeliveryRejected(f"graph: cannot read client_secret_file "
                                       f"({exc.strerror})") from None
            return ClientSecretCredential(self.tenant_id, self.client_id, secret,
                                          authority=self.authority_host, **_sign_in_tls())
        if self._certificate_file:
            return CertificateCredential(self.tenant_id, self.client_id,
                                         certificate_path=self._certificate_file,
                                         authority=self.authority_host, **_sign_in_tls())
        raise DeliveryRejected("graph: no credential: set client_secret_file, "
                               "certificate_file or token_file")

    def _failure(self, exc: BaseException, mailbox: str, what: str, *,
                 idempotent: bool) -> DeliveryRejected | DeliveryUnavailable:
        where = f"graph {what} for {mailbox}"
        if isinstance(exc, ClientAuthenticationError):
            # Never the library's text: it can quote the request. Who, not with what.
            return DeliveryRejected(f"{where}: authentication failed for tenant "
                                    f"{self.tenant_id!r}, client {self.client_id!r}")
        if isinstance(exc, APIError):
            status = exc.response_status_code or 0
            text = f"{where}: {status} {_graph_error(exc)}"
            if status == 401:
                return DeliveryRejected(f"{text} (tenant {self.tenant_id!r}, "
                                        f"client {self.client_id!r})")
            if status == 429:
                wait = _retry_after(exc.response_headers)
                return DeliveryUnavailable(f"{text}; throttled" + (
                    f", Retry-After {wait:.0f} s" if wait is not None else ""))
            if status >= 500:
                if idempotent:
                    return DeliveryUnavailable(text)
                return DeliveryUnavailable(f"uncertain: {text}; the server may have sent it, "
                                           "so the next attempt looks for it before sending")
            return DeliveryRejected(text)
        if isinstance(exc, httpx.TransportError):
            kind = exc.__class__.__name__
            # Connect errors and pool waits never put the request on the wire.
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout
                                  | httpx.PoolTimeout)
            if sent and not idempotent:
                return DeliveryUnavailable(f"uncertain: {where}: {kind} after the request "
                                           "was sent; the next attempt looks for it before "
                                           "sending")
            return DeliveryUnavailable(f"{where}: {kind}")
        if isinstance(exc, AzureError):  # the token endpoint unreachable, a transport error
            return DeliveryUnavailable(f"{where}: {exc.__class__.__name__} while signing in")
        return DeliveryRejected(f"{where}: {exc.__class__.__name__}")


def _config(*options: RequestOption) -> RequestConfiguration[Any]:
    config: RequestConfiguration[Any] = RequestConfiguration(options=list(options))
    for value in PREFER:
        config.headers.add("Prefer", value)
    return config


def _sign_in_tls() -> dict[str, Any]:
    """The CA bundle for signing in, when ``SSL_CERT_FILE`` names one. azure-identity's async
    credentials post to the token endpoint through aiohttp, whose verifying SSL context is
    made once, when aiohttp is first imported (``aiohttp.connector._SSL_CONTEXT_VERIFIED``),
    so a bundle set later (a private authority, a TLS-inspecting proxy) would be ignored;
    azure-core's ``connection_verify`` applies it to every sign-in request."""
    bundle = os.environ.get("SSL_CERT_FILE", "")
    return {"connection_verify": bundle} if bundle and Path(bundle).is_file() else {}


def _scope_host(host: str) -> str:
    # A local test server still asks for Graph's scope; the fake credential ignores it.
    return "graph.microsoft.com" if host in {"127.0.0.1", "localhost", "::1"} else host


def _wall(moment: datetime) -> dict[str, str]:
    """Graph's dateTimeTimeZone: Helsinki wall time under the Windows zone name; UTC for the
    one ambiguous hour of the autumn change, which a wall time alone cannot say."""
    if moment.tzinfo is None:
        raise ValueError("CalendarEvent times must be aware")
    local = moment.astimezone(HELSINKI)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        utc = moment.astimezone(ZoneInfo("UTC"))
        return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": WINDOWS_ZONE}


def _schedule_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``start``..``end`` in UTC, cut into as few equal windows as getSchedule's limit allows,
    each a whole number of minutes (the last may be shorter) and at least 5 minutes long
    (Graph refuses an availabilityViewInterval longer than the window, and one under 5)."""
    begin = start.astimezone(UTC).replace(second=0, microsecond=0)
    finish = end.astimezone(UTC)
    if finish <= begin:
        return []
    finish = max(finish, begin + timedelta(minutes=5))
    total = finish - begin
    pieces = -(-total // MAX_SCHEDULE_WINDOW)  # ceiling division of timedeltas
    minute = timedelta(minutes=1)
    step = -(-(total / pieces) // minute) * minute
    return [(begin + n * step, min(finish, begin + (n + 1) * step)) for n in range(pieces)
            if begin + n * step < finish]


def _view_interval(length: timedelta) -> int:
    """availabilityViewInterval in minutes: 5..1440 and not above the window. The view
    itself is not read (scheduleItems carry the times); a long slot keeps it short."""
    return max(5, min(1440, int(length.total_seconds() // 60)))


def _utc(moment: datetime) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                            time_zone="UTC")


def _busy_items(info: ScheduleInformation) -> set[tuple[datetime, datetime]]:
    found: set[tuple[datetime, datetime]] = set()
    for item in info.schedule_items or []:
        status = str(item.status.value) if item.status is not None else "unknown"
        if status.lower() in BUSY_STATUSES:
            found.add((_instant(item.start, info), _instant(item.end, info)))
    return found


def _instant(moment: DateTimeTimeZone | None, info: ScheduleInformation) -> datetime:
    """A schedule item's time as an aware UTC datetime. Graph writes seven fractional
    digits ("2027-03-02T08:00:00.0000000"), which Python 3.11's fromisoformat reads."""
    zones = {"UTC": UTC, WINDOWS_ZONE: HELSINKI}
    zone = zones.get(moment.time_zone or "") if moment is not None else None
    try:
        if moment is None or zone is None or not moment.date_time:
            raise ValueError(moment.time_zone if moment is not None else "no time")
        return datetime.fromisoformat(moment.date_time).replace(tzinfo=zone).astimezone(UTC)
    except ValueError as exc:
        raise DeliveryRejected(f"graph getSchedule: a schedule item of {info.schedule_id} "
                               f"has a time we cannot read ({exc})") from None


def _event(event: CalendarEvent) -> dict[str, Any]:
    """The meeting as Graph's event resource in JSON (learn.microsoft.com/graph/api/resources/
    event), what the SDK's ``Event`` serialises to, less its ``@odata.type`` annotations.

    Why not the SDK's ``Event``: its models are backed models, each field set through an
    ``InMemoryBackingStore``, so building one meeting with its attendees (some 20 models)
    cost about 1 ms of CPU and serialising it another 0.3 ms in msgraph-sdk 1.65, a third of
    a request's CPU in tests/bench/graph_throughput.py. The wire names are Graph's; the enum
    values come from the SDK's own enums.
    """
    content = event.body_html
    if event.online_url and event.online_url not in content:
        link = html.escape(event.online_url)
        content += f'<p><a href="{link}">{link}</a></p>'
    organizer = event.organizer.email.lower()
    place = event.location or event.online_url
    body: dict[str, Any] = {
        "subject": event.subject,
        "body": {"contentType": BodyType.Html.value, "content": content},
        "start": _wall(event.start),
        "end": _wall(event.end),
        "attendees": [{"type": AttendeeType.Required.value, "emailAddress": _address(p)}
                      for p in event.attendees if p.email.lower() != organizer],
        "isReminderOn": True,
        "reminderMinutesBeforeStart": event.reminder_minutes,
    }
    if place:  # as the SDK did: no location key at all rather than a null one
        body["location"] = {"displayName": place}
    return body


def _address(person: Person) -> dict[str, str]:
    """Graph's emailAddress; no name key for a nameless person, as the SDK wrote it."""
    return {"address": person.email, "name": person.name} if person.name else {
        "address": person.email}


def _url(builder: BaseRequestBuilder) -> str:
    """The request builder's URL, expanded by kiota's own URI template code (RFC 6570; the
    mailbox percent-encoded) once per mailbox and path. Set on a RequestInformation it is
    used as is: left as a template, kiota expands it each time it reads ``url``, three times
    a request, at about 0.1 ms of CPU each."""
    return _expand(builder.url_template, builder.request_adapter.base_url,
                   *sorted(builder.path_parameters.items()))


@functools.lru_cache(maxsize=4096)
def _expand(template: str, base_url: str, *parameters: tuple[str, Any]) -> str:
    info = RequestInformation(Method.GET, template, dict(parameters))
    info.path_parameters["baseurl"] = base_url
    return info.url


def _json_request(method: Method, builder: BaseRequestBuilder, body: dict[str, Any],
                  config: RequestConfiguration[Any]) -> RequestInformation:
    """What the builder's ``to_post/patch_request_information`` makes, with our JSON body:
    the same URL, the Accept and Content-Type headers, and ``config``'s headers and
    options (the retry policy, Prefer), all sent through the SDK's request adapter."""
    info = RequestInformation(method, builder.url_template)
    info.url = _url(builder)
    info.configure(config)
    info.headers.try_add("Accept", "application/json")
    info.headers.try_add(RequestInformation.CONTENT_TYPE_HEADER, "application/json")
    info.content = json.dumps(body).encode("ascii")  # \u escapes, as kiota's writer does
    return info


class _Answer(Parsable):
    """A JSON answer we only read: no serialisation, and fields not named are dropped."""

    def __init__(self) -> None:
        self.additional_data: dict[str, Any] = {}

    def serialize(self, writer: SerializationWriter) -> None:
        raise NotImplementedError("an answer only")


class _EventIds(_Answer):
    """The two fields of Graph's event answer that the outbox keeps.

    Why not the SDK's ``Event``: in msgraph-sdk 1.65 every deserialised ``Event`` runs
    ``Entity.get_field_deserializers``, which re-imports the whole model tree and costs about
    10 ms of CPU per answer (measured with cProfile in tests/bench/graph_throughput.py);
    under the GIL that alone capped a process near 60 events/s. The request (its JSON body
    from ``_event``) is still authenticated, sent through kiota's middleware, retried and
    its errors mapped by the SDK, and this answer read by kiota's JSON parse node.
    """

    def __init__(self) -> None:
        super().__init__()
        self.id: str | None = None
        self.i_cal_u_id: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _EventIds:
        return _EventIds()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"id": lambda n: setattr(self, "id", n.get_str_value()),
                "iCalUId": lambda n: setattr(self, "i_cal_u_id", n.get_str_value())}


async def _send(client: GraphServiceClient, info: RequestInformation) -> _EventIds | None:
    error_mapping: dict[str, type[ParsableFactory[Any]]] = {"XXX": ODataError}  # as generated
    return await client.request_adapter.send_async(info, _EventIds, error_mapping)


def _attendees_config() -> RequestConfiguration[Any]:
    """GET an event's attendees only, with the Prefer headers of every other call."""
    config = _config()
    config.query_parameters = EventItemRequestBuilder.EventItemRequestBuilderGetQueryParameters(
        select=["attendees"])
    return config


def _pack(pending: list[str], mailboxes: dict[str, str], per_mailbox: int) -> list[list[str]]:
    """Event ids into batches of at most ``MAX_BATCH``, with at most ``per_mailbox`` of one
    mailbox in a batch, first fit, in the order given."""
    batches: list[tuple[list[str], Counter[str]]] = []
    for remote_id in pending:
        mailbox = mailboxes[remote_id].lower()
        for batch, counts in batches:
            if len(batch) < MAX_BATCH and counts[mailbox] < per_mailbox:
                break
        else:
            batch, counts = [], Counter()
            batches.append((batch, counts))
        batch.append(remote_id)
        counts[mailbox] += 1
    return [batch for batch, _ in batches]


class _Again(NamedTuple):
    """An inner answer to ask again: its Retry-After (None if it gave none) and the words
    to fail it with if it never gets through."""

    retry_after: float | None
    why: str


def _answers(body: _InnerBody | None) -> dict[str, str]:
    """Attendee address -> answer, in our words (RESPONSES), as ``responses`` gives them."""
    answers: dict[str, str] = {}
    for attendee in body.attendees if body is not None else []:
        if attendee.address:
            answers[attendee.address.lower()] = RESPONSES.get(attendee.response or "none",
                                                              "none")
    return answers


def _text(node: ParseNode, *path: str) -> str | None:
    """The string at ``path`` below ``node``, None where any step is missing."""
    for name in path:
        child = node.get_child_node(name)
        if child is None:
            return None
        node = child
    return node.get_str_value()


class _BatchAnswer(_Answer):
    """Graph's JSON batch response: ``{"responses": [{"id", "status", "headers", "body"}]}``
    (learn.microsoft.com/graph/json-batching), in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[_InnerAnswer] = []

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _BatchAnswer:
        return _BatchAnswer()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"responses": lambda n: setattr(
            self, "responses", n.get_collection_of_object_values(_InnerAnswer) or [])}


class _InnerAnswer(_Answer):
    def __init__(self) -> None:
        super().__init__()
        self.id: str | None = None
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body: _InnerBody | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _InnerAnswer:
        return _InnerAnswer()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"id": lambda n: setattr(self, "id", n.get_str_value()),
                "status": lambda n: setattr(self, "status", n.get_int_value()),
                "headers": lambda n: setattr(self, "headers", {
                    k: str(v) for k, v in n.get_object_value(_Headers).additional_data.items()}),
                "body": lambda n: setattr(self, "body", n.get_object_value(_InnerBody))}

    def error_text(self) -> str:
        """Graph's error code and message, as ``_graph_error`` gives them."""
        error = self.body.error if self.body is not None else ("", "")
        return f"{error[0]}: {error[1]}".strip(": ") or "no error body"


class _Headers(_Answer):
    """An inner answer's headers: a JSON object of names and values, all kept."""

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _Headers:
        return _Headers()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {}


class _InnerBody(_Answer):
    """An inner answer's body: an event's attendees, or Graph's error object."""

    def __init__(self) -> None:
        super().__init__()
        self.attendees: list[_AttendeeAnswer] = []
        self.error: tuple[str, str] = ("", "")

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _InnerBody:
        return _InnerBody()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"attendees": lambda n: setattr(
                    self, "attendees", n.get_collection_of_object_values(_AttendeeAnswer) or []),
                "error": lambda n: setattr(self, "error", (_text(n, "code") or "",
                                                           _text(n, "message") or ""))}


class _AttendeeAnswer(_Answer):
    def __init__(self) -> None:
        super().__init__()
        self.address: str | None = None
        self.response: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _AttendeeAnswer:
        return _AttendeeAnswer()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"emailAddress": lambda n: setattr(self, "address", _text(n, "address")),
                "status": lambda n: setattr(self, "response", _text(n, "response"))}


def _receipt(event: _EventIds | None, remote_id: str = "") -> EventReceipt:
    if event is None or not (event.id or remote_id):
        raise DeliveryRejected("graph: the server answered without an event")
    return EventReceipt(event.id or remote_id, ical_uid=event.i_cal_u_id or "")


def _message(message: EmailMessage, key: str) -> Message:
    """The Graph message for a plain EmailMessage: subject, HTML body (or text), To, the
    attachments, and our X- headers (Graph accepts only custom x- headers, so no
    Auto-Submitted; Exchange makes its own Message-ID, ours travels as a header)."""
    part = message.get_body(preferencelist=("html", "plain"))
    is_html = part is not None and part.get_content_subtype() == "html"
    text = part.get_content() if isinstance(part, EmailMessage) else ""
    headers = [InternetMessageHeader(name=name, value=str(message[header]))
               for name, header in (("X-Yhdyspinta-Message-Id", "Message-ID"),
                                    ("X-Yhdyspinta-Meeting", "X-Yhdyspinta-Meeting"),
                                    ("X-Yhdyspinta-Action", "X-Yhdyspinta-Action"))
               if message[header]]
    attachments: list[Attachment] = []
    for item in message.iter_attachments():
        payload = item.get_payload(decode=True)
        if isinstance(payload, bytes):  # the SDK base64-encodes contentBytes
            attachments.append(FileAttachment(
                name=item.get_filename() or "liite", content_type=item.get_content_type(),
                content_bytes=payload))
    return Message(
        subject=str(message["Subject"] or ""),
        body=ItemBody(content_type=BodyType.Html if is_html else BodyType.Text, content=text),
        to_recipients=[Recipient(email_address=EmailAddress(address=a.addr_spec,
                                                            name=a.display_name or None))
                       for a in message["To"].addresses],
        internet_message_headers=headers or None,
        attachments=attachments or None,
        single_value_extended_properties=[SingleValueLegacyExtendedProperty(id=KEY_PROPERTY,
                                                                            value=key)],
    )


def _graph_error(exc: APIError) -> str:
    """Graph's error code and message (ODataError), never the response headers."""
    if isinstance(exc, ODataError) and exc.error is not None:
        return f"{exc.error.code or ''}: {exc.error.message or ''}".strip(": ")
    return exc.__class__.__name__


def _retry_after(headers: dict[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


__all__ = ["GraphMailer", "TokenFileCredential", "transaction_id"]
