"""The attendees' answers, read back from an event backend into the meeting records, so the
records show who accepted (issue 4)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from scheduler.delivery.ports import Person
from scheduler.outbox.retention import is_erased, pseudonym
from scheduler.planning.records import MeetingRecord

from .bootstrap import Services

log = logging.getLogger(__name__)


def read_answers(services: Services, now: datetime) -> int:
    """Answers to the upcoming meetings this backend created; how many records were updated.
    A failure to read is not a failure to deliver: it is logged and read again next time."""
    reader = services.backend.answers
    if reader is None:
        return 0
    due: list[tuple[MeetingRecord, Person]] = []
    for record in services.store.all_meetings():
        if record.channel != services.backend.name or not record.remote_id \
                or record.start < now or record.cancelled:
            continue
        organizer = services.audience.organizer(services.catalogue.bodies[record.body])
        if organizer is not None:
            due.append((record, Person(organizer.email, organizer.name)))
    if not due:
        return 0
    try:
        got = reader.read_answers([(record.remote_id or "", who) for record, who in due])
    finally:
        services.backend.close()
    updated = 0
    for record, _ in due:
        answers = got.get(record.remote_id or "")
        if not isinstance(answers, dict):
            log.info("answers to %s not read this time: %s", record.uid, answers)
            continue
        services.store.save_meeting(replace(record, responses=_kept_erased(record, answers)))
        updated += 1
    return updated


def _kept_erased(record: MeetingRecord, answers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The answers as read, an attendee erased with `forget` under their pseudonym still: the
    calendar server lists them until the contacts file no longer does (privacy)."""
    erased = {who for who, _ in record.responses if is_erased(who)}
    return tuple(sorted((pseudonym(who) if pseudonym(who) in erased else who, answer)
                        for who, answer in answers.items()))
