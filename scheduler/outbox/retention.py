"""Erasing personal data from our own tables: the addresses and answers of meetings past
their retention period (GDPR art. 5(1)(e), storage limitation), and one person's everywhere
in the tables on request (GDPR art. 17, the right to erasure). Pure SQL over ``tables``
(SQLAlchemy Core, SQLite and PostgreSQL alike); ``service.privacy`` picks the cutoff and
reaches the files.

Erased means replaced by a pseudonym, ``erased:`` and the first 16 hex digits of the
address's SHA-256, not deleted: the rows stay the record of what was communicated (a sent
row commits its meeting, its unique key keeps a message from going twice). The pseudonym
is the same for the same address, so that

* an outbox key rewritten with it is a tombstone: the enqueue finds the erased key of a
  message it would add again and leaves the message out (``Store.add``), as it would
  find the original key, so erasing never makes anything go a second time;
* an erased entry of a meeting's ``invited`` list still counts who held the meeting, and
  the service, which never writes to an erased entry, still knows that a person it would
  invite holds it already;
* ``responses`` keep one answer per attendee ({"erased:…": "accepted"}): how many
  accepted and declined stays known, who did not.

This is pseudonymisation (GDPR recital 26), not anonymisation: whoever already knows an
address can compute its pseudonym and find that it was written to. Nothing else about the
person is left. Values already erased are left alone, so every erasure may run again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, update
from sqlalchemy.engine import Row, RowMapping

from .records import EVERYONE, State
from .tables import alerts, meetings, outbox

PREFIX = "erased:"
FORGOTTEN = "forgotten"  # the reason of a waiting row skipped because its recipient was erased
FINAL = (State.SENT, State.FAILED, State.MISSED, State.SKIPPED)
WAITING = (State.PENDING, State.UNCERTAIN)
_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Erased:
    """What an erasure changed, per table."""

    rows: int = 0  # outbox rows whose recipient (and key) became the pseudonym
    stopped: int = 0  # of those, rows still waiting to go: skipped instead (forget only)
    errors: int = 0  # other outbox rows whose error text quoted the address: cleared
    meetings: int = 0  # meetings whose invited list, answers or texts named the address
    alerts: int = 0  # alerts whose texts named the address (forget only)
    sending: int = 0  # rows in a delivery run's hands right now: left alone (forget only)

    @property
    def nothing(self) -> bool:
        return not (self.rows or self.errors or self.meetings or self.alerts or self.sending)

    def __str__(self) -> str:
        """For the service's log: the counts that are not 0."""
        parts = [f"{count} {label}" for count, label in (
            (self.rows, "outbox rows"), (self.stopped, "of them stopped"),
            (self.errors, "error texts"), (self.meetings, "meetings"), (self.alerts, "alerts"))
            if count]
        said = "erased " + ", ".join(parts) if parts else "nothing to erase"
        return said + (f"; {self.sending} rows being sent left alone" if self.sending else "")


# -- pseudonyms -------------------------------------------------------------------------------

def pseudonym(address: str) -> str:
    """``erased:<16 hex digits>``: the same for the same address (as it was written)."""
    if is_erased(address):
        return address
    return PREFIX + hashlib.sha256(address.encode("utf-8")).hexdigest()[:16]


def is_erased(value: str) -> bool:
    return value.startswith(PREFIX)


def erased_key(key: str, recipient: str) -> str:
    """``key`` with ``recipient`` replaced by its pseudonym: <uid>|<kind>|erased:…[|<seq>]."""
    parts = key.split("|")
    if recipient in parts:
        return "|".join(pseudonym(part) if part == recipient else part for part in parts)
    return _pattern(recipient).sub(pseudonym(recipient), key)  # a key of another shape


def mentions(text: str | None, address: str) -> bool:
    """Whether ``text`` names ``address`` (any case), not merely a longer one ending in it."""
    return bool(text) and _pattern(address).search(text or "") is not None


def scrub(text: str, address: str) -> str:
    """``text`` with every mention of ``address`` replaced by its pseudonym."""
    return _pattern(address).sub(pseudonym(address), text)


def _pattern(address: str) -> re.Pattern[str]:
    # Bounded so that ann@x.example is not found in joann@x.example or ann@x.example.org.
    return re.compile(rf"(?<![\w.+-]){re.escape(address)}(?![\w-]|\.\w)", re.IGNORECASE)


