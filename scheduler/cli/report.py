"""The compliance report's renderings (issue 11): the JSON of the report contract
(shared/architecture.md), from which the table and the CSV are made; the HTML page and the
workbook live beside it (``report_html``, ``report_xlsx``).

CSV dialect, for Finnish Excel: UTF-8 with a byte-order mark (without it Excel reads the
file as Windows-1252 and breaks ä and ö), ``;`` between fields (a Finnish Excel expects it,
the comma being the decimal separator), CRLF line ends, ISO dates (2026-02-18, which Excel
reads as dates). One file for every part, its first column ``part`` naming the part
(``compliance``, ``gap``, ``representation``, ``attendance``, ``measure``), so it filters
in Excel and reads with one ``csv.DictReader(f, delimiter=";")``; a part leaves the columns
of the others empty.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from scheduler.messaging.render import Renderer
from scheduler.messaging.report_texts import (
    ANSWER,
    GAP,
    GAP_DEFAULT,
    LABELS,
    STATE,
    STATUS,
    day_text,
    period_text,
    reason_text,
    target_text,
)
from scheduler.planning.compliance import Attendance, Gap, OrganisationTotal, Row, YearSeries
from scheduler.planning.indicators import IndicatorState, MeasureReport
from scheduler.planning.periods import Counts
from scheduler.planning.records import Reason
from scheduler.service.report import Report

# -- JSON (the contract) ------------------------------------------------------------------------


class _Words:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer, self.language = renderer, renderer.language

    def reason(self, reason: Reason) -> str:
        return reason_text(reason, self.language, self.renderer.name)

    def name(self, ident: str) -> str:
        return self.renderer.name(ident)


def report_json(report: Report, renderer: Renderer) -> dict[str, Any]:
    words = _Words(renderer)
    found = report.compliance
    scope = report.scope
    return {
        "scope": {"year": scope.year, "term": scope.term.id, "first": scope.window.first.isoformat(),
                  "last": scope.window.last.isoformat()},
        "generated": report.generated.isoformat(),
        "language": renderer.language,
        "rows": [_row(r, words) for r in found.rows],
        "gaps": [_gap(g, words) for g in found.gaps],
        "representation": [_attendance(a, words) for a in found.representation],
        "representation_totals": [_total(t, words) for t in found.totals],
        "measures": [_measure(m, words) for m in found.measures],
        "chart": [_series(s, words) for s in found.series],
    }


def _target(low: int | None, high: int | None, per: str | None, words: _Words) -> dict[str, Any]:
    return {"min": low, "max": high, "per": per,
            "text": target_text(low, high, per, words.language)}


def _row(row: Row, words: _Words) -> dict[str, Any]:
    target = row.target
    return {
        "body": row.body, "name": words.name(row.body), "period": row.period.id,
        "target": _target(target.min, target.max, target.per, words) if target
        else _target(None, None, None, words),
        "planned": row.counts.planned, "held": row.counts.held,
        "unconfirmed": row.counts.unconfirmed, "cancelled": row.counts.cancelled,
        "status": str(row.status), "status_text": STATUS[words.language][row.status],
        "reason": words.reason(row.reason), "reason_code": row.reason.key,
        "notes": [words.reason(n) for n in row.notes],
        "source": "; ".join(row.sources),
        "rests_on_expired": bool(target and target.rests_on_expired),
        "unit": row.unit, "working_days_left": row.working_days_left,
        "last_held": row.last_held.isoformat() if row.last_held else None,
        "next_planned": row.next_planned.isoformat() if row.next_planned else None,
    }


def _gap(gap: Gap, words: _Words) -> dict[str, Any]:
    text = gap.text.get(words.language) if gap.text else GAP_DEFAULT[words.language][gap.kind]
    return {"body": gap.body, "name": words.name(gap.body), "kind": gap.kind,
            "kind_text": GAP[words.language][gap.kind], "text": text, "sources": list(gap.sources)}


def _attendance(meeting: Attendance, words: _Words) -> dict[str, Any]:
    return {
        "uid": meeting.uid, "body": meeting.body, "name": words.name(meeting.body),
        "group": meeting.group, "date": meeting.day.isoformat(), "status": str(meeting.status),
        "recorded": meeting.recorded, "invited": list(meeting.invited),
        "present": list(meeting.present), "absent": list(meeting.absent),
        "answers": dict(meeting.answers), "minutes_url": meeting.minutes_url,
    }


def _total(total: OrganisationTotal, words: _Words) -> dict[str, Any]:
    return {"organisation": total.organisation, "name": words.name(total.organisation),
            "attended": total.attended, "of": total.of}


def _measure(report: MeasureReport, words: _Words) -> dict[str, Any]:
    measure = report.measure
    language = words.language
    return {
        "id": measure.id, "number": measure.number, "title": measure.title.get(language),
        "responsible": [p.organisation or p.group for p in measure.responsible],
        "responsible_names": [words.name(p.organisation or p.group or "")
                              for p in measure.responsible],
        "bodies": list(measure.bodies),
        "indicators": [_indicator(i, words) for i in report.indicators],
        "deadline": measure.deadline.get(language) if measure.deadline else None,
        "due": measure.due.isoformat() if measure.due else None,
        "source": measure.source,
    }


def _indicator(state: IndicatorState, words: _Words) -> dict[str, Any]:
    indicator = state.indicator
    language = words.language
    return {
        "id": indicator.id, "title": indicator.title.get(language), "kind": indicator.kind,
        "state": str(state.state), "state_text": STATE[language][state.state],
        "on": state.on.isoformat() if state.on else None, "evidence": state.evidence,
        "basis": state.basis, "reason": words.reason(state.reason), "body": indicator.body,
        "period": state.period,
        "target": _target(indicator.min, indicator.max, indicator.per, words)
        if indicator.kind == "count" else None,
        "deadline": indicator.deadline.get(language) if indicator.deadline else None,
        "due": indicator.due.isoformat() if indicator.due else None,
        "derived": str(state.derived) if state.derived else None,
        "source": indicator.source,
    }


def _series(series: YearSeries, words: _Words) -> dict[str, Any]:
    def target(found: Any) -> dict[str, Any] | None:
        return _target(found.min, found.max, found.per, words) if found else None

    return {"body": series.body, "name": words.name(series.body),
            "target": target(series.target), "term_target": target(series.term_target),
            "years": [{"year": year, **_counts(c)} for year, c in series.years],
            "term": _counts(series.term_counts) if series.term_counts else None}


def _counts(counts: Counts) -> dict[str, int]:
    return {"held": counts.held, "planned": counts.planned, "unconfirmed": counts.unconfirmed,
            "cancelled": counts.cancelled}


# -- table ------------------------------------------------------------------------------------


def heading(data: dict[str, Any]) -> str:
    """``Yhteistyöelinten seurantaraportti – vuosi 2026 (valtuustokausi 2025–2029)``."""
    labels = LABELS[data["language"]]
    scope = data["scope"]
    term = f"{labels['term'].lower()} {period_text(scope['term'])}"
    if scope["year"] is None:
        return f"{labels['title']} – {term}"
    return f"{labels['title']} – {labels['year'].lower()} {scope['year']} ({term})"


def report_table(data: dict[str, Any]) -> str:
    language = data["language"]
    labels = LABELS[language]
    made = day_text(datetime.fromisoformat(data["generated"]).date(), language)
    lines = [heading(data), f"{labels['generated']} {made}", ""]
    lines += _section(labels["rows"], list(_row_lines(data, labels)))
    lines += _section(labels["gaps"], [f"- {g['name']} ({g['kind_text']}): {g['text']}"
                                       for g in data["gaps"]])
    lines += _section(labels["representation"], list(_attendance_lines(data, labels)))
    lines += _section(labels["totals"], _columns(
        [(labels["organisation"], labels["attended"], labels["of"])]
        + [(t["name"], str(t["attended"]), str(t["of"])) for t in data["representation_totals"]]
    ) if data["representation_totals"] else [])
    lines += _section(labels["measures"], list(_measure_lines(data, labels)))
    return "\n".join(lines).rstrip() + "\n"


def _section(title: str, body: list[str]) -> list[str]:
    return [title, "=" * len(title), *(body or ["–"]), ""]


def _row_lines(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    """Bodies with a target, each with its reason; then those without, the counts only."""
    head = (labels["body"], labels["period"], labels["target"], labels["held"],
            labels["planned"], labels["unconfirmed"], labels["cancelled"], labels["status"])
    rows = [r for r in data["rows"] if r["status"] != "no-target"]
    cells = [head] + [(r["name"], period_text(r["period"]), r["target"]["text"], str(r["held"]),
                       str(r["planned"]), str(r["unconfirmed"]), str(r["cancelled"]),
                       r["status_text"]) for r in rows]
    table = _columns(cells)
    yield table[0]
    for line, row in zip(table[1:], rows, strict=True):
        yield line
        for text in [row["reason"], *row["notes"]]:
            yield f"    {text}"
    rest = [r for r in data["rows"] if r["status"] == "no-target"]
    if rest:
        yield ""
        yield f"{labels['untargeted']}:"
        yield from (f"  {line}" for line in _columns(
            [(labels["body"], labels["period"], labels["held"], labels["planned"],
              labels["unconfirmed"], labels["cancelled"])]
            + [(r["name"], period_text(r["period"]), str(r["held"]), str(r["planned"]),
                str(r["unconfirmed"]), str(r["cancelled"])) for r in rest]))


def _attendance_lines(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    language = data["language"]
    names = _organisation_names(data)
    for meeting in data["representation"]:
        day = _date_text(meeting["date"], language)
        title = meeting["name"] + (f" ({names.get(meeting['group'], meeting['group'])})"
                                   if meeting["group"] else "")
        yield f"- {day} {title}"
        if meeting["status"] == "held" and meeting["recorded"]:
            yield (f"    {labels['present']} {len(meeting['present'])}/"
                   f"{len(set(meeting['invited']) | set(meeting['present']))}; "
                   f"{labels['absent'].lower()}: "
                   f"{', '.join(names.get(o, o) for o in meeting['absent']) or '–'}")
        elif meeting["status"] == "held":
            yield f"    {labels['present']}: {labels['not_recorded']}"
        if meeting["answers"]:
            yield f"    {labels['answers']}: {answers_text(meeting['answers'], language)}"


def answers_text(answers: dict[str, int], language: str) -> str:
    return ", ".join(f"{ANSWER[language].get(a, a)} {n}" for a, n in answers.items())


def _organisation_names(data: dict[str, Any]) -> dict[str, str]:
    return {t["organisation"]: t["name"] for t in data["representation_totals"]}


def _measure_lines(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    language = data["language"]
    for measure in data["measures"]:
        yield f"{measure['number']}. {measure['title']}"
        yield (f"   {labels['responsible']}: {', '.join(measure['responsible_names']) or '–'}; "
               f"{labels['deadline'].lower()}: {measure['deadline'] or '–'}")
        for indicator in measure["indicators"]:
            on = indicator["on"]
            when = f", {_date_text(on, language)}" if on else ""
            yield f"   - [{indicator['state_text']}{when}] {indicator['title']}"
            yield f"       {indicator['reason']}"
            if indicator["evidence"]:
                yield f"       {labels['evidence']}: {indicator['evidence']}"


def _date_text(iso: str, language: str) -> str:
    return day_text(date.fromisoformat(iso), language)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


# -- CSV --------------------------------------------------------------------------------------

CSV_COLUMNS = ("part", "body", "name", "period", "date", "group", "target_min", "target_max",
               "per", "held", "planned", "unconfirmed", "cancelled", "status", "reason",
               "source", "kind", "organisation", "present", "absent", "answers", "attended",
               "of", "measure", "indicator", "state", "on", "evidence", "uid")


def report_csv(data: dict[str, Any]) -> str:
    """The report as one CSV for Finnish Excel: a BOM, ``;``, CRLF (see the module's doc)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for row in _csv_rows(data):
        writer.writerow({key: _csv_safe(value) for key, value in row.items()})
    return out.getvalue()


def _csv_rows(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    language = data["language"]
    for r in data["rows"]:
        yield {"part": "compliance", "body": r["body"], "name": r["name"], "period": r["period"],
               "target_min": r["target"]["min"], "target_max": r["target"]["max"],
               "per": r["target"]["per"], "held": r["held"], "planned": r["planned"],
               "unconfirmed": r["unconfirmed"], "cancelled": r["cancelled"],
               "status": r["status"], "reason": " ".join([r["reason"], *r["notes"]]),
               "source": r["source"]}
    for g in data["gaps"]:
        yield {"part": "gap", "body": g["body"], "name": g["name"], "kind": g["kind"],
               "reason": g["text"], "source": "; ".join(g["sources"])}
    for m in data["representation"]:
        yield {"part": "representation", "body": m["body"], "name": m["name"], "date": m["date"],
               "group": m["group"], "status": m["status"], "present": " ".join(m["present"]),
               "absent": " ".join(m["absent"]), "answers": answers_text(m["answers"], language),
               "evidence": m["minutes_url"], "uid": m["uid"]}
    for t in data["representation_totals"]:
        yield {"part": "attendance", "organisation": t["organisation"], "name": t["name"],
               "attended": t["attended"], "of": t["of"]}
    for measure in data["measures"]:
        for i in measure["indicators"]:
            yield {"part": "measure", "measure": measure["id"], "name": measure["title"],
                   "indicator": i["id"], "kind": i["kind"], "body": i["body"],
                   "period": i["period"], "state": i["state"], "on": i["on"],
                   "evidence": i["evidence"], "reason": f"{i['title']}: {i['reason']}",
                   "source": i["source"]}


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ runs as a formula in spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


# -- the command ------------------------------------------------------------------------------

FORMATS = ("table", "json", "csv", "html", "xlsx")


def render_report(report: Report, renderer: Renderer, form: str) -> str | bytes:
    """The report in ``form`` (one of FORMATS): text, or the workbook's bytes."""
    data = report_json(report, renderer)
    if form == "json":
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if form == "csv":
        return report_csv(data)
    if form == "html":
        from .report_html import report_html

        return report_html(data)
    if form == "xlsx":
        from .report_xlsx import report_xlsx  # openpyxl is loaded for the workbook only

        return report_xlsx(data)
    return report_table(data)
