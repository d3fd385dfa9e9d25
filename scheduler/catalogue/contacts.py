"""Who receives what: organisation mailboxes, the few named people, the coordinator.

Personal data lives only here (``[contacts] file`` in the config), never in ``bodies/``:
a name, an address and a language per person, nothing more. The file is read and checked
at the edge; whether an address can take mail is decided per message, so one bad address
is reported and skipped while everyone else still gets theirs (issue 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from scheduler.errors import Problem, UserError

from .load import describe_validation_error
from .model import Catalogue, Frozen, Id
from .yamlsource import YamlProblems, load_yaml

Language = Literal["fi", "sv", "en"]
# Deliberately strict: printable ASCII local part, a dotted domain, no spaces or controls.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def is_valid_address(address: str) -> bool:
    return len(address) <= 254 and _ADDRESS.match(address) is not None


class Mailbox(Frozen):
    """An organisation's shared mailbox: it sends what the organisation convenes."""

    email: str
    name: str | None = None
    language: Language = "fi"


class Person(Frozen):
    name: str
    email: str
    organisation: Id
    language: Language = "fi"
    bodies: list[Id] = []  # empty: every body the organisation takes part in


class ContactsFile(Frozen):
    coordinator: Mailbox
    organisations: dict[Id, Mailbox] = {}
    people: list[Person] = []


@dataclass(frozen=True)
class Recipient:
    """One addressee of one message: the unit of delivery and of the outbox key."""

    email: str
    name: str
    language: Language
    organisation: str | None
    person: bool = False  # a named person (greeted by name), not a shared mailbox


@dataclass(frozen=True)
class Contacts:
    coordinator: Recipient
    mailboxes: dict[str, Recipient]
    people: tuple[Person, ...]

    def mailbox(self, organisation: str) -> Recipient | None:
        return self.mailboxes.get(organisation)

    def of_organisation(self, organisation: str, body: str) -> list[Recipient]:
        """The organisation's people for this body, or else its mailbox."""
        people = [
            Recipient(p.email, p.name, p.language, organisation, person=True)
            for p in self.people
            if p.organisation == organisation and (not p.bodies or body in p.bodies)
        ]
        if people:
            return people
        box = self.mailboxes.get(organisation)
        return [box] if box else []


def load_contacts(path: Path, catalogue: Catalogue) -> Contacts:
    """Read the contacts file, checking organisation and body ids against the catalogue."""
    if not path.is_file():
        raise UserError(f"{path}: contacts file not found (see [contacts] file in the config)")
    try:
        document = load_yaml(path)
    except YamlProblems as exc:
        raise UserError(f"{path}: the contacts file has problems", exc.problems) from None
    try:
        data = ContactsFile.model_validate(document.data)
    except ValidationError as exc:
        raise UserError(f"{path}: the contacts file has problems",
                        describe_validation_error(exc, document)) from None
    problems: list[Problem] = [
        document.problem(("organisations", org), f"unknown organisation {org!r}")
        for org in data.organisations if org not in catalogue.organisations
    ]
    for i, person in enumerate(data.people):
        if person.organisation not in catalogue.organisations:
            problems.append(document.problem(("people", i, "organisation"),
                                             f"unknown organisation {person.organisation!r}"))
        problems.extend(
            document.problem(("people", i, "bodies", j), f"unknown body {body!r}")
            for j, body in enumerate(person.bodies) if body not in catalogue.bodies
        )
    if problems:
        raise UserError(f"{path}: the contacts file has problems", problems)
    return Contacts(
        coordinator=_recipient(data.coordinator, None, "Yhdyspintakoordinaattori"),
        mailboxes={org: _recipient(box, org, catalogue.organisations[org].name.get(box.language))
                   for org, box in data.organisations.items()},
        people=tuple(data.people),
    )


def _recipient(box: Mailbox, organisation: str | None, default_name: str) -> Recipient:
    return Recipient(box.email, box.name or default_name, box.language, organisation)
