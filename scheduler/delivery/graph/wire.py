"""What goes on Graph's wire for one call: the JSON of an event, the sendMail message, the
request itself (URL, headers, options) as the SDK's request builders would make it, and the
few answer fields we read.

The request is still authenticated, sent through kiota's middleware, retried and its errors
mapped by the SDK; only the models are ours where the SDK's cost too much CPU (measured in
tests/bench/graph_throughput.py, held to the SDK's output by tests/unit/test_graph_request.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

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
from msgraph.generated.models.attachment import Attachment
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.single_value_legacy_extended_property import (
    SingleValueLegacyExtendedProperty,
)
from msgraph.generated.users.item.events.item.event_item_request_builder import (
    EventItemRequestBuilder,
)
from msgraph.graph_service_client import GraphServiceClient

from scheduler.delivery.exchange import OUTBOX_KEY_NAME, OUTBOX_KEY_SET, online_body, recipients
from scheduler.delivery.ports import CalendarEvent, DeliveryRejected, EventReceipt, Person

HELSINKI = ZoneInfo("Europe/Helsinki")
# Graph's dateTimeTimeZone takes Windows zone names; its short IANA list has Europe/Kiev but
# not Europe/Helsinki (tech.md 4, learn.microsoft.com/graph/api/resources/datetimetimezone).
# "FLE Standard Time" (Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius) follows the same
# EU rules as Europe/Helsinki.
WINDOWS_ZONE = "FLE Standard Time"
# Returned times in our zone, and ids that survive the move to Deleted Items on cancel
# (tech.md 4: "id changes when an item moves folders").
PREFER = ('outlook.timezone="FLE Standard Time"', 'IdType="ImmutableId"')
# Our outbox key on every sent message (exchange.OUTBOX_KEY_NAME), as Graph names an
# extended property, so a retry can find what an uncertain sendMail did.
KEY_PROPERTY = f"String {{{OUTBOX_KEY_SET}}} Name {OUTBOX_KEY_NAME}"
RESPONSES = {"accepted": "accepted", "tentativelyAccepted": "tentativelyAccepted",
             "declined": "declined"}  # none, notResponded, organizer -> "none"


def transaction_id(key: str) -> str:
    """The event's ``transactionId``: the outbox key hashed into UUID form, the same on every
    retry of the same outbox row (Graph keeps the first event of a transactionId)."""
    return str(uuid.UUID(bytes=hashlib.sha256(key.encode("utf-8")).digest()[:16]))


def request_config(*options: RequestOption) -> RequestConfiguration[Any]:
    """A request's configuration: ``options`` (the retry policy) and our Prefer headers."""
    config: RequestConfiguration[Any] = RequestConfiguration(options=list(options))
    for value in PREFER:
        config.headers.add("Prefer", value)
    return config


def event_item(client: GraphServiceClient, mailbox: str, remote_id: str
               ) -> EventItemRequestBuilder:
    return client.users.by_user_id(mailbox).events.by_event_id(remote_id)


def event_json(event: CalendarEvent) -> dict[str, Any]:
    """The meeting as Graph's event resource in JSON (learn.microsoft.com/graph/api/resources/
    event), what the SDK's ``Event`` serialises to, less its ``@odata.type`` annotations.

    Why not the SDK's ``Event``: its models are backed models, each field set through an
    ``InMemoryBackingStore``, so building one meeting with its attendees (some 20 models)
    cost about 1 ms of CPU and serialising it another 0.3 ms in msgraph-sdk 1.65, a third of
    a request's CPU in tests/bench/graph_throughput.py. The wire names are Graph's; the enum
    values come from the SDK's own enums.
    """
    organizer = event.organizer.email.lower()
    place = event.location or event.online_url
    body: dict[str, Any] = {
        "subject": event.subject,
        "body": {"contentType": BodyType.Html.value, "content": online_body(event)},
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


def json_request(method: Method, builder: BaseRequestBuilder, body: dict[str, Any],
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


class Answer(Parsable):
    """A JSON answer we only read: no serialisation, and fields not named are dropped."""

    def __init__(self) -> None:
        self.additional_data: dict[str, Any] = {}

    def serialize(self, writer: SerializationWriter) -> None:
        raise NotImplementedError("an answer only")


class EventIds(Answer):
    """The two fields of Graph's event answer that the outbox keeps.

    Why not the SDK's ``Event``: in msgraph-sdk 1.65 every deserialised ``Event`` runs
    ``Entity.get_field_deserializers``, which re-imports the whole model tree and costs about
    10 ms of CPU per answer (measured with cProfile in tests/bench/graph_throughput.py);
    under the GIL that alone capped a process near 60 events/s. The request (its JSON body
    from ``event_json``) is still authenticated, sent through kiota's middleware, retried
    and its errors mapped by the SDK, and this answer read by kiota's JSON parse node.
    """

    def __init__(self) -> None:
        super().__init__()
        self.id: str | None = None
        self.i_cal_u_id: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> EventIds:
        return EventIds()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"id": lambda n: setattr(self, "id", n.get_str_value()),
                "iCalUId": lambda n: setattr(self, "i_cal_u_id", n.get_str_value())}


async def send_event(client: GraphServiceClient, info: RequestInformation) -> EventIds | None:
    error_mapping: dict[str, type[ParsableFactory[Any]]] = {"XXX": ODataError}  # as generated
    return await client.request_adapter.send_async(info, EventIds, error_mapping)


def receipt(event: EventIds | None, remote_id: str = "") -> EventReceipt:
    if event is None or not (event.id or remote_id):
        raise DeliveryRejected("graph: the server answered without an event")
    return EventReceipt(event.id or remote_id, ical_uid=event.i_cal_u_id or "")


def message_model(message: EmailMessage, key: str) -> Message:
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
        to_recipients=[Recipient(email_address=EmailAddress(address=address, name=name))
                       for address, name in recipients(message)],
        internet_message_headers=headers or None,
        attachments=attachments or None,
        single_value_extended_properties=[SingleValueLegacyExtendedProperty(id=KEY_PROPERTY,
                                                                            value=key)],
    )
