"""iTIP invariants over random edit sequences (RFC 5546): one UID for life, SEQUENCE only
rises, every change reaches every invited attendee exactly once, a CANCEL ends it all."""

from __future__ import annotations

import mailbox
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduler.catalogue.load import load_catalogue
from scheduler.delivery.maildir import MaildirMailer
from scheduler.delivery.ports import Backend
from scheduler.errors import UserError
from scheduler.planning.planner import Plan, Window, plan_meetings
from scheduler.planning.workdays import WorkCalendar
from tests.conftest import HELSINKI, ROOT
from tests.integration.conftest import contacts_yaml
from tests.support.flow import Flow, services

UID = "vaikuttamisryhma-2027-1@yhdyspinta"
Edit = tuple[str, int]
edits = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(-20, 40)),
        st.tuples(st.just("drop"), st.integers(0, 30)),
        st.tuples(st.just("same"), st.just(0)),
        st.tuples(st.just("cancel"), st.just(0)),
    ),
    max_size=6,
)


CATALOGUE = load_catalogue(ROOT / "bodies")
# One meeting under test, planned once: the pipeline's work is what varies.
PLAN = Plan(tuple(m for m in plan_meetings(CATALOGUE, WorkCalendar(blackout_months=frozenset({7})),
                                           Window(date(2027, 1, 1), date(2027, 12, 31)), HELSINKI).meetings
                  if m.uid == UID), ())
MUNICIPALITIES = sorted(o.id for o in CATALOGUE.organisations.values() if o.kind == "municipality")


def build(root: Path, catalogue: Any, drop: int | None = None) -> Flow:
    contacts_file = root / "contacts.yaml"
    # A municipality's mailbox disappears: it is no longer invited.
    victim = MUNICIPALITIES[drop % len(MUNICIPALITIES)] if drop is not None else None
    contacts_file.write_text(contacts_yaml(omit=victim), encoding="utf-8")
    return Flow(services(root, catalogue, Backend(MaildirMailer(root / "out")),
                         contacts=contacts_file, database=f"sqlite:///{root / 's.db'}"))


def sent_calendars(root: Path) -> list[tuple[datetime, str, str, Any]]:
    box = mailbox.Maildir(str(root / "out"), create=False)
    found = []
    for key in box.keys():  # noqa: SIM118 - Maildir keys
        message: Any = message_from_bytes(box.get_bytes(key), policy=default)
        if str(message["X-Yhdyspinta-Meeting"]) != UID:
            continue
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
                found.append((message["Date"].datetime, message["To"].addresses[0].addr_spec,
                              str(part.get_param("method")), event))
    return sorted(found, key=lambda item: (item[0], item[3]["SEQUENCE"]))


@settings(max_examples=20, deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(edits)
def test_itip_invariants_hold_over_any_edit_sequence(steps: list[Edit]) -> None:
    real_catalogue = CATALOGUE
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pipeline = build(root, real_catalogue)
        plan = PLAN
        now = datetime(2027, 1, 2, 8, tzinfo=UTC)
        pipeline.sync(plan, now)
        record = pipeline.store.meeting(UID)
        assert record is not None
        now = record.start - timedelta(days=10)  # after the invitations went out
        pipeline.enqueue(now, since=datetime(2027, 1, 1, tzinfo=UTC))
        pipeline.deliver(now, clock=lambda row: now)
        for kind, amount in steps:
            now += timedelta(hours=1)
            current = pipeline.store.meeting(UID)
            assert current is not None
            if kind in ("move", "same") and current.status == "cancelled":
                with pytest.raises(UserError):
                    pipeline.move(UID, current.start + timedelta(days=1), now)
            elif kind == "move":
                pipeline.move(UID, current.start + timedelta(days=amount or 1), now)
            elif kind == "same":
                pipeline.move(UID, current.start, now)
            elif kind == "cancel":
                pipeline.cancel(UID, "syy", now)
            else:
                pipeline = build(root, real_catalogue, drop=amount)
                pipeline.sync(plan, now)
            pipeline.deliver(now, clock=_fixed(now))
        check_invariants(sent_calendars(root), pipeline)


def _fixed(moment: datetime) -> Callable[[Any], datetime]:
    return lambda row: moment


def check_invariants(sent: list[tuple[datetime, str, str, Any]], pipeline: Flow) -> None:
    assert sent, "the invitations went out"
    assert {str(event["UID"]) for *_, event in sent} == {UID}
    seen: set[tuple[str, int, str]] = set()
    last_sequence: dict[str, int] = {}
    cancelled_for: set[str] = set()
    for _, who, method, event in sent:
        sequence = int(event["SEQUENCE"])
        assert (who, sequence, method) not in seen, "nothing is sent twice"
        seen.add((who, sequence, method))
        assert sequence >= last_sequence.get(who, 0), "SEQUENCE never goes down"
        if who in cancelled_for:
            raise AssertionError(f"{who} got {method} after a CANCEL")
        if method == "CANCEL":
            assert sequence > last_sequence.get(who, -1)
            cancelled_for.add(who)
        last_sequence[who] = sequence
    record = pipeline.store.meeting(UID)
    assert record is not None
    if record.status == "cancelled":
        final = {who for _, who, method, _ in sent if method == "CANCEL"}
        assert final == {who for _, who, _, _ in sent}, "everyone who was invited hears it ended"
    else:
        for who in record.invited:
            assert last_sequence[who] == record.sequence, "every invitee has the latest version"
