"""Personal data in this installation's keeping, erased on a timetable and on request (GDPR
art. 5(1)(e) storage limitation, art. 17 right to erasure). ``expire``, run daily by the
service, erases what is past ``[retention] months_after_meeting``; ``forget`` erases one
person from the store and from the local Maildir outbox, and says where the contacts file
still names them.

The contacts file is the operator's configuration, so it is reported, never edited: until
the person is removed from it, the messages still to come are addressed to them. Copies
outside the installation (the mail server's, the recipients' mailboxes and calendars, a
calendar server's events) are not reached; nor is a simulation's store and Maildir, which
``simulate`` writes again from the schedule on every run. The tables' part, and what
"erased" means there, is ``outbox.retention``."""

from __future__ import annotations

import calendar
import mailbox
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

from scheduler.catalogue.contacts import is_valid_address
from scheduler.errors import UserError
from scheduler.outbox import retention
from scheduler.outbox.retention import Erased

from .bootstrap import Services

RECIPIENT_HEADERS = ("To", "Cc", "Bcc")


@dataclass(frozen=True)
class ContactLine:
    """A line of the contacts file that names the address."""

    file: Path
    line: int  # from 1
    text: str


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` erased, and what is left for the operator."""

    address: str
    at: datetime  # when: the answer to the person's request says so (GDPR art. 12(3))
    database: Erased
    maildir: Path
    messages: int | None  # removed from the Maildir outbox; None: there is no Maildir there
    contacts: tuple[ContactLine, ...]  # to remove by hand

    @property
    def nothing(self) -> bool:
        return self.database.nothing and not self.messages


def cutoff(now: datetime, months: int, tz: tzinfo) -> datetime:
    """``now`` less ``months`` calendar months in the installation's zone (31 March less one
    month is the end of February): a meeting that ended before it is past retention."""
    local = now.astimezone(tz)
    years, month = divmod(local.month - 1 - months, 12)
    year = local.year + years
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def expire(services: Services, now: datetime) -> Erased:
    """Erase the personal data of the meetings that ended ``[retention]
    months_after_meeting`` or more before ``now``."""
    before = cutoff(now, services.settings.retention.months_after_meeting, services.tz)
    return retention.erase_expired(services.store.engine, before)


def forget(services: Services, address: str, now: datetime) -> Forgotten:
    """Erase ``address`` everywhere the installation keeps it; raise ``UserError`` when it
    is not an e-mail address."""
    address = address.strip()
    if not is_valid_address(address):
        raise UserError(f"{address!r} is not an e-mail address; give it as the messages "
                        "were sent to it, such as anna.svensson@hva.example")
    erased = retention.forget(services.store.engine, address)
    maildir = Path(services.settings.delivery.maildir)
    contacts = Path(services.settings.messages.contacts)
    return Forgotten(address, now.astimezone(services.tz), erased, maildir,
                     _remove_messages(maildir, address),
                     _contact_lines(contacts, address))


def _remove_messages(folder: Path, address: str) -> int | None:
    """Remove from the Maildir ``folder`` every message addressed to ``address``; how many
    (``None`` when there is no Maildir there). The outbox writes one message per
    recipient, so no one else's message goes with them."""
    if not (folder / "cur").is_dir() and not (folder / "new").is_dir():
        return None
    box = mailbox.Maildir(str(folder), create=False)
    wanted = address.lower()
    try:
        theirs = [key for key in box.iterkeys() if wanted in _recipients(box, key)]
        for key in theirs:
            box.discard(key)
    finally:
        box.close()
    return len(theirs)


def _recipients(box: mailbox.Maildir, key: str) -> set[str]:
    headers = BytesParser().parsebytes(box.get_bytes(key), headersonly=True)
    fields = [str(value) for name in RECIPIENT_HEADERS for value in headers.get_all(name, [])]
    return {addr.lower() for _, addr in getaddresses(fields)}


def _contact_lines(path: Path, address: str) -> tuple[ContactLine, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    return tuple(ContactLine(path, number, line.strip())
                 for number, line in enumerate(text.splitlines(), start=1)
                 if retention.mentions(line, address))
