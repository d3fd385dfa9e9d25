"""The command line's renderings: plans and the catalogue as the contract's JSON, CSV and a
readable table (shared/architecture.md, "Contract: JSON output")."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from scheduler.catalogue.model import Body, Catalogue, Months, PerTerm, PerYear, Round, Rule
from scheduler.messaging.render import NO_CONVENER, Renderer
from scheduler.messaging.texts import (
    cadence,
    duration_range,
    format_date,
    month_ranges,
    on_weekday,
    status_word,
    times,
)
from scheduler.planning.planner import Meeting, Plan, PlanProblem

# -- plan ------------------------------------------------------------------------------------


def meeting_json(meeting: Meeting, renderer: Renderer) -> dict[str, Any]:
    body = renderer.catalogue.bodies[meeting.body]
    return {
        "uid": meeting.uid,
        "body": meeting.body,
        "title": renderer.title(meeting),
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "conveners": list(meeting.conveners),
        "organisations": list(meeting.organisations),
        "group": meeting.group,
        "status": meeting.status,
        "sequence": meeting.sequence,
        "committed": meeting.committed,
        "communicated": meeting.communicated,
        "moved_from": meeting.moved_from.isoformat() if meeting.moved_from else None,
        "present": list(meeting.present),
        "minutes_url": meeting.minutes_url,
        "reasons": renderer.reasons(meeting),
        "mode": body.shape.mode,
        "location": renderer.location(body),
        "sources": list(meeting.sources),
    }


def problem_json(problem: PlanProblem, renderer: Renderer) -> dict[str, Any]:
    return {"body": problem.body, "severity": problem.severity, "code": problem.key,
            "message": renderer.problem(problem)}


def plan_json(plan: Plan, renderer: Renderer) -> dict[str, Any]:
    return {
        "meetings": [meeting_json(m, renderer) for m in plan.meetings],
        "problems": [problem_json(p, renderer) for p in plan.problems],
    }


_CSV_COLUMNS = ("uid", "body", "title", "start", "end", "conveners", "organisations", "group",
                "status", "sequence", "mode", "location", "reasons", "communicated", "moved_from")


def plan_csv(plan: Plan, renderer: Renderer) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for meeting in plan.meetings:
        row = meeting_json(meeting, renderer)
        for key in ("conveners", "organisations"):
            row[key] = " ".join(row[key])
        row["reasons"] = " | ".join(row["reasons"])
        writer.writerow({key: _csv_safe(value) for key, value in row.items()})
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


_TABLE_HEAD = {
    "fi": ("Päivä", "Klo", "Kokous", "Koollekutsuja", "Tila"),
    "sv": ("Dag", "Kl.", "Möte", "Sammankallare", "Status"),
    "en": ("Date", "Time", "Meeting", "Convener", "Status"),
}
_PROBLEMS_HEAD = {"fi": "Huomiot", "sv": "Anmärkningar", "en": "Problems"}
_SEVERITY = {"fi": {"error": "VIRHE", "warning": "huom."},
             "sv": {"error": "FEL", "warning": "obs."},
             "en": {"error": "ERROR", "warning": "note"}}


def plan_table(plan: Plan, renderer: Renderer) -> str:
    lang = renderer.language
    rows = [_TABLE_HEAD[lang]]
    for m in plan.meetings:
        conveners = ", ".join(renderer.name(c) for c in m.conveners) or NO_CONVENER[lang]
        time = f"{m.start:%H.%M}–{m.end:%H.%M}"
        rows.append((format_date(m.day, lang), time, renderer.title(m), conveners,
                     status_word(m.status, lang)))
    lines = _columns(rows)
    if plan.problems:
        lines += ["", _PROBLEMS_HEAD[lang] + ":"]
        for p in plan.problems:
            lines.append(f"  [{_SEVERITY[lang][p.severity]}] {renderer.name(p.body)}: {renderer.problem(p)}")
    return "\n".join(lines) + "\n"


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]

# -- catalogue -------------------------------------------------------------------------------


def body_json(body: Body, catalogue: Catalogue) -> dict[str, Any]:
    return {
        "id": body.id,
        "name": body.name.model_dump(),
        "level": body.level,
        "conveners": list(body.convener_ids),
        "convener_roles": [
            {"organisation": p.organisation, "role": p.role.model_dump() if p.role else None,
             "source": p.source} for p in body.conveners
        ],
        "organisations": list(catalogue.participants(body)),
        "co_preparers": [p.model_dump(exclude_none=True) for p in body.co_preparers],
        "rules": [_rule_json(rule) for rule in body.cadence],
        "gaps": body.gaps.model_dump(exclude_none=True),
        "note": body.note.model_dump(exclude_none=True) if body.note else None,  # "Oletus: ..."
        "shape": body.shape.model_dump(mode="json"),
        "lead_times": body.lead_times.model_dump(mode="json"),
        "meetings": [m.model_dump(mode="json", exclude_none=True) for m in body.meetings],
        "sources": list(body.sources),
    }


def _rule_json(rule: Rule) -> dict[str, Any]:
    return rule.model_dump(mode="json", exclude_none=True)


def bodies_table(catalogue: Catalogue, language: str) -> str:
    renderer = Renderer(catalogue, language)
    head = {"fi": ("Tunniste", "Nimi", "Koollekutsuja", "Rytmi"),
            "sv": ("Id", "Namn", "Sammankallare", "Rytm"),
            "en": ("Id", "Name", "Convener", "Cadence")}[language]
    rows = [head]
    for body in catalogue.bodies.values():
        conveners = ", ".join(renderer.name(c) for c in body.convener_ids) or NO_CONVENER[language]
        rules = "; ".join(_rule_summary(rule, renderer) for rule in body.cadence) or "–"
        rows.append((body.id, body.name.get(language), conveners, rules))
    return "\n".join(_columns(rows)) + "\n"


def _rule_summary(rule: Rule, renderer: Renderer) -> str:
    """A cadence rule in words: "2–3 kertaa vuodessa", "maalis–toukokuu", "once a year"."""
    language = renderer.language
    if isinstance(rule, PerYear | PerTerm):
        return cadence(rule.kind, language, times=times(rule.min, rule.max, language))
    if isinstance(rule, Months):
        return month_ranges(rule.months, language)
    if isinstance(rule, Round):
        return cadence("round", language, on_weekday=on_weekday(rule.weekday, language),
                       grouping=renderer.name(rule.grouping))
    return cadence("precedes-per-group" if rule.per_group else "precedes", language,
                   target=renderer.name(rule.body), lead=duration_range(rule.min_lead, rule.max_lead, language))
