"""``yhdyspinta serve``: the long-running service (issue 10). APScheduler 3 is only its
clock; the truth is in our tables (architecture.md). See ``runner`` for the jobs,
``lock`` for the one active scheduler, ``health`` for the probes and metrics."""

from __future__ import annotations

from pathlib import Path

from scheduler.service.bootstrap import Services

from .logs import configure
from .runner import Daemon


def serve(services: Services, *, bodies: Path, config: Path | None, host: str | None = None,
          port: int | None = None) -> int:
    settings = services.settings.service
    configure(settings.log_format, settings.log_level)
    _ = services.backend  # its settings checked (exit 2) before anything starts
    _ = services.store  # the schema migrated at start
    daemon = Daemon(services, bodies=bodies, config=config)
    return daemon.run(host or settings.host, settings.port if port is None else port)
