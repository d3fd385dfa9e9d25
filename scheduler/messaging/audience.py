"""Who receives what: the convener's mailbox that organises, the attendees of a meeting,
the audience of each action, and the details we hold about an address. Pure lookups over
the catalogue and the contacts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.catalogue.contacts import Contacts, Recipient, is_valid_address
from scheduler.catalogue.model import Body, Catalogue
from scheduler.planning.actions import Action
from scheduler.planning.records import MeetingRecord


@dataclass(frozen=True)
class Audience:
    catalogue: Catalogue
    contacts: Contacts

    def organizer(self, body: Body) -> Recipient | None:
        """The first convener with a mailbox: it sends the invitations (One channel, issue 4)."""
        for convener in body.convener_ids:
            box = self.contacts.mailbox(convener)
            if box is not None:
                return box
        return None

    def attendees(self, record: MeetingRecord) -> list[Recipient]:
        body = self.catalogue.bodies[record.body]
        organizer = self.organizer(body)
        found: dict[str, Recipient] = {}
        for org in self.catalogue.participants(body, record.group):
            for person in self.contacts.of_organisation(org, body.id):
                if organizer is None or person.email != organizer.email:
                    found.setdefault(person.email, person)
        # A broken address fails its own row (and is reported); it must not break the
        # ATTENDEE list everyone else receives.
        return [r for r in found.values() if is_valid_address(r.email)]

    def of_action(self, record: MeetingRecord, action: Action) -> list[Recipient]:
        body = self.catalogue.bodies[record.body]
        people: dict[str, Recipient] = {}
        for who in action.audience:
            for recipient in self._of(body, record, who):
                people.setdefault(recipient.email, recipient)
        return list(people.values())

    def _of(self, body: Body, record: MeetingRecord, who: str) -> Iterable[Recipient]:
        if who == "conveners":
            return [box for c in body.convener_ids if (box := self.contacts.mailbox(c))]
        if who == "preparers":
            orgs = [p.organisation for p in body.co_preparers if p.organisation]
            for prep in body.co_preparers:
                if prep.body and prep.body in self.catalogue.bodies:
                    orgs.extend(self.catalogue.bodies[prep.body].convener_ids)
            return [box for o in orgs if (box := self.contacts.mailbox(o))]
        if who == "members":
            conveners = set(body.convener_ids)
            return [
                person for org in self.catalogue.participants(body, record.group)
                if org not in conveners for person in self.contacts.of_organisation(org, body.id)
            ]
        return self.attendees(record)

    def recipient(self, email: str) -> Recipient:
        if email == self.contacts.coordinator.email:
            return self.contacts.coordinator
        for box in self.contacts.mailboxes.values():
            if box.email == email:
                return box
        for person in self.contacts.people:
            if person.email == email:
                return Recipient(person.email, person.name, person.language, person.organisation,
                                 person=True)
        return Recipient(email, "", "fi", None)
