"""Our iTIP invitations stored in a real CalDAV server and read back intact.

Radicale (3.x, from PyPI) runs in-process in a thread on 127.0.0.1 with a port the OS picks,
with its filesystem storage in a pytest temporary directory and no authentication; the
``caldav`` client library talks to it over HTTP. The calendars are built by our own code
(``scheduler.messaging.invites``), stored byte for byte (``save(raw_data=...)``: no client-side
``vcal.fix()``, no re-serialisation, no SEQUENCE bump) and read back byte for byte with a
GET (``raw_data`` after ``load()``), then parsed with ``icalendar``.

A CalDAV server stores calendar objects, not iTIP messages: RFC 4791 section 4.1 says
calendar object resources MUST NOT carry METHOD. Radicale 3.9 accepts a body with
``METHOD:REQUEST`` and keeps it as it is, but the stored object would then be malformed
for other clients and stricter servers, so ``_calendar_object`` removes the METHOD line
before the PUT. It does that on the bytes, not by parsing and re-serialising with
``icalendar``, so everything else the server receives is exactly what our code produced.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import count
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from zoneinfo import ZoneInfo

import pytest
import radicale.config
from caldav.calendarobjectresource import Event as DavEvent
from caldav.collection import Calendar as DavCalendar
from caldav.davclient import DAVClient
from icalendar import Calendar, Timezone
from radicale.app import Application

from scheduler.catalogue.contacts import Recipient
from scheduler.messaging.invites import Invitation, cancel, request

TZID = "Europe/Helsinki"
HEL = ZoneInfo(TZID)
STAMP = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
USER = "coordinator"

ORGANIZER = Recipient("koordinaattori@example.org", "Yhdyspintakoordinaattori", "fi", None)
ATTENDEES = (
    Recipient("matti.virtanen@example.org", 'Virtanen, Matti "Masa"', "fi", "jyvaskyla"),
    Recipient("asa.oberg@example.org", "Åsa Öberg", "sv", "vaasa"),
    Recipient("kirjaamo@example.org", "Hyvinvointialue – kirjaamo", "fi", "hva"),
)
DESCRIPTION = (
    "Esityslista: 1) Yhteistyösopimuksen päivitys ja sen käsittely kunnissa ennen kesää; "
    "2) Hyvinvointialueen talousarvio, määräraha 12 500 € (ennen: 11 000 €); "
    "3) Lähetetään ehdotukset Ämmänsaaren ja Öjan toimipisteille.\n"
    "Liitteet toimitetaan erikseen. Tervetuloa!"
)


# --- the server ------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def radicale_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Radicale server in this process: its base URL, stopped and joined at the end."""
    configuration = radicale.config.load()
    configuration.update(
        {
            # delay: Radicale sleeps a second after each 401, and caldav's first request
            # goes without credentials; fsync: a throwaway store needs no durability.
            "auth": {"type": "none", "delay": "0"},
            "rights": {"type": "owner_only"},
            "storage": {"filesystem_folder": str(tmp_path_factory.mktemp("radicale")),
                        "_filesystem_fsync": "False"},
        },
        "test",
        privileged=True,
    )
    server = make_server("127.0.0.1", 0, Application(configuration),
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="radicale", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not thread.is_alive(), "the Radicale thread did not stop"


_calendar_ids = count()


@pytest.fixture
def calendar(radicale_url: str) -> Iterator[DavCalendar]:
    """A fresh, empty calendar collection for each test."""
    with DAVClient(url=radicale_url, username=USER, password="unused") as client:
        made = client.get_principal().make_calendar(name="Yhdyspinta",
                                                    cal_id=f"board-{next(_calendar_ids)}")
        assert isinstance(made, DavCalendar)
        yield made


# --- storing and reading -----------------------------------------------------------------------


def _calendar_object(message: bytes, method: str) -> bytes:
    """The iTIP message as a CalDAV calendar object resource: the same bytes without METHOD."""
    header = message.split(b"\r\nBEGIN:", 1)[0]  # VCALENDAR's own properties
    line = f"\r\nMETHOD:{method}\r\n".encode()
    assert line in header + b"\r\n" and message.count(line) == 1
    return message.replace(line, b"\r\n", 1)


def _store(calendar: DavCalendar, message: bytes, method: str) -> DavEvent:
    """PUT a new calendar object; its URL is made from the UID (caldav's own choice)."""
    event = DavEvent(client=calendar.client, parent=calendar)
    saved = event.save(raw_data=_calendar_object(message, method), increase_seqno=False)
    assert isinstance(saved, DavEvent) and saved.url is not None
    return saved


def _update(calendar: DavCalendar, uid: str, message: bytes, method: str) -> DavEvent:
    """Replace the object holding ``uid``, as a client updating it would (same URL)."""
    found = calendar.get_event_by_uid(uid)
    assert isinstance(found, DavEvent)
    url = found.url
    saved = found.save(raw_data=_calendar_object(message, method), increase_seqno=False)
    assert isinstance(saved, DavEvent) and saved.url == url
    return saved


def _get(resource: DavEvent) -> bytes:
    """The object exactly as a GET returns it."""
    resource.load()
    raw = resource.raw_data
    assert raw is not None
    return raw


def _read(calendar: DavCalendar, uid: str) -> tuple[bytes, Calendar]:
    """Find the object by UID (a REPORT), then GET it: its bytes and its parse."""
    found = calendar.get_event_by_uid(uid)
    assert isinstance(found, DavEvent)
    raw = _get(found)
    return raw, Calendar.from_ical(raw)


def _uids_in_collection(calendar: DavCalendar) -> list[str]:
    """The UID of every VEVENT of every object in the collection (duplicates kept)."""
    objects = calendar.get_events()
    assert isinstance(objects, list)
    uids: list[str] = []
    for resource in objects:
        assert isinstance(resource, DavEvent)
        uids.extend(str(event["UID"]) for event in Calendar.from_ical(_get(resource)).events)
    return uids


def _content_lines(raw: bytes) -> list[str]:
    """Unfolded content lines, split on CRLF only (U+2028 in a value is not a line break)."""
    text = raw.decode("utf-8")
    assert "\r\n" in text
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")


def _count_lines(raw: bytes, name: str) -> int:
    """Content lines that are the property ``name`` or the line ``name`` (``BEGIN:VEVENT``)."""
    pattern = re.compile(rf"{re.escape(name)}(?:[;:]|$)", re.IGNORECASE)
    return sum(1 for line in _content_lines(raw) if pattern.match(line))


def _search_uids(calendar: DavCalendar, start: datetime, end: datetime) -> set[str]:
    found: object = calendar.search(start=start, end=end, event=True, expand=False)
    assert isinstance(found, list)
    return {str(resource.icalendar_component["UID"]) for resource in found}


_PARAMETER = re.compile(r';([A-Za-z0-9-]+)=("[^"]*"|[^";:,]*)')


def _rfc6868(value: str) -> str:
    return re.sub(r"\^([n'^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m[1]], value)


def _address_lines(raw: bytes, name: str) -> list[tuple[str, dict[str, str]]]:
    """Every ``name`` property (ORGANIZER, ATTENDEE) as the server sent it: value, parameters.

    Read strictly by RFC 5545 3.1-3.2 and RFC 6868, not with ``icalendar``: icalendar 7.3
    treats backslashes in parameter values as escapes (``CN="a\\,b"`` reads as ``a,b``),
    which RFC 5545 does not; the stored bytes are right, that reader is not.
    """
    found: list[tuple[str, dict[str, str]]] = []
    for line in _content_lines(raw):
        if not re.match(rf"{name}[;:]", line, re.IGNORECASE):
            continue
        position, parameters = len(name), dict[str, str]()
        while match := _PARAMETER.match(line, position):
            value = match[2]
            parameters[match[1].upper()] = _rfc6868(value[1:-1] if value[:1] == '"' else value)
            position = match.end()
        assert line[position] == ":", line
        found.append((line[position + 1:], parameters))
    return found


def _attendees(raw: bytes) -> list[tuple[str, str, str, str, str]]:
    return sorted((value, p["CN"], p["PARTSTAT"], p["RSVP"], p["ROLE"])
                  for value, p in _address_lines(raw, "ATTENDEE"))


def _organizer(raw: bytes) -> tuple[str, str]:
    [(value, parameters)] = _address_lines(raw, "ORGANIZER")
    return value, parameters["CN"]


def _expected_attendees(people: tuple[Recipient, ...]) -> list[tuple[str, str, str, str, str]]:
    return sorted((f"mailto:{p.email}", p.name, "NEEDS-ACTION", "TRUE", "REQ-PARTICIPANT")
                  for p in people)


def _timezone_rules(component: Any) -> list[tuple[str, datetime, timedelta, timedelta, bytes]]:
    return sorted(
        (part.name, part["DTSTART"].dt, part["TZOFFSETFROM"].td, part["TZOFFSETTO"].td,
         part["RRULE"].to_ical())
        for part in component.subcomponents
    )


def _invitation(uid: str, start: datetime, **changes: Any) -> Invitation:
    values: dict[str, Any] = {
        "uid": uid, "sequence": 0, "start": start, "end": start + timedelta(hours=2),
        "summary": "Yhteistyöryhmän kokous – määrärahat €", "description": DESCRIPTION,
        "location": "Kaupungintalo, valtuustosali; 2. krs \"Ääni\"",
    }
    values.update(changes)
    return Invitation(**values)


def _day(year: int, month: int, day: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, day, tzinfo=HEL)
    return start, start + timedelta(days=1)


# --- 1. a REQUEST stored and read back --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "offset"),
    [
        pytest.param(datetime(2027, 3, 30, 13, tzinfo=HEL), timedelta(hours=3), id="after-dst"),
        pytest.param(datetime(2027, 2, 11, 12, tzinfo=HEL), timedelta(hours=2), id="winter"),
    ],
)
def test_request_is_stored_and_read_back_intact(
    calendar: DavCalendar, start: datetime, offset: timedelta,
) -> None:
    uid = f"yhteistyoryhma-{start:%Y%m%d}@yhdyspinta"
    invitation = _invitation(uid, start, sequence=2)
    message = request(invitation, ORGANIZER, ATTENDEES, STAMP, TZID)
    # The long text must really be folded for the round trip to test folding.
    assert len(DESCRIPTION.encode()) > 200
    assert _count_lines(message, "DESCRIPTION") == 2  # the event's and the alarm's
    assert re.search(rb"\r\nDESCRIPTION:[^\r]*\r\n [^\r]*\r\n ", message)

    _store(calendar, message, "REQUEST")
    raw, stored = _read(calendar, uid)

    assert "METHOD" not in stored
    event: Any
    [event] = stored.events
    assert str(event["UID"]) == uid
    assert event["SEQUENCE"] == 2
    assert event["DTSTAMP"].dt == STAMP
    assert event["STATUS"] == "CONFIRMED"
    for name, expected in (("DTSTART", start), ("DTEND", start + timedelta(hours=2))):
        value = event[name]
        assert value.params["TZID"] == TZID
        assert isinstance(value.dt, datetime) and value.dt.tzinfo is not None
        assert value.dt == expected
        assert value.dt.utcoffset() == offset
        assert value.dt.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert str(event["SUMMARY"]) == invitation.summary
    assert str(event["DESCRIPTION"]) == DESCRIPTION
    assert str(event["LOCATION"]) == invitation.location
    assert _organizer(raw) == (f"mailto:{ORGANIZER.email}", ORGANIZER.name)
    assert _attendees(raw) == _expected_attendees(ATTENDEES)
    assert len(event["ATTENDEE"]) == len(ATTENDEES)

    # The VTIMEZONE comes back with its TZID and the same RRULE-form rules, and those rules
    # (not the TZID looked up in zoneinfo) put the meeting at the right UTC offset.
    [sent_zone] = Calendar.from_ical(message).walk("VTIMEZONE")
    [zone] = stored.walk("VTIMEZONE")
    assert isinstance(zone, Timezone)
    assert str(zone["TZID"]) == TZID
    assert _timezone_rules(zone) == _timezone_rules(sent_zone)
    assert all("RRULE" in part and "RDATE" not in part for part in zone.subcomponents)
    rules: tzinfo = zone.to_tz(lookup_tzid=False)
    assert start.replace(tzinfo=rules).utcoffset() == offset


# --- 2. an update replaces the stored object ---------------------------------------------------


def test_update_with_higher_sequence_replaces_the_event(calendar: DavCalendar) -> None:
    uid = "kuntakokous-2027-1@yhdyspinta"
    first = _invitation(uid, datetime(2027, 3, 30, 13, tzinfo=HEL))
    moved = _invitation(uid, datetime(2027, 4, 6, 9, 30, tzinfo=HEL), sequence=1)
    created = _store(calendar, request(first, ORGANIZER, ATTENDEES, STAMP, TZID), "REQUEST")
    _update(calendar, uid, request(moved, ORGANIZER, ATTENDEES, STAMP + timedelta(days=1), TZID),
            "REQUEST")

    assert _uids_in_collection(calendar) == [uid]
    raw, stored = _read(calendar, uid)
    event: Any
    [event] = stored.events
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == moved.start
    assert event["DTSTART"].dt.utcoffset() == timedelta(hours=3)
    assert event["DTEND"].dt == moved.end
    assert event["DTSTAMP"].dt == STAMP + timedelta(days=1)
    assert raw == _get(created)  # the first URL now holds the update
    assert _count_lines(raw, "BEGIN:VEVENT") == 1
    assert _search_uids(calendar, *_day(2027, 3, 30)) == set()
    assert _search_uids(calendar, *_day(2027, 4, 6)) == {uid}


# --- 3. a CANCEL replaces the stored object ----------------------------------------------------


def test_cancel_marks_the_stored_event_cancelled(calendar: DavCalendar) -> None:
    uid = "kuntakokous-2027-2@yhdyspinta"
    meeting = _invitation(uid, datetime(2027, 3, 30, 13, tzinfo=HEL))
    other = _invitation("toinen@yhdyspinta", datetime(2027, 3, 31, 13, tzinfo=HEL))
    _store(calendar, request(meeting, ORGANIZER, ATTENDEES, STAMP, TZID), "REQUEST")
    _store(calendar, request(other, ORGANIZER, ATTENDEES, STAMP, TZID), "REQUEST")
    cancelled = _invitation(uid, meeting.start, sequence=meeting.sequence + 1)
    _update(calendar, uid, cancel(cancelled, ORGANIZER, ATTENDEES, STAMP + timedelta(days=2), TZID),
            "CANCEL")

    assert sorted(_uids_in_collection(calendar)) == sorted([uid, "toinen@yhdyspinta"])
    raw, stored = _read(calendar, uid)
    assert "METHOD" not in stored
    event: Any
    [event] = stored.events
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1 > meeting.sequence
    assert event["DTSTART"].dt == meeting.start
    assert str(event["SUMMARY"]) == meeting.summary
    assert _attendees(raw) == _expected_attendees(ATTENDEES)
    assert _count_lines(raw, "BEGIN:VEVENT") == 1
    # A time-range REPORT still finds the cancelled meeting on its day, and only there.
    assert _search_uids(calendar, *_day(2027, 3, 30)) == {uid}
    assert _search_uids(calendar, *_day(2027, 3, 31)) == {"toinen@yhdyspinta"}
    assert _search_uids(calendar, *_day(2027, 3, 29)) == set()


# --- 4. injection through text and names -------------------------------------------------------

INJECTIONS = [
    pytest.param("Rivi 1\r\nRivi 2", id="crlf"),
    pytest.param("Rivi 1\nRivi 2", id="lf"),
    pytest.param("Kokous\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@example.org", id="new-vevent"),
    pytest.param("Kokous\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil@example.org\nEND:VEVENT",
                 id="new-vevent-lf"),
    pytest.param("END:VCALENDAR", id="end-vcalendar"),
    pytest.param("Loppu\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR", id="end-vcalendar-crlf"),
    pytest.param("x\r\nATTENDEE;RSVP=TRUE:mailto:evil@example.org", id="new-attendee"),
    pytest.param("x\r\nORGANIZER:mailto:evil@example.org", id="new-organizer"),
    pytest.param("Rivi\u2028toinen\u2029kolmas", id="unicode-line-separators"),
    pytest.param('Virtanen, "Matti" \'Masa\'', id="quotes"),
    pytest.param('"', id="lone-quote"),
    pytest.param("a;b;c:d", id="semicolons"),
    pytest.param("a,b,,c", id="commas"),
    pytest.param("C:\\polku\\n\\,\\;\\\\", id="backslashes"),
    pytest.param("^n ^' ^^", id="rfc6868-lookalikes"),
    pytest.param("Sarkain\tväli", id="tab"),
    pytest.param(
        "Yhteistyö \"ÄÖ\" €\r\nEND:VEVENT\nBEGIN:VEVENT\r\n;,\\\u2028" + "pitkä rivi " * 20,
        id="everything-long",
    ),
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_text_cannot_inject_components_or_properties(calendar: DavCalendar, text: str) -> None:
    uid = "injektio@yhdyspinta"
    invitation = _invitation(uid, datetime(2027, 3, 30, 13, tzinfo=HEL),
                             summary=text, description=text, location=text)
    organizer = Recipient(ORGANIZER.email, text, "fi", None)
    attendees = (Recipient("a@example.org", text, "fi", "x"), ATTENDEES[1])
    _store(calendar, request(invitation, organizer, attendees, STAMP, TZID), "REQUEST")

    assert _uids_in_collection(calendar) == [uid]
    raw, stored = _read(calendar, uid)
    expected = text.replace("\r\n", "\n")
    event: Any
    [event] = stored.events
    assert len(stored.subcomponents) == 2  # the VTIMEZONE and the VEVENT
    assert [c.name for c in event.subcomponents] == ["VALARM"]
    for name in ("BEGIN:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "BEGIN:VALARM", "UID",
                 "ORGANIZER", "SUMMARY", "LOCATION"):
        assert _count_lines(raw, name) == 1, name
    assert _count_lines(raw, "ATTENDEE") == 2
    assert _count_lines(raw, "DESCRIPTION") == 2  # the event's and the alarm's
    assert str(event["UID"]) == uid
    assert str(event["SUMMARY"]) == expected
    assert str(event["DESCRIPTION"]) == expected
    assert str(event["LOCATION"]) == expected
    assert len(event["ATTENDEE"]) == 2 and "ORGANIZER" in event
    assert _organizer(raw) == (f"mailto:{ORGANIZER.email}", expected)
    assert _attendees(raw) == sorted([
        ("mailto:a@example.org", expected, "NEEDS-ACTION", "TRUE", "REQ-PARTICIPANT"),
        *_expected_attendees(ATTENDEES[1:2]),
    ])
    assert str(event.subcomponents[0]["DESCRIPTION"]) == expected

