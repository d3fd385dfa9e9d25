"""What the ``graph`` and ``ews`` backends share: both keep the meeting in the convener's
Exchange mailbox and send plain messages from it, so they decide the same things on our side
of the wire, each then in its own API's words. No msgraph or exchangelib here.

* the meeting's HTML body, with its online-meeting link (``online_body``);
* ``send`` carries plain messages only (``refuse_calendar_part``), from their one sender to
  their recipients (``sender``, ``recipients``);
* the outbox key on every sent message, a named property in PS_PUBLIC_STRINGS, by which a
  retry finds what an uncertain send did (``OUTBOX_KEY_SET``, ``OUTBOX_KEY_NAME``);
* free/busy asked in the time windows and groups of mailboxes a server allows (``windows``,
  ``chunks``);
* secrets read from the files the configuration names (``read_secret``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

from .ports import CalendarEvent, DeliveryRejected

T = TypeVar("T")

# Our outbox key on every sent message: a string named property in the PS_PUBLIC_STRINGS set
# ([MS-OXPROPS] 1.3.2). Graph names it in a singleValueExtendedProperty id, EWS in an
# ExtendedFieldURI; both set it on the message and find the copy in Sent Items by it.
OUTBOX_KEY_SET = "00020329-0000-0000-C000-000000000046"  # PS_PUBLIC_STRINGS
OUTBOX_KEY_NAME = "yhdyspinta-outbox-key"


def online_body(event: CalendarEvent) -> str:
    """The meeting's HTML body, with its online-meeting link appended when the body does not
    hold it already: no Teams meeting is made (Graph ``isOnlineMeeting`` false), so the link
    reaches the attendees in the invitation's text."""
    body = event.body_html
    if event.online_url and event.online_url not in body:
        link = html.escape(event.online_url)
        body += f'<p><a href="{link}">{link}</a></p>'
    return body


def refuse_calendar_part(message: EmailMessage, backend: str) -> None:
    """``send`` carries plain messages. A text/calendar part would arrive as a plain mail with
    an .ics (Graph's sendMail JSON has no iMIP part) or become a meeting of its own (EWS),
    and in neither case would the organiser's calendar hold the meeting: meetings go
    through ``create_event``."""
    if any(part.get_content_type() == "text/calendar" for part in message.walk()):
        raise DeliveryRejected(f"{backend}: send() carries plain messages; a text/calendar "
                               "part belongs to create_event")


def sender(message: EmailMessage) -> str:
    """The mailbox a message is sent from (and saved in): its one From address."""
    return str(message["From"].addresses[0].addr_spec)


def recipients(message: EmailMessage) -> list[tuple[str, str | None]]:
    """(address, display name or None) of every To recipient."""
    return [(a.addr_spec, a.display_name or None) for a in message["To"].addresses]


def windows(start: datetime, end: datetime, longest: timedelta, *,
            shortest: timedelta = timedelta(0)) -> list[tuple[datetime, datetime]]:
    """``start``..``end`` in UTC, in as few windows as a server that takes at most ``longest``
    (a whole number of minutes) allows: from ``start`` to the minute, each window
    ``longest`` and the last what is left, made at least ``shortest`` long. In UTC, because
    a limit is in elapsed time: 42 days of wall-clock time in Helsinki from summer into
    winter would be 42 days and an hour."""
    begin = start.astimezone(UTC).replace(second=0, microsecond=0)
    finish = end.astimezone(UTC)
    found: list[tuple[datetime, datetime]] = []
    while begin < finish:
        stop = min(begin + longest, finish)
        found.append((begin, max(stop, begin + shortest)))
        begin = stop
    return found


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in order, in groups of at most ``size`` (mailboxes a request may name)."""
    for first in range(0, len(items), size):
        yield items[first:first + size]


def read_secret(backend: str, path: str, setting: str) -> str:
    """The secret in the file ``setting`` names, stripped. A missing or unreadable file is
    final for every message, and its error names the setting, never the file's content."""
    if not path:
        raise DeliveryRejected(f"{backend}: {setting} is not set")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DeliveryRejected(f"{backend}: cannot read {setting} ({exc.strerror})") from None
