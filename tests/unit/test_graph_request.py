"""The ``graph`` backend builds its event requests without the SDK's ``Event`` model (its
backing store cost a third of a request's CPU, tests/bench/graph_throughput.py). These tests
hold that shortcut to what msgraph-sdk itself makes for the same meeting: the URL, the
headers and request options, and the JSON body, annotations aside. No network: the SDK's
request builders only build.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.models.attendee import Attendee
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.location import Location
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

from scheduler.delivery.graph.wire import event_json as _event
from scheduler.delivery.graph.wire import json_request as _json_request
from scheduler.delivery.graph.wire import request_config as _config
from scheduler.delivery.graph.wire import transaction_id
from scheduler.delivery.ports import CalendarEvent, Person

HELSINKI = ZoneInfo("Europe/Helsinki")
BASE = "https://graph.microsoft.com/v1.0"


@pytest.fixture
def client() -> GraphServiceClient:
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider())
    adapter.base_url = BASE
    return GraphServiceClient(request_adapter=adapter)


def meeting(**changes: Any) -> CalendarEvent:
    organizer = Person("kokoukset+hallitus@liitto.example", "Liitto")
    values: dict[str, Any] = {
        "uid": "k-1@yhdyspinta", "sequence": 0, "organizer": organizer,
        "attendees": (Person("matti@example.org", "Matti Äö"), Person("nimeton@example.org", ""),
                      Person("KOKOUKSET+hallitus@liitto.example", "Liitto itse")),
        "start": datetime(2027, 2, 17, 9, tzinfo=HELSINKI),
        "end": datetime(2027, 2, 17, 11, tzinfo=HELSINKI),
        "subject": "Hallitus – kokous", "body_html": "<p>Esityslista</p>",
        "location": None, "online_url": "https://meet.example/h?a=1&b=2",
        "reminder_minutes": 15}
    values.update(changes)
    return CalendarEvent(**values)


def sdk_wall(moment: datetime) -> DateTimeTimeZone:
    local = moment.astimezone(HELSINKI)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():  # autumn's hour
        return DateTimeTimeZone(date_time=f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}",
                                time_zone="UTC")
    return DateTimeTimeZone(date_time=f"{local:%Y-%m-%dT%H:%M:%S}", time_zone="FLE Standard Time")


def sdk_event(event: CalendarEvent, body: dict[str, Any]) -> Event:
    """The same meeting through the SDK's models, the way the backend built it before;
    only the two fields create_event adds are taken from ``body``."""
    place = event.location or event.online_url
    content = event.body_html
    if event.online_url:
        link = html.escape(event.online_url)
        content += f'<p><a href="{link}">{link}</a></p>'
    return Event(
        subject=event.subject,
        body=ItemBody(content_type=BodyType.Html, content=content),
        start=sdk_wall(event.start),
        end=sdk_wall(event.end),
        location=Location(display_name=place) if place else None,
        attendees=[Attendee(type=AttendeeType.Required,
                            email_address=EmailAddress(address=p.email, name=p.name or None))
                   for p in event.attendees
                   if p.email.lower() != event.organizer.email.lower()],
        is_reminder_on=True, reminder_minutes_before_start=event.reminder_minutes,
        transaction_id=body.get("transactionId"), is_online_meeting=body.get("isOnlineMeeting"))


def plain(value: Any) -> Any:
    """JSON without OData annotations (``@odata.type``), which Graph does not need."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("@")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def same_request(client: GraphServiceClient, ours: RequestInformation,
                 theirs: RequestInformation) -> None:
    for info in (ours, theirs):  # what the adapter does before it sends either
        info.path_parameters["baseurl"] = client.request_adapter.base_url
    assert ours.http_method == theirs.http_method
    assert ours.url == theirs.url
    assert ours.request_headers == theirs.request_headers
    assert ours.request_options == theirs.request_options
    assert ours.content is not None and theirs.content is not None
    assert json.loads(ours.content) == plain(json.loads(theirs.content))


@pytest.mark.parametrize("changes", [
    {},
    {"location": "Jyväskylä, valtuustosali", "online_url": None},
    # the second 03:30 of the autumn change goes as UTC
    {"start": datetime(2027, 10, 31, 3, 30, fold=1, tzinfo=HELSINKI),
     "end": datetime(2027, 10, 31, 5, tzinfo=HELSINKI)},
])
def test_a_new_event_is_the_request_the_sdk_makes(client: GraphServiceClient,
                                                   changes: dict[str, Any]) -> None:
    event = meeting(**changes)
    body = _event(event)
    body["transactionId"] = transaction_id("k|invite|0")
    body["isOnlineMeeting"] = False
    retry = RetryHandlerOption(delay=1, max_retries=5)
    events = client.users.by_user_id(event.organizer.email).events
    ours = _json_request(Method.POST, events, body, _config(retry))
    same_request(client, ours, events.to_post_request_information(sdk_event(event, body), _config(retry)))
    assert "/users/kokoukset%2Bhallitus%40liitto.example/events" in ours.url
    # the organiser is not invited to their own meeting; a nameless attendee has no name
    assert [a["emailAddress"] for a in body["attendees"]] == [
        {"address": "matti@example.org", "name": "Matti Äö"}, {"address": "nimeton@example.org"}]


def test_an_update_is_the_patch_the_sdk_makes(client: GraphServiceClient) -> None:
    event = meeting(location="Sali 2")
    body = _event(event)
    item = client.users.by_user_id(event.organizer.email).events.by_event_id("AAMk/x+y=")
    config: RequestConfiguration[Any] = _config(RetryHandlerOption())
    ours = _json_request(Method.PATCH, item, body, config)
    same_request(client, ours, item.to_patch_request_information(sdk_event(event, body), config))
    assert "transactionId" not in json.loads(ours.content or b"")


def test_naive_times_are_refused_in_our_words() -> None:
    with pytest.raises(ValueError, match="must be aware"):
        _event(meeting(start=datetime(2027, 2, 17, 9)))  # noqa: DTZ001 - naive on purpose
