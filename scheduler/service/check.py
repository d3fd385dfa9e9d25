"""``check``: the installation as a whole, without sending anything or contacting a server:
the catalogue and calendars (already read), the plan's gaps and conflicts for the rest of
the council term, every template in every language, the contacts file, and the chosen
delivery backend's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scheduler.errors import Problem
from scheduler.messaging.mail import check_templates
from scheduler.planning.planner import PlanProblem
from scheduler.settings import backend_problems

from .bootstrap import Services
from .schedule import refresh


@dataclass(frozen=True)
class CheckResult:
    bodies: int
    organisations: int
    groupings: int
    blackout_days: int
    problems: tuple[PlanProblem, ...]
    templates: list[str]  # a template that is missing, broken or unsafe
    settings: list[Problem]  # the delivery backend's settings

    @property
    def ok(self) -> bool:
        return not (self.templates or self.settings
                    or any(p.severity == "error" for p in self.problems))


def check(services: Services, now: datetime, config: str = "configuration") -> CheckResult:
    """Raises ``UserError`` for a contacts file with problems (every problem at once). The
    schedule is planned as it would be, and not stored."""
    catalogue = services.catalogue
    found = refresh(services, now, read_calendars=False, save=False).plan
    if Path(services.settings.messages.contacts).is_file():
        _ = services.contacts  # loading it checks it
    return CheckResult(
        len(catalogue.bodies), len(catalogue.organisations), len(catalogue.groupings),
        len(services.blackouts.days), found.problems, check_templates(services.templates),
        backend_problems(services.settings, config))