def personal(recipient: str) -> bool:
    """Whether a row's recipient is a person's address still to erase."""
    return recipient != EVERYONE and not is_erased(recipient)


# -- what the enqueue asks --------------------------------------------------------------------

# -- retention --------------------------------------------------------------------------------

def erase_expired(engine: Engine, before: datetime) -> Erased:
    """Erase the meetings that ended before ``before``: the addresses of their outbox rows
    that are done with (sent, failed, missed, skipped; a row still waiting or being sent
    keeps its address until it is done, and is erased on a later run), error texts naming
    any of their addresses, their invited lists and answers. One transaction."""
    rows = errors = changed = 0
    with engine.begin() as conn:
        ended = [uid for uid, end in conn.execute(select(meetings.c.uid, meetings.c.end))
                 if datetime.fromisoformat(end) < before]
        for chunk in _chunks(ended):
            stored = conn.execute(
                select(meetings).where(meetings.c.uid.in_(chunk))).mappings().all()
            found = conn.execute(
                select(outbox.c.key, outbox.c.recipient, outbox.c.state, outbox.c.error,
                       outbox.c.meeting_uid).where(outbox.c.meeting_uid.in_(chunk))).all()
            known = _addresses(stored, found)
            done = [row for row in found if row.state in FINAL]
            erasing = [row for row in done if personal(row.recipient)]
            clearing = [row for row in done if not personal(row.recipient)
                        and any(mentions(row.error, a) for a in known.get(row.meeting_uid, ()))]
            _rewrite(conn, erasing, known)
            _clear_errors(conn, clearing)
            rows, errors = rows + len(erasing), errors + len(clearing)
            changed += sum(_erase_meeting(conn, meeting, personal) for meeting in stored)
    return Erased(rows=rows, errors=errors, meetings=changed)


def _addresses(stored: Sequence[RowMapping], found: Sequence[Row[*tuple[Any, ...]]]
               ) -> dict[str, set[str]]:
    """Every address each meeting knows of: its invited, its answers, its rows' recipients."""
    known: dict[str, set[str]] = {}
    for meeting in stored:
        known[meeting["uid"]] = {a for a in (*_invited(meeting), *_responses(meeting))
                                 if personal(a)}
    for row in found:
        if personal(row.recipient):
            known.setdefault(row.meeting_uid, set()).add(row.recipient)
    return known


def _rewrite(conn: Connection, rows: Sequence[Row[*tuple[Any, ...]]],
             known: dict[str, set[str]]) -> None:
    """Done rows under their pseudonym, their error cleared when it names an address."""
    if not rows:
        return
    values = [{"old_key": row.key, "new_key": erased_key(row.key, row.recipient),
               "new_recipient": pseudonym(row.recipient),
               "new_error": None if any(mentions(row.error, a)
                                        for a in {row.recipient, *known.get(row.meeting_uid, ())})
               else row.error}
              for row in rows]
    conn.execute(update(outbox).where(outbox.c.key == bindparam("old_key")).values(
        key=bindparam("new_key"), recipient=bindparam("new_recipient"),
        error=bindparam("new_error")), values)


def _clear_errors(conn: Connection, rows: Sequence[Row[*tuple[Any, ...]]]) -> None:
    if rows:
        conn.execute(update(outbox).where(outbox.c.key == bindparam("old_key")).values(error=None),
                     [{"old_key": row.key} for row in rows])


# -- one person -------------------------------------------------------------------------------

def forget(engine: Engine, address: str) -> Erased:
    """Erase ``address`` (any case) from every table, whatever the age or state: its outbox
    rows under their pseudonym (a row still waiting is skipped, reason ``forgotten``, so it
    never goes), error texts naming it cleared, its entries in the meetings' invited lists
    and answers and its mentions in their texts pseudonymised, and in the alerts' texts.
    A row being sent at this moment is left to its run and counted in ``sending``: its
    outcome, when recorded, names the address again, and ``forget`` must run once more."""
    wanted = address.lower()
    with engine.begin() as conn:
        mine = conn.execute(
            select(outbox.c.key, outbox.c.recipient, outbox.c.state, outbox.c.error)
            .where(func.lower(outbox.c.recipient) == wanted)).all()
        rows, stopped, sending = _forget_rows(conn, mine, address)
        errors = _forget_errors(conn, address)
        changed = _forget_meetings(conn, address)
        alerted = _forget_alerts(conn, address)
    return Erased(rows=rows, stopped=stopped, errors=errors, meetings=changed, alerts=alerted,
                  sending=sending)


