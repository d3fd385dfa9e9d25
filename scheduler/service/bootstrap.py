"""Wiring: the parts of one installation, built from its settings at the edge and handed to
the use cases. The CLI builds it from files; tests build it with an in-memory backend and a
store of their own. Parts a command does not use (the store, the backend, the contacts)
are not built for it."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler import delivery
from scheduler.catalogue.blackouts import Blackouts, load_blackouts
from scheduler.catalogue.contacts import Contacts, load_contacts
from scheduler.catalogue.load import load_catalogue
from scheduler.catalogue.model import Catalogue
from scheduler.delivery.ports import Backend
from scheduler.errors import UserError
from scheduler.messaging.audience import Audience
from scheduler.messaging.compose import Composer
from scheduler.messaging.mail import Templates
from scheduler.outbox.store import Store, open_store
from scheduler.planning.workdays import WorkCalendar
from scheduler.settings import (
    MAX_WORKERS,
    Settings,
    backend_problems,
    config_path,
    load_settings,
)

CHRISTMAS_BREAK = "joulutauko joulusta loppiaiseen"


class Services:
    """One installation: settings, catalogue and calendars, and on demand the contacts, the
    templates, the store and the delivery backend. Given parts are used as they are."""

    def __init__(self, settings: Settings, catalogue: Catalogue, blackouts: Blackouts, *,
                 store: Store | None = None, backend: Backend | None = None,
                 contacts: Contacts | None = None) -> None:
        workers = settings.delivery.workers
        if not 1 <= workers <= MAX_WORKERS:  # settings built in code skip pydantic's check
            raise ValueError(f"workers must be 1 to {MAX_WORKERS}, got {workers}")
        self.settings, self.catalogue, self.blackouts = settings, catalogue, blackouts
        # Who claims the rows this installation sends: the service sets its own (issue 10).
        self.identity = f"cli:{socket.gethostname()}:{os.getpid()}"
        for name, given in (("store", store), ("backend", backend), ("contacts", contacts)):
            if given is not None:
                self.__dict__[name] = given  # takes the place of the cached_property

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.planning.tz

    @property
    def tzid(self) -> str:
        return self.settings.planning.timezone

    @property
    def uid_domain(self) -> str:
        return self.settings.planning.uid_domain

    @cached_property
    def calendar(self) -> WorkCalendar:
        """Working days less the calendars' blackouts, the blackout months and the
        Christmas break of every year of the council terms."""
        planning = self.settings.planning
        terms = self.catalogue.region.terms
        days = dict(self.blackouts.days)
        for day in planning.christmas_days(min(t.start.year for t in terms) - 1,
                                           max(t.end.year for t in terms)):
            days.setdefault(day, CHRISTMAS_BREAK)
        return WorkCalendar(days, frozenset(planning.blackout_months))

    @cached_property
    def contacts(self) -> Contacts:
        return load_contacts(Path(self.settings.messages.contacts), self.catalogue)

    @cached_property
    def templates(self) -> Templates:
        return Templates(Path(self.settings.messages.templates))

    @cached_property
    def store(self) -> Store:
        return open_store(self.settings.database.url, self.tz)

    @cached_property
    def backend(self) -> Backend:
        """The configured backend, its settings checked first: a missing client id is
        exit 2 before anything is sent, not a failed row per message."""
        problems = backend_problems(self.settings)
        if problems:
            raise UserError(f"[{self.settings.delivery.backend}]: the backend's settings "
                            "have problems", problems)
        backend = self.settings.delivery.backend
        section = {"smtp": self.settings.smtp, "ews": self.settings.ews,
                   "graph": self.settings.graph}.get(backend)
        return delivery.load(backend, maildir=Path(self.settings.delivery.maildir),
                             options=section.model_dump() if section else None)

    @cached_property
    def audience(self) -> Audience:
        return Audience(self.catalogue, self.contacts)

    @cached_property
    def composer(self) -> Composer:
        return Composer(self.catalogue, self.contacts, self.templates, self.calendar, self.tz,
                        self.tzid, self.uid_domain, self.audience)

    def simulation(self, outbox: Path) -> Services:
        """The same installation writing into the Maildir ``outbox`` and a store of its own
        beside it (``<outbox>.db``), whatever backend is configured: a preview sends nothing."""
        if outbox.exists() and not outbox.is_dir():
            raise UserError(f"--outbox {outbox}: a file is there; give a folder for the Maildir")
        store = open_store(f"sqlite:///{outbox.with_name(outbox.name + '.db')}", self.tz)
        backend = delivery.load("maildir", maildir=outbox)
        contacts = self.__dict__.get("contacts")
        return Services(self.settings, self.catalogue, self.blackouts, store=store,
                        backend=backend, contacts=contacts)

    def close(self) -> None:
        """Release what was opened: the backend's connections, the store's pool."""
        if "backend" in self.__dict__:
            self.backend.close()
        if "store" in self.__dict__:
            self.store.close()


def load_services(config: Path | None, bodies: Path,
                  environ: Mapping[str, str] = os.environ) -> Services:
    """Settings, catalogue and calendars read and checked, every problem at once."""
    settings = load_settings(config_path(config, environ), environ)
    catalogue = load_catalogue(bodies)
    blackouts = load_blackouts(Path(settings.planning.calendars))
    return Services(settings, catalogue, blackouts)
