"""``db upgrade``: the database's schema brought to the newest migration (every command that
opens the store does it too; this is for doing it ahead, e.g. before a deploy)."""

from __future__ import annotations

from scheduler.outbox import migrate
from scheduler.outbox.store import connect

from .bootstrap import Services


def upgrade(services: Services) -> migrate.Upgrade:
    engine = connect(services.settings.database.url)
    try:
        return migrate.upgrade(engine)
    finally:
        engine.dispose()
