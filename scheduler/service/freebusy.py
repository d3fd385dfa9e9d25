"""The conveners' busy times from their own calendars (issue 4), for the planner: read
through the backend's free/busy port when it has one and ``[planning] freebusy`` is on."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time

from scheduler.delivery.ports import Busy, DeliveryRejected, DeliveryUnavailable

from .bootstrap import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalendarsRead:
    """What was learned of the conveners' calendars: busy times by organisation, the
    organisations whose calendars could not be read, or why none could."""

    busy: dict[str, Busy]
    unread: tuple[str, ...] = ()
    failure: str | None = None  # nothing could be read: planning went on without calendars


def conveners_busy(services: Services, first: date, last: date,
                   only: Collection[str] | None = None) -> CalendarsRead | None:
    """``None`` when the calendars are not asked: freebusy off, or a backend without them.
    ``only``: the conveners (organisation ids) whose calendars are wanted."""
    if not services.settings.planning.freebusy:
        return None
    reader = services.backend.free_busy
    if reader is None:
        return None  # maildir, smtp: plan as before
    tz = services.tz
    conveners = {org for body in services.catalogue.bodies.values() for org in body.convener_ids
                 if only is None or org in only}
    mailboxes = {org: box.email for org, box in services.contacts.mailboxes.items()
                 if org in conveners}
    try:
        found = reader.free_busy(sorted(set(mailboxes.values())),
                                 datetime.combine(first, time(0), tzinfo=tz),
                                 datetime.combine(last, time(23, 59), tzinfo=tz))
    except (DeliveryRejected, DeliveryUnavailable) as exc:
        # Planning goes on without them; what was communicated keeps its date anyway.
        log.info("free/busy not read: %s", exc)
        return CalendarsRead({}, failure=str(exc))
    finally:
        services.backend.close()
    # A backend leaves out a mailbox it may not read: name it, don't call it free.
    unread = tuple(sorted(org for org, email in mailboxes.items() if email not in found))
    busy = {org: found[email] for org, email in mailboxes.items() if email in found}
    return CalendarsRead(busy, unread)
