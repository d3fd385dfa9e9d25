"""The ``graph`` backend: meetings as events in the convener's Exchange Online calendar and
plain messages through ``sendMail``, all through Microsoft Graph v1.0 with msgraph-sdk.

This module owns the Graph wire decisions (tech.md section 4) and the delivery semantics on
top of them:

* ``create_event`` POSTs to ``/users/{organizer}/events`` with a ``transactionId`` derived
  from the outbox key, so kiota's automatic retries of a POST on 429/503/504 (tech.md 0.3)
  and our own later retries after a timeout return the same event instead of a second one.
* ``update_event`` PATCHes the whole meeting state (idempotent), ``cancel_event`` POSTs
  ``/cancel`` with a comment, ``responses`` reads the attendees' ``status.response``.
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
import hashlib
import html
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from azure.core.credentials import AccessToken
from azure.core.exceptions import AzureError, ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
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
from msgraph.generated.models.attendee import Attendee
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.location import Location
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
    CancelPostRequestBody,
)
from msgraph.generated.users.item.events.item.event_item_request_builder import (
    EventItemRequestBuilder,
)
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

# msgraph_core ships no py.typed; only these two names are used from it.
from msgraph_core import GraphClientFactory  # type: ignore[import-untyped]
from msgraph_core.authentication import (  # type: ignore[import-untyped]
    AzureIdentityAuthenticationProvider,
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
# One connection pool per mailbox, as large as its slots: httpcore scans every pooled
# connection on each request, so one shared HTTP/1.1 pool of 80 connections (20 mailboxes x 4)
# cost ~3 ms of CPU a request in tests/bench/graph_throughput.py. Over HTTP/2 (Graph itself)
# each mailbox then uses one multiplexed connection.
RESPONSES = {"accepted": "accepted", "tentativelyAccepted": "tentativelyAccepted",
             "declined": "declined"}  # none, notResponded, organizer -> "none"


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

    def send(self, message: EmailMessage, key: str) -> Receipt:
        sender = message["From"].addresses[0].addr_spec
        if any(part.get_content_type() == "text/calendar" for part in message.walk()):
            # sendMail's JSON has no iMIP part; an invitation through here would arrive as
            # a plain mail with an .ics and no meeting in the organiser's calendar.
            raise DeliveryRejected("graph: meeting requests go through create_event, "
                                   "not sendMail")
        body = SendMailPostRequestBody(message=_message(message), save_to_sent_items=True)

        async def call(client: GraphServiceClient) -> None:
            # No kiota retries here (tech.md 0.3): a retried sendMail after a 503/504 can be
            # a duplicate. Only 429 is safe to repeat, and _send_mail does that itself.
            await client.users.by_user_id(sender).send_mail.post(
                body, request_configuration=_config(RetryHandlerOption(should_retry=False)))

        self._run(sender, "sendMail", key, self._throttled(call), idempotent=False)
        return Receipt(str(message["Message-ID"]))

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        mailbox = event.organizer.email
        body = _event(event)
        body.transaction_id = transaction_id(key)
        body.is_online_meeting = False  # no Teams meeting: the link, if any, is in the body

        async def call(client: GraphServiceClient) -> EventReceipt:
            events = client.users.by_user_id(mailbox).events
            info = events.to_post_request_information(body, self._config())
            return _receipt(await _send(client, info))

        return self._run(mailbox, "create event", key, call, idempotent=True)

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        mailbox = event.organizer.email
        body = _event(event)  # the whole state each time: a retried PATCH changes nothing

        async def call(client: GraphServiceClient) -> EventReceipt:
            item = self._item(client, mailbox, remote_id)
            info = item.to_patch_request_information(body, self._config())
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
                                          authority=self.authority_host)
        if self._certificate_file:
            return CertificateCredential(self.tenant_id, self.client_id,
                                         certificate_path=self._certificate_file,
                                         authority=self.authority_host)
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
                return DeliveryRejected(f"uncertain: {text}; the server may have sent it, "
                                        "so it is not retried (sendMail has no idempotency key)")
            return DeliveryRejected(text)
        if isinstance(exc, httpx.TransportError):
            kind = exc.__class__.__name__
            # Connect errors and pool waits never put the request on the wire.
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout
                                  | httpx.PoolTimeout)
            if sent and not idempotent:
                return DeliveryRejected(f"uncertain: {where}: {kind} after the request was "
                                        "sent; not retried (sendMail has no idempotency key)")
            return DeliveryUnavailable(f"{where}: {kind}")
        if isinstance(exc, AzureError):  # the token endpoint unreachable, a transport error
            return DeliveryUnavailable(f"{where}: {exc.__class__.__name__} while signing in")
        return DeliveryRejected(f"{where}: {exc.__class__.__name__}")


def _config(*options: RequestOption) -> RequestConfiguration[Any]:
    config: RequestConfiguration[Any] = RequestConfiguration(options=list(options))
    for value in PREFER:
        config.headers.add("Prefer", value)
    return config


def _scope_host(host: str) -> str:
    # A local test server still asks for Graph's scope; the fake credential ignores it.
    return "graph.microsoft.com" if host in {"127.0.0.1", "localhost", "::1"} else host


def _wall(moment: datetime) -> DateTimeTimeZone:
    """Helsinki wall time under the Windows zone name; UTC for the one ambiguous hour of
    the autumn change, which a wall time alone cannot say."""
    if moment.tzinfo is None:
        raise ValueError("CalendarEvent times must be aware")
    local = moment.astimezone(HELSINKI)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        utc = moment.astimezone(ZoneInfo("UTC"))
        return DateTimeTimeZone(date_time=utc.strftime("%Y-%m-%dT%H:%M:%S"), time_zone="UTC")
    return DateTimeTimeZone(date_time=local.strftime("%Y-%m-%dT%H:%M:%S"),
                            time_zone=WINDOWS_ZONE)


def _event(event: CalendarEvent) -> Event:
    content = event.body_html
    if event.online_url and event.online_url not in content:
        link = html.escape(event.online_url)
        content += f'<p><a href="{link}">{link}</a></p>'
    organizer = event.organizer.email.lower()
    place = event.location or event.online_url
    return Event(
        subject=event.subject,
        body=ItemBody(content_type=BodyType.Html, content=content),
        start=_wall(event.start),
        end=_wall(event.end),
        location=Location(display_name=place) if place else None,
        attendees=[Attendee(type=AttendeeType.Required,
                            email_address=EmailAddress(address=p.email, name=p.name or None))
                   for p in event.attendees if p.email.lower() != organizer],
        is_reminder_on=True,
        reminder_minutes_before_start=event.reminder_minutes,
    )


class _EventIds(Parsable):
    """The two fields of Graph's event answer that the outbox keeps.

    Why not the SDK's ``Event``: in msgraph-sdk 1.65 every deserialised ``Event`` runs
    ``Entity.get_field_deserializers``, which re-imports the whole model tree and costs about
    10 ms of CPU per answer (measured with cProfile in tests/bench/graph_throughput.py);
    under the GIL that alone capped a process near 60 events/s. The request itself is still
    built, serialised, authenticated, retried and its errors mapped by the SDK.
    """

    def __init__(self) -> None:
        self.id: str | None = None
        self.i_cal_u_id: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _EventIds:
        return _EventIds()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"id": lambda n: setattr(self, "id", n.get_str_value()),
                "iCalUId": lambda n: setattr(self, "i_cal_u_id", n.get_str_value())}

    def serialize(self, writer: SerializationWriter) -> None:
        raise NotImplementedError("an answer only")


async def _send(client: GraphServiceClient, info: RequestInformation) -> _EventIds | None:
    error_mapping: dict[str, type[ParsableFactory[Any]]] = {"XXX": ODataError}  # as generated
    return await client.request_adapter.send_async(info, _EventIds, error_mapping)


def _receipt(event: _EventIds | None, remote_id: str = "") -> EventReceipt:
    if event is None or not (event.id or remote_id):
        raise DeliveryRejected("graph: the server answered without an event")
    return EventReceipt(event.id or remote_id, ical_uid=event.i_cal_u_id or "")


def _message(message: EmailMessage) -> Message:
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
