"""The delivery use cases driven step by step (store the plan, enqueue, deliver, move,
cancel), as the delivery tests drive them, over an installation in a test's own folder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from scheduler.catalogue.blackouts import Blackouts
from scheduler.catalogue.contacts import load_contacts
from scheduler.catalogue.model import Catalogue
from scheduler.delivery.ports import Backend
from scheduler.messaging.audience import Audience
from scheduler.messaging.compose import Composer
from scheduler.outbox.records import OutboxRow
from scheduler.outbox.store import Store, open_store
from scheduler.planning.planner import Plan
from scheduler.planning.records import MeetingRecord
from scheduler.service import answers, changes, schedule
from scheduler.service.bootstrap import Services
from scheduler.service.deliver import DeliveryReport, deliver
from scheduler.service.enqueue import enqueue_actions
from scheduler.settings import Settings
from tests.conftest import HELSINKI, ROOT


def services(root: Path, catalogue: Catalogue, backend: Backend, *, workers: int = 1,
             contacts: Path | None = None, database: str | None = None,
             blackout_months: tuple[int, ...] = (7,)) -> Services:
    """An installation over ``catalogue`` with the real templates, the contacts file
    ``contacts`` (default ``root/contacts.yaml``) and a SQLite store in ``root``."""
    settings = Settings.model_validate({
        "planning": {"blackout_months": list(blackout_months)},
        "delivery": {"feeds": str(root / "feeds")},
        "messages": {"templates": str(ROOT / "templates" / "mail"),
                     "contacts": str(contacts or root / "contacts.yaml")},
    })
    # Not validated here, so that the services' own refusal of a bad count can be tested.
    settings = settings.model_copy(update={
        "delivery": settings.delivery.model_copy(update={"workers": workers})})
    store = open_store(database or f"sqlite:///{root / 'state.db'}", HELSINKI)
    return Services(settings, catalogue, Blackouts({}), store=store, backend=backend,
                    contacts=load_contacts(Path(settings.messages.contacts), catalogue))


class Flow:
    """One installation's use cases, a step at a time."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def audience(self) -> Audience:
        return self.services.audience

    @property
    def composer(self) -> Composer:
        return self.services.composer

    def sync(self, plan: Plan, now: datetime) -> int:
        return schedule.sync(self.services, plan, now)

    def enqueue(self, until: datetime, since: datetime | None = None) -> int:
        return enqueue_actions(self.services, until, since)

    def deliver(self, until: datetime, clock: Callable[[OutboxRow], datetime],
                progress: Callable[[int, int], None] | None = None,
                only: str | None = None) -> DeliveryReport:
        return deliver(self.services, until, clock, now=until, only=only, progress=progress)

    def move(self, uid: str, start: datetime, now: datetime) -> MeetingRecord:
        """Any day, as the delivery tests need: the rules `move` checks are tested apart
        (tests/integration/test_schedule.py), so here they are set aside, with a reason."""
        return changes.move(self.services, uid, start, now, force=True, why="a delivery test")

    def cancel(self, uid: str, reason: str | None, now: datetime) -> MeetingRecord:
        return changes.cancel(self.services, uid, reason, now)

    def read_responses(self, now: datetime) -> int:
        return answers.read_answers(self.services, now)
