"""The ``graph`` backend: meetings as events in the convener's Exchange Online calendar and
plain messages through ``sendMail``, all through Microsoft Graph v1.0 with msgraph-sdk.

This package owns the Graph wire decisions (tech.md section 4) and the delivery semantics on
top of them; ``GraphMailer`` here is the ports' face of it:

* ``create_event`` POSTs to ``/users/{organizer}/events`` with a ``transactionId`` derived
  from the outbox key, so kiota's automatic retries of a POST on 429/503/504 (tech.md 0.3)
  and our own later retries after a timeout return the same event instead of a second one.
* ``update_event`` PATCHes the whole meeting state (idempotent), ``cancel_event`` POSTs
  ``/cancel`` with a comment, ``responses`` reads the attendees' ``status.response``;
  ``read_answers`` reads many meetings' in JSON ``$batch`` requests of 20, asking inner
  429/503/504s again itself (kiota retries only the outer request; ``batch``).
* ``send`` POSTs ``/users/{from}/sendMail``. That call has no idempotency key, so only a 429
  (Graph refused before doing anything) is retried; a 5xx or a lost response after the
  request went out is a final "uncertain" rejection rather than a possible duplicate.
* ``free_busy`` reads getSchedule within Graph's limits (``schedule``).
* At most ``max_in_flight`` requests per mailbox are in flight (Outlook's 4 concurrent
  requests per app and mailbox, tech.md section 5); Retry-After is honoured (``session``).
* Credentials come from files (client secret, certificate, or a bearer token) and never
  appear in an exception or a log line; a refused login names the tenant and client only
  (``auth``, ``failures``).

The modules: ``wire`` the JSON bodies and requests, ``session`` the private event loop that
serves all calls of a mailer (so the pipeline's threads call it synchronously and share one
connection pool per mailbox), ``batch`` the $batch reading, ``schedule`` getSchedule, ``auth``
signing in, ``failures`` what a failed call means. What Graph shares with EWS is in
``..exchange``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import ClassVar

from kiota_abstractions.method import Method
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
    CancelPostRequestBody,
)
from msgraph.generated.users.item.messages.messages_request_builder import MessagesRequestBuilder
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph.graph_service_client import GraphServiceClient

from scheduler.delivery import exchange
from scheduler.delivery.ports import (
    AnswerReader,
    Answers,
    CalendarEvent,
    DeliveryError,
    EventKeeper,
    EventReceipt,
    FreeBusyReader,
    MessageSender,
    Person,
    Receipt,
)

from . import batch, schedule
from .auth import TokenCredential, TokenFileCredential, make_credential
from .session import GraphSession
from .wire import (
    KEY_PROPERTY,
    RESPONSES,
    event_item,
    event_json,
    json_request,
    message_model,
    receipt,
    request_config,
    send_event,
    transaction_id,
)

log = logging.getLogger(__name__)


class GraphMailer(MessageSender, EventKeeper, FreeBusyReader, AnswerReader):
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
        self.base_url, self.authority_host = base_url.rstrip("/"), authority_host
        self.timeout, self.max_in_flight = timeout, max_in_flight
        self._session = GraphSession(
            base_url=self.base_url, timeout=timeout, max_in_flight=max_in_flight,
            retry=RetryHandlerOption(delay=retry_delay, max_retries=max_retries),
            who=f"tenant {tenant_id!r}, client {client_id!r}", credential=credential,
            sign_in=functools.partial(
                make_credential, tenant_id=tenant_id, client_id=client_id,
                client_secret_file=client_secret_file, certificate_file=certificate_file,
                token_file=token_file, authority_host=authority_host))

    # -- the ports -------------------------------------------------------------------------

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """sendMail, saved to Sent Items with ``key`` as an extended property. sendMail has
        no idempotency key, so an uncertain answer (5xx, a timeout after the request went)
        is not retried blindly: it is transient, and the next attempt (``again``) first
        looks for the key in the sender's mailbox and sends only if it is not there."""
        sender = exchange.sender(message)
        exchange.refuse_calendar_part(message, "graph")
        receipt = Receipt(str(message["Message-ID"]))
        if again and self._already_sent(sender, key):
            log.info("graph: sendMail for %s: the earlier attempt had gone; not sent again",
                     sender)
            return receipt
        body = SendMailPostRequestBody(message=message_model(message, key),
                                       save_to_sent_items=True)

        async def call(client: GraphServiceClient) -> None:
            # No kiota retries here (tech.md 0.3): a retried sendMail after a 503/504 can be
            # a duplicate. Only 429 is safe to repeat, and throttled() does that itself.
            await client.users.by_user_id(sender).send_mail.post(
                body, request_configuration=request_config(RetryHandlerOption(should_retry=False)))

        self._session.run(sender, "sendMail", key, self._session.throttled(call),
                          idempotent=False)
        return receipt

    def _already_sent(self, sender: str, key: str) -> bool:
        """Whether a message carrying ``key`` is in any folder of ``sender`` (Sent Items,
        or still the Outbox): filtering on a singleValueExtendedProperty is the documented
        way to find our own items by our own id."""
        literal = key.replace("'", "''")  # an OData string literal doubles its quotes
        query = (f"singleValueExtendedProperties/Any(ep: ep/id eq '{KEY_PROPERTY}' "
                 f"and ep/value eq '{literal}')")

        async def call(client: GraphServiceClient) -> bool:
            config = request_config()
            parameters = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters
            config.query_parameters = parameters(filter=query, select=["id"], top=1)
            found = await client.users.by_user_id(sender).messages.get(request_configuration=config)
            return bool(found and found.value)

        return self._session.run(sender, "looking for an earlier sendMail", key, call,
                                 idempotent=True)

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        mailbox = event.organizer.email
        body = event_json(event)
        body["transactionId"] = transaction_id(key)
        body["isOnlineMeeting"] = False  # no Teams meeting: the link, if any, is in the body

        async def call(client: GraphServiceClient) -> EventReceipt:
            events = client.users.by_user_id(mailbox).events
            info = json_request(Method.POST, events, body, self._session.config())
            return receipt(await send_event(client, info))

        return self._session.run(mailbox, "create event", key, call, idempotent=True)

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        mailbox = event.organizer.email
        body = event_json(event)  # the whole state each time: a retried PATCH changes nothing

        async def call(client: GraphServiceClient) -> EventReceipt:
            item = event_item(client, mailbox, remote_id)
            info = json_request(Method.PATCH, item, body, self._session.config())
            return receipt(await send_event(client, info), remote_id)

        return self._session.run(mailbox, "update event", key, call, idempotent=True)

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str, key: str) -> Receipt:
        mailbox = event.organizer.email

        async def call(client: GraphServiceClient) -> Receipt:
            # Organizer-only; sends the cancellation with the comment and moves the event to
            # Deleted Items (learn.microsoft.com/graph/api/event-cancel). 202, no body.
            await event_item(client, mailbox, remote_id).cancel.post(
                CancelPostRequestBody(comment=comment),
                request_configuration=self._session.config())
            return Receipt(remote_id)

        return self._session.run(mailbox, "cancel event", key, call, idempotent=True)

    def responses(self, remote_id: str, organizer: Person) -> dict[str, str]:
        mailbox = organizer.email

        async def call(client: GraphServiceClient) -> dict[str, str]:
            got = await event_item(client, mailbox, remote_id).get(
                request_configuration=self._session.config())
            answers: dict[str, str] = {}
            for attendee in (got.attendees if got else None) or []:
                address = attendee.email_address.address if attendee.email_address else None
                if not address:
                    continue
                response = attendee.status.response if attendee.status else None
                value = str(response.value) if response is not None else "none"
                answers[address.lower()] = RESPONSES.get(value, "none")
            return answers

        return self._session.run(mailbox, "read responses", remote_id, call, idempotent=True)

    def read_answers(self, events: Sequence[tuple[str, Person]]
                     ) -> dict[str, Answers | DeliveryError]:
        """``responses`` for many meetings at once, in JSON ``$batch`` requests
        (``batch.read_answers``)."""
        return batch.read_answers(self._session, events)

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Busy, tentative and out-of-office intervals (aware, UTC) per mailbox, read with
        getSchedule in as many requests as Graph's limits need (``schedule.free_busy``)."""
        return schedule.free_busy(self._session, mailboxes, start, end)

    def close(self) -> None:
        self._session.close()


__all__ = ["KEY_PROPERTY", "GraphMailer", "TokenFileCredential", "transaction_id"]