def _forget_rows(conn: Connection, mine: Sequence[Row[*tuple[Any, ...]]], address: str
                 ) -> tuple[int, int, int]:
    """(rows erased, of them stopped, rows left to a run sending them)."""
    rows = stopped = sending = 0
    for row in mine:
        if row.state not in (*FINAL, *WAITING):
            sending += 1  # its run records its outcome under this key: not pulled from it
            continue
        values: dict[str, Any] = {
            "key": erased_key(row.key, row.recipient), "recipient": pseudonym(row.recipient),
            "error": None if mentions(row.error, address) else row.error}
        if row.state in WAITING:
            values.update(state=str(State.SKIPPED), reason=FORGOTTEN, retry_at=None)
        # The state is part of the match: a row claimed meanwhile by a delivery run is
        # that run's now, and counted as being sent.
        done = conn.execute(update(outbox).where(outbox.c.key == row.key,
                                                 outbox.c.state == row.state).values(values))
        if done.rowcount != 1:
            sending += 1
            continue
        rows += 1
        if row.state in WAITING:
            stopped += 1
    return rows, stopped, sending


def _forget_errors(conn: Connection, address: str) -> int:
    """Rows to others (or to the event's attendees) whose error text quotes the address."""
    found = conn.execute(select(outbox.c.key, outbox.c.error).where(
        _containing(outbox.c.error, address))).all()
    quoting = [row for row in found if mentions(row.error, address)]
    _clear_errors(conn, quoting)
    return len(quoting)


def _forget_meetings(conn: Connection, address: str) -> int:
    wanted = address.lower()
    found = conn.execute(select(meetings).where(or_(
        *(_containing(column, address) for column in (
            meetings.c.invited, meetings.c.responses, meetings.c.reason, meetings.c.forced)))
    )).mappings().all()
    return sum(_erase_meeting(conn, meeting, lambda entry: entry.lower() == wanted, address)
               for meeting in found)


def _forget_alerts(conn: Connection, address: str) -> int:
    changed = 0
    for key, text in conn.execute(select(alerts.c.key, alerts.c.messages).where(
            _containing(alerts.c.messages, address))).all():
        messages = json.loads(text or "{}")
        erased = {language: scrub(words, address) for language, words in messages.items()}
        if erased != messages:
            conn.execute(update(alerts).where(alerts.c.key == key).values(
                messages=json.dumps(erased, ensure_ascii=False)))
            changed += 1
    return changed


# -- shared -----------------------------------------------------------------------------------

def _erase_meeting(conn: Connection, meeting: RowMapping, erase: Callable[[str], bool],
                   address: str | None = None) -> bool:
    """Pseudonymise the entries of ``meeting``'s invited list and answers that ``erase``
    picks, and with ``address`` its mentions in the operator's texts; whether it changed."""
    invited = sorted(pseudonym(a) if erase(a) else a for a in _invited(meeting))
    responses = {pseudonym(a) if erase(a) else a: answer
                 for a, answer in _responses(meeting).items()}
    values: dict[str, Any] = {}
    if invited != sorted(_invited(meeting)):
        values["invited"] = json.dumps(invited)
    if responses != _responses(meeting):
        values["responses"] = json.dumps(dict(sorted(responses.items())))
    for column in ("reason", "forced"):  # a move's or a cancellation's reason, in words
        text = meeting[column]
        if address and text and mentions(text, address):
            values[column] = scrub(text, address)
    if values:
        conn.execute(update(meetings).where(meetings.c.uid == meeting["uid"]).values(values))
    return bool(values)


def _invited(meeting: RowMapping) -> list[str]:
    return list(json.loads(meeting["invited"] or "[]"))


def _responses(meeting: RowMapping) -> dict[str, str]:
    return dict(json.loads(meeting["responses"] or "{}"))


def _containing(column: Any, address: str) -> Any:
    """A coarse, portable filter (any case, LIKE's wildcards escaped); ``mentions`` decides."""
    return func.lower(column).contains(address.lower(), autoescape=True)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for first in range(0, len(values), _CHUNK):
        yield values[first:first + _CHUNK]
