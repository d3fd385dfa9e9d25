"""Outbox rows for what falls due: each meeting's action chain, and the coordinator's
alerts. Every row under its unique key, so enqueueing again adds nothing.

No row is left out for being late: whether a late message still goes is the due policy's
decision when it is delivered (planning.due), and one that does not is recorded as missed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from scheduler.messaging.render import Renderer
from scheduler.outbox.records import EVERYONE, Alert, OutboxRow
from scheduler.outbox.retention import pseudonym
from scheduler.planning.actions import action_chain
from scheduler.planning.planner import Plan, PlanProblem
from scheduler.planning.records import Kind, MeetingRecord, MeetingStatus

from .bootstrap import Services
from .schedule import meeting_row

LANGUAGES = ("fi", "sv", "en")
ALERTED = frozenset({"replacement", "decided-against-rules"})  # warnings the coordinator hears of


def enqueue_actions(services: Services, until: datetime, since: datetime | None = None) -> int:
    """Rows for every action due by ``until`` (and not before ``since``, for a simulation's
    window) of every meeting the store keeps; how many were new."""
    rows: list[OutboxRow] = []
    for record in services.store.all_meetings():
        body = services.catalogue.bodies.get(record.body)
        if record.cancelled or body is None or not body.conveners:
            continue  # without a convener nothing is sent; the coordinator has an alert
        for action in action_chain(record.start, body.lead_times, services.calendar, services.tz):
            if action.due > until:
                break
            if since is not None and action.due < since:
                continue
            rows += _action_rows(services, record, action.kind, action.due,
                                 [r.email for r in services.audience.of_action(record, action)])
    return services.store.add(rows)


def _action_rows(services: Services, record: MeetingRecord, kind: Kind, due: datetime,
                 recipients: list[str]) -> list[OutboxRow]:
    if kind is Kind.INVITE:
        if services.backend.events is not None:
            # The event backend invites everyone with the event itself, once.
            return [] if record.remote_id else [meeting_row(record, kind, EVERYONE, due)]
        # Whoever holds the meeting already (an update reached them after a move) is not
        # invited a second time; nor is a person whose entry was erased (privacy).
        held = set(record.invited)
        recipients = [r for r in recipients if r not in held and pseudonym(r) not in held]
    return [meeting_row(record, kind, email, due) for email in recipients]


def raise_alerts(services: Services, plan: Plan, now: datetime) -> int:
    """One alert per problem to the coordinator: a body that cannot meet its target, one
    whose meetings are planned but that has no convener to send the invitations, a
    replacement proposed for a cancelled meeting, a decided meeting the rules now refuse.
    A problem the plan no longer has is resolved, and its unsent row skipped."""
    planned = {m.body for m in plan.meetings if m.status is MeetingStatus.PLANNED}
    alerts = [_alert(services, problem) for problem in plan.problems
              if problem.severity == "error" or problem.key in ALERTED
              or (problem.key == "no-convener" and problem.body in planned)]
    services.store.raise_alerts(alerts, now)
    coordinator = services.contacts.coordinator.email
    return services.store.add(
        OutboxRow(f"{alert.key}|alert|{coordinator}", None, Kind.ALERT, coordinator, 0, now,
                  body=alert.body, alert=alert.key)
        for alert in alerts)


def _alert(services: Services, problem: PlanProblem) -> Alert:
    # The key is the one the releases before issue 8 gave the alert's outbox row, so an
    # alert already sent from an upgraded database is not sent again.
    digest = hashlib.sha256(repr(sorted(problem.params.items())).encode()).hexdigest()[:12]
    messages = {language: Renderer(services.catalogue, language).problem(problem)
                for language in LANGUAGES}
    return Alert(f"alert:{problem.body}:{problem.key}:{digest}", problem.body, problem.key,
                 problem.severity, messages)
