"""Our meetings and messages as exchangelib items, and the attendees' answers read back:
which fields the ews backend sets on a CalendarItem or a Message, and in what form.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from typing import Any

from exchangelib import EWSTimeZone, HTMLBody, Mailbox  # type: ignore[import-untyped]
from exchangelib.properties import Attendee  # type: ignore[import-untyped]

from scheduler.delivery.exchange import online_body, recipients
from scheduler.delivery.ports import CalendarEvent

HELSINKI = "Europe/Helsinki"

# What an update saves: every field ``fill`` sets.
EVENT_FIELDS = ["subject", "body", "start", "end", "location", "required_attendees",
                "reminder_is_set", "reminder_minutes_before_start"]

# What Attendee.ResponseType says -> the words the ports promise (ports.Answers).
_ANSWERS = {"Accept": "accepted", "Decline": "declined", "Tentative": "tentativelyAccepted"}


def fill(item: Any, event: CalendarEvent, existing: dict[str, Any]) -> None:
    """Set the meeting's EVENT_FIELDS on ``item``; ``existing`` are the attendees already on
    it, by lower-case address."""
    zone = EWSTimeZone(HELSINKI)  # the item's time zone: FLE Standard Time on the wire
    item.subject = event.subject
    item.body = HTMLBody(online_body(event))
    item.start = event.start.astimezone(zone)
    item.end = event.end.astimezone(zone)
    item.location = event.location
    item.reminder_is_set = True
    item.reminder_minutes_before_start = event.reminder_minutes
    # Plain strings would be cleaned into response_type="Accept" (tech.md section 3);
    # attendees already on the item keep the answer they gave.
    item.required_attendees = [
        existing.get(p.email.lower()) or Attendee(
            mailbox=Mailbox(email_address=p.email, name=p.name), response_type="Unknown")
        for p in event.attendees]


def answers(item: Any) -> dict[str, str]:
    """Attendee address -> answer in our words, of a calendar item read back."""
    attendees = list(item.required_attendees or []) + list(item.optional_attendees or [])
    return {a.mailbox.email_address: _ANSWERS.get(a.response_type or "", "none")
            for a in attendees}


def message_fields(message: EmailMessage) -> dict[str, Any]:
    """Subject, HTML body and To of a plain message, as exchangelib Message fields. A text
    body is sent as escaped <pre> HTML, so that every message has one body type."""
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    if html_part is not None:
        body = HTMLBody(html_part.get_content())
    else:
        text = "" if text_part is None else text_part.get_content()
        body = HTMLBody(f"<pre>{html.escape(text)}</pre>")
    to = [Mailbox(email_address=address, name=name) for address, name in recipients(message)]
    return {"subject": str(message["Subject"]), "body": body, "to_recipients": to}
