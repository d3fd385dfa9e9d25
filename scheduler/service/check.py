"""``check``: the installation as a whole, without sending anything or contacting a server:
the catalogue and calendars (already read), the plan's gaps and conflicts for the rest of
the council term, every template in every language, the contacts file, and the chosen
delivery backend's settings.

It also reads the catalogue against its sources (issue 11): a remote or hybrid body whose
meetings are planned but that has no ``online_url`` (its invitations carry no join link),
and every body, convener, agenda preparer and rule that rests only on documents no longer
valid on the day of the check (still applied: it is the last agreed rule)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scheduler.catalogue.model import (
    Body,
    Catalogue,
    Months,
    PerTerm,
    PerYear,
    Precedes,
    Round,
    Rule,
    cited,
)
from scheduler.errors import Problem
from scheduler.messaging.mail import check_templates
from scheduler.planning.planner import PlanProblem
from scheduler.planning.records import Reason
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
    today = now.astimezone(services.tz).date()
    return CheckResult(
        len(catalogue.bodies), len(catalogue.organisations), len(catalogue.groupings),
        len(services.blackouts.days), (*found.problems, *catalogue_warnings(catalogue, today)),
        check_templates(services.templates), backend_problems(services.settings, config))


def catalogue_warnings(catalogue: Catalogue, today: date) -> list[PlanProblem]:
    """What the catalogue itself leaves open, as warnings (``check`` still passes)."""
    return [problem for body in catalogue.bodies.values()
            for problem in (*_join_link(body, today), *_expired(catalogue, body, today))]


def _join_link(body: Body, today: date) -> Iterator[PlanProblem]:
    """A remote or hybrid body whose meetings are planned (or still ahead) needs a join link."""
    mode = body.shape.mode
    meets = bool(body.cadence) or any(m.date >= today and m.status != "cancelled"
                                      for m in body.meetings)
    if mode in ("remote", "hybrid") and body.shape.online_url is None and meets:
        yield PlanProblem(body.id, "warning", f"no-online-url-{mode}")


def _expired(catalogue: Catalogue, body: Body, today: date) -> Iterator[PlanProblem]:
    """The body, its conveners, its agenda preparers and its rules, where their sources rest
    only on documents no longer valid on ``today``."""
    if not catalogue.documents:
        return
    found = _expiry(catalogue, body.sources, today)
    if found:
        yield _warning(body, "expired-body", found, body.sources)
    for convener in body.conveners:
        sources = [convener.source] if convener.source else body.sources
        found = _expiry(catalogue, sources, today)
        if found and convener.organisation:
            yield _warning(body, "expired-convener", found, sources, convener=convener.organisation)
    for preparer in body.co_preparers:
        found = _expiry(catalogue, [preparer.source], today)
        if found:
            yield _warning(body, "expired-co-preparer", found, [preparer.source],
                           other=preparer.organisation or preparer.body)
    for rule in body.cadence:
        found = _expiry(catalogue, [rule.source], today)
        if found:
            yield _warning(body, "expired-rule", found, [rule.source], rule=_rule_reason(rule))


def _expiry(catalogue: Catalogue, sources: Iterable[str], today: date) -> dict[str, Any] | None:
    """The documents ``sources`` rest on and the last day any of them was valid, if every
    document they cite is no longer valid on ``today``; else None."""
    texts = list(sources)
    if not catalogue.expired_only(texts, today):
        return None
    documents = [catalogue.documents[number]
                 for number in dict.fromkeys(n for text in texts for n in cited(text))
                 if number in catalogue.documents]
    ends = [d.valid_until for d in documents if d.valid_until is not None]
    last = max(ends) if ends else None  # written as the documents write it: "31.12.2025"
    return {"documents": ", ".join(d.id for d in documents),
            "until": f"{last.day}.{last.month}.{last.year}" if last else None}


def _warning(body: Body, key: str, found: dict[str, Any], sources: Iterable[str],
             **params: Any) -> PlanProblem:
    source = "; ".join(text.rstrip(" .") for text in sources)
    return PlanProblem(body.id, "warning", key, {**found, "source": source, **params})


def _rule_reason(rule: Rule) -> Reason:
    """A rule in words, rendered in the reader's language inside the warning."""
    if isinstance(rule, PerYear | PerTerm):
        return Reason(f"cadence-{rule.kind}", {"min": rule.min, "max": rule.max})
    if isinstance(rule, Months):
        return Reason("cadence-months", {"months": list(rule.months)})
    if isinstance(rule, Round):
        return Reason("cadence-round", {"weekday": rule.weekday, "grouping": rule.grouping})
    assert isinstance(rule, Precedes)
    return Reason("cadence-precedes", {"target": rule.body, "min_lead": rule.min_lead,
                                       "max_lead": rule.max_lead})
