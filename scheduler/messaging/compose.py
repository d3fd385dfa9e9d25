"""Messages for the outbox rows: the template context in the recipient's language, the
iTIP calendar part, the alert to the coordinator, and the calendar item an event backend
creates. No I/O but reading templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.catalogue.contacts import Contacts, Recipient, is_valid_address
from scheduler.catalogue.model import Body, Catalogue
from scheduler.delivery.ports import CalendarEvent, DeliveryRejected, Person
from scheduler.outbox.records import Alert, OutboxRow
from scheduler.planning.actions import action_chain, due_times
from scheduler.planning.records import Kind, MeetingRecord
from scheduler.planning.workdays import WorkCalendar

from . import invites
from .audience import Audience
from .mail import Templates, build_email
from .render import Renderer
from .texts import format_date

_MODES = {
    "remote": {"fi": "etäkokous", "sv": "distansmöte", "en": "remote meeting"},
    "in-person": {"fi": "lähikokous", "sv": "närmöte", "en": "in-person meeting"},
    "hybrid": {"fi": "hybridikokous", "sv": "hybridmöte", "en": "hybrid meeting"},
}


@dataclass(frozen=True)
class Composer:
    catalogue: Catalogue
    contacts: Contacts
    templates: Templates
    calendar: WorkCalendar
    tz: ZoneInfo
    tzid: str
    uid_domain: str
    audience: Audience

    def event(self, record: MeetingRecord, body: Body, organizer: Recipient) -> CalendarEvent:
        """The meeting as a calendar item for an event backend (Graph, EWS)."""
        language = organizer.language
        attendees = self.audience.attendees(record)
        context = self._context(record, body, organizer, organizer, Kind.INVITE)
        return CalendarEvent(
            uid=record.uid, sequence=record.sequence,
            organizer=Person(organizer.email, organizer.name),
            attendees=tuple(Person(a.email, a.name) for a in attendees),
            start=record.start, end=record.end, subject=self.title(record, language),
            body_html=self.templates.render("invite", language, context).html,
            location=body.shape.location.get(language) if body.shape.location else None,
            online_url=body.shape.online_url,
        )

    def message(self, row: OutboxRow, record: MeetingRecord, now: datetime,
                reply_by: date | None = None) -> EmailMessage:
        """The e-mail for one outbox row about a meeting; ``reply_by`` for an agenda-item
        request whose usual date has passed (the due policy's)."""
        recipient = self.audience.recipient(row.recipient)
        body = self.catalogue.bodies[record.body]
        sender = self.audience.organizer(body) or self.contacts.coordinator
        if not is_valid_address(sender.email):
            raise DeliveryRejected(f"invalid sender address {sender.email!r} (the convener's mailbox)")
        context = self._context(record, body, recipient, sender, row.kind, reply_by)
        rendered = self.templates.render(row.kind, recipient.language, context)
        calendar, method = None, None
        if row.kind.is_calendar:
            calendar, method = self._calendar(record, body, sender, recipient, row.kind, now)
        return build_email(sender=sender, recipient=recipient, rendered=rendered, key=row.key,
                           domain=self.uid_domain, date=now, calendar=calendar, method=method)

    def alert(self, row: OutboxRow, alert: Alert, now: datetime) -> EmailMessage:
        """The coordinator's message about a problem of the plan."""
        recipient = self.audience.recipient(row.recipient)
        language = recipient.language
        body = self.catalogue.bodies.get(alert.body)
        text = alert.messages.get(language) or alert.messages.get("fi") or alert.problem
        context = self._blank_context(recipient, self.contacts.coordinator)
        context.update(body={"id": alert.body, "name": body.name.get(language) if body else alert.body},
                       problem=text)
        rendered = self.templates.render("alert", recipient.language, context)
        return build_email(sender=self.contacts.coordinator, recipient=recipient, rendered=rendered,
                           key=row.key, domain=self.uid_domain, date=now)

    def _calendar(self, record: MeetingRecord, body: Body, sender: Recipient, recipient: Recipient,
                  kind: Kind, now: datetime) -> tuple[bytes, str]:
        language = recipient.language
        invitation = invites.Invitation(
            uid=record.uid, sequence=record.sequence, start=record.start, end=record.end,
            summary=self.title(record, language),
            description=self._description(record, body, language),
            location=body.shape.location.get(language) if body.shape.location else None,
            url=body.shape.online_url,
        )
        if kind is Kind.CANCEL:
            whole = record.cancelled
            attendees = self.audience.attendees(record) if whole else [recipient]
            return invites.cancel(invitation, sender, attendees or [recipient], now, self.tzid,
                                  whole_meeting=whole), "CANCEL"
        return invites.request(invitation, sender, self.audience.attendees(record), now, self.tzid), "REQUEST"

    def title(self, record: MeetingRecord, language: str) -> str:
        body = self.catalogue.bodies[record.body]
        title = f"{body.name.get(language)} {record.start.year}"
        member = self.catalogue.member_of(record.group) if record.group else None
        return f"{title}, {member.name.get(language)}" if member else title

    def _description(self, record: MeetingRecord, body: Body, language: str) -> str:
        names = Renderer(self.catalogue, language).name
        conveners = ", ".join(names(c) for c in body.convener_ids)
        return f"{self.title(record, language)}\n{conveners}"

    def _context(self, record: MeetingRecord, body: Body, recipient: Recipient, sender: Recipient,
                 kind: Kind, reply_by: date | None = None) -> dict[str, Any]:
        language = recipient.language
        names = Renderer(self.catalogue, language).name
        chain = due_times(action_chain(record.start, body.lead_times, self.calendar, self.tz))
        context = self._blank_context(recipient, sender)
        start, end = record.start.astimezone(self.tz), record.end.astimezone(self.tz)
        context.update(
            body={"id": body.id, "name": body.name.get(language)},
            meeting={
                "uid": record.uid, "title": self.title(record, language),
                "date": format_date(start.date(), language),
                "start_time": _clock(start, language), "end_time": _clock(end, language),
                "mode": _MODES[body.shape.mode][language],
                "location": body.shape.location.get(language) if body.shape.location else None,
                "online_url": body.shape.online_url, "sequence": record.sequence,
            },
            conveners=[names(c) for c in body.convener_ids],
            organisations=[names(o) for o in self.catalogue.participants(body, record.group)],
            action={"kind": str(kind), **self._dates(kind, chain, language, reply_by)},
            reason=record.reason if record.cancelled else None,
            previous=self._previous(record, language) if kind is Kind.UPDATE else None,
        )
        return context

    def _dates(self, kind: Kind, chain: Mapping[Kind, datetime], language: str,
               reply_by: date | None) -> dict[str, Any]:
        def fmt(moment: datetime | date | None) -> str | None:
            if moment is None:
                return None
            return format_date(moment.date() if isinstance(moment, datetime) else moment, language)

        usual: dict[Kind, datetime | None] = {
            Kind.REQUEST_ITEMS: chain.get(Kind.INVITE),
            Kind.AGENDA: chain.get(Kind.AGENDA),
            Kind.MINUTES: chain[Kind.MINUTES] + timedelta(days=7) if Kind.MINUTES in chain else None,
        }
        return {"reply_by": fmt(reply_by or usual.get(kind)),
                "next_step_date": fmt(chain.get(Kind.REQUEST_ITEMS)),
                "invite_date": fmt(chain.get(Kind.INVITE))}

    def _previous(self, record: MeetingRecord, language: str) -> dict[str, str] | None:
        if record.previous is None:
            return None
        before = record.previous.astimezone(self.tz)
        return {"date": format_date(before.date(), language), "start_time": _clock(before, language)}

    def _sender_name(self, sender: Recipient, language: str) -> str:
        """An organisation's mailbox signs with the organisation's name in the reader's language."""
        org = self.catalogue.organisations.get(sender.organisation or "")
        return org.name.get(language) if org and not sender.person else sender.name

    def _blank_context(self, recipient: Recipient, sender: Recipient) -> dict[str, Any]:
        coordinator = self.contacts.coordinator
        return {
            # Greet people by name; a shared mailbox is "Hyvä vastaanottaja", not "Hyvä Laukaan kunta".
            "recipient": {"name": recipient.name if recipient.person else "",
                          "email": recipient.email, "language": recipient.language},
            "sender": {"name": self._sender_name(sender, recipient.language), "email": sender.email},
            "coordinator": {"name": coordinator.name, "email": coordinator.email},
            "body": {"id": "", "name": ""},
            "meeting": {"uid": "", "title": "", "date": "", "start_time": "", "end_time": "",
                        "mode": "", "location": None, "online_url": None, "sequence": 0},
            "conveners": [], "organisations": [],
            "action": {"kind": "alert", "reply_by": None, "next_step_date": None, "invite_date": None},
            "previous": None, "reason": None, "problem": None,
        }


def _clock(moment: datetime, language: str) -> str:
    return f"{moment:%H:%M}" if language == "en" else f"{moment:%H.%M}"

