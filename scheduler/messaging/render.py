"""Plans and the catalogue as the contract's JSON, CSV, a readable table, and .ics files.

Presentation only: everything here reads plain values and renders text for a language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler.catalogue.model import Body, Catalogue, Months, PerTerm, PerYear, Round, Rule
from scheduler.planning.planner import Meeting, Plan, PlanProblem

from .ical import FeedEvents, write_feed
from .texts import format_date, render, status_word


class Renderer:
    """Names and sentences for one catalogue in one language."""

    def __init__(self, catalogue: Catalogue, language: str) -> None:
        self.catalogue, self.language = catalogue, language
        self._names: dict[str, str] = {}
        self._reasons: dict[str, list[str]] = {}

    def name(self, ident: str) -> str:
        """The display name of an organisation, body or group id (the id if unknown)."""
        if ident not in self._names:
            self._names[ident] = self._lookup(ident)
        return self._names[ident]

    def _lookup(self, ident: str) -> str:
        if ident in self.catalogue.organisations:
            return self.catalogue.organisations[ident].name.get(self.language)
        if ident in self.catalogue.bodies:
            return self.catalogue.bodies[ident].name.get(self.language)
        if ident in self.catalogue.groupings:
            return self.catalogue.groupings[ident].name.get(self.language)
        member = self.catalogue.member_of(ident)
        return member.name.get(self.language) if member else ident

    def title(self, meeting: Meeting) -> str:
        title = f"{self.name(meeting.body)} {meeting.start.year}"
        return f"{title}, {self.name(meeting.group)}" if meeting.group else title

    def reasons(self, meeting: Meeting) -> list[str]:
        """Rendered once per meeting: the JSON and the .ics of one run share them."""
        if meeting.uid not in self._reasons:
            self._reasons[meeting.uid] = [
                render(r.key, r.params, self.language, self.name) for r in meeting.reasons
            ]
        return self._reasons[meeting.uid]

    def problem(self, problem: PlanProblem) -> str:
        return render(problem.key, problem.params, self.language, self.name)

    def participants(self, meeting: Meeting) -> str:
        """Who is invited, as the body's data names them: "Keski-Suomen kunnat", not 22 names."""
        body = self.catalogue.bodies[meeting.body]
        names = [self.name(c) for c in meeting.conveners]
        for member in body.members:
            ident = member.organisation or member.group or ""
            if meeting.group and member.group and meeting.group in self.catalogue.group_members_ids(ident):
                ident = meeting.group
            names.append(self.name(ident))
        return ", ".join(dict.fromkeys(names))

    def location(self, body: Body) -> str | None:
        return body.shape.location.get(self.language) if body.shape.location else None


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
                "status", "sequence", "mode", "location", "reasons")


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
_NO_CONVENER = {"fi": "(ei nimetty)", "sv": "(inte namngiven)", "en": "(not named)"}
_PROBLEMS_HEAD = {"fi": "Huomiot", "sv": "Anmärkningar", "en": "Problems"}
_SEVERITY = {"fi": {"error": "VIRHE", "warning": "huom."},
             "sv": {"error": "FEL", "warning": "obs."},
             "en": {"error": "ERROR", "warning": "note"}}


def plan_table(plan: Plan, renderer: Renderer) -> str:
    lang = renderer.language
    rows = [_TABLE_HEAD[lang]]
    for m in plan.meetings:
        conveners = ", ".join(renderer.name(c) for c in m.conveners) or _NO_CONVENER[lang]
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


def write_ics(plan: Plan, renderer: Renderer, directory: Path, tzid: str, stamp: datetime) -> list[Path]:
    """One ``<body-id>.ics`` per body that has meetings in the plan; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    by_body: dict[str, list[Meeting]] = {}
    for meeting in plan.meetings:
        by_body.setdefault(meeting.body, []).append(meeting)
    written = []
    events = FeedEvents(stamp)
    for body_id, meetings in sorted(by_body.items()):
        path = directory / f"{body_id}.ics"
        tmp = path.with_suffix(".ics.tmp")
        with tmp.open("wb") as handle:
            write_feed(handle.write, tzid, renderer.name(body_id),
                       _events(meetings, renderer, events))
        tmp.replace(path)  # readers never see a half-written calendar
        written.append(path)
    return written


def _events(meetings: list[Meeting], renderer: Renderer, events: FeedEvents) -> Iterator[bytes]:
    body = renderer.catalogue.bodies[meetings[0].body]
    location = renderer.location(body)
    for meeting in meetings:
        yield events.event(meeting, title=renderer.title(meeting),
                           description=_description(meeting, renderer), location=location)


_DESCRIPTION_LABELS = {
    "fi": ("Koollekutsuja", "Osallistujat", "Perusteet"),
    "sv": ("Sammankallare", "Deltagare", "Grunder"),
    "en": ("Convener", "Participants", "Reasons"),
}


def _description(meeting: Meeting, renderer: Renderer) -> str:
    conv, orgs, why = _DESCRIPTION_LABELS[renderer.language]
    conveners = ", ".join(renderer.name(c) for c in meeting.conveners) or _NO_CONVENER[renderer.language]
    return "\n".join([
        f"{conv}: {conveners}",
        f"{orgs}: {renderer.participants(meeting)}",
        f"{why}:",
        *(f"- {line}" for line in renderer.reasons(meeting)),
    ])


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
        conveners = ", ".join(renderer.name(c) for c in body.convener_ids) or _NO_CONVENER[language]
        cadence = ", ".join(_rule_summary(rule) for rule in body.cadence) or "–"
        rows.append((body.id, body.name.get(language), conveners, cadence))
    return "\n".join(_columns(rows)) + "\n"


def _rule_summary(rule: Rule) -> str:
    if isinstance(rule, PerYear | PerTerm):
        low, high = rule.min, rule.max
        if low is not None and high is not None:
            count = str(low) if low == high else f"{low}-{high}"
        else:
            count = f">={low}" if low is not None else f"<={high}"
        return f"{rule.kind} {count}"
    if isinstance(rule, Months):
        return "months " + "/".join(map(str, rule.months))
    if isinstance(rule, Round):
        return f"round {rule.grouping} {rule.weekday}"
    return f"precedes {rule.body}"
