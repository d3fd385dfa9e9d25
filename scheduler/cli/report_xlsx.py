"""The report as an Excel workbook (openpyxl, issue 11): one sheet per part, headers in the
reader's language (Finnish by default) in a bold, frozen first row with a filter, dates as
real date cells (``d.m.yyyy``), links as hyperlinks. Sheet names are the Finnish ones in
every language, so that formulas and macros of other workbooks find them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler.messaging.report_texts import LABELS, period_text

from .report import answers_text, heading

SHEETS = ("Tavoitteet", "Aukot", "Edustus", "Edustus yhteensä", "Toimenpiteet")
DATE_FORMAT = "d.m.yyyy"
_FILL = {"ok": "C8E6C9", "at-risk": "FFE0B2", "missed": "FFCDD2", "no-target": "ECEFF1",
         "done": "C8E6C9", "in-progress": "FFE0B2", "not-done": "FFCDD2", "unknown": "ECEFF1"}


def report_xlsx(data: dict[str, Any]) -> bytes:
    labels = LABELS[data["language"]]
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has one sheet
    book.remove(first)
    _rows(book.create_sheet(SHEETS[0]), data, labels)
    _gaps(book.create_sheet(SHEETS[1]), data, labels)
    _representation(book.create_sheet(SHEETS[2]), data, labels)
    _totals(book.create_sheet(SHEETS[3]), data, labels)
    _measures(book.create_sheet(SHEETS[4]), data, labels)
    book.properties.title = heading(data)
    book.properties.created = datetime.fromisoformat(data["generated"]).replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


@dataclass(frozen=True)
class _Link:
    text: str
    url: str


@dataclass(frozen=True)
class _Coded:
    """A status or state: its words shown, its code colouring the cell."""

    text: str
    code: str


def _fill(sheet: Worksheet, head: Sequence[str], rows: Sequence[Sequence[Any]],
          widths: Sequence[int]) -> None:
    sheet.append(list(head))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for line, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(line, column)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if isinstance(value, _Link):
                cell.value, cell.hyperlink = value.text, value.url
                cell.font = Font(color="0563C1", underline="single")
            elif isinstance(value, _Coded):
                cell.value, cell.font = value.text, Font(bold=True)
                cell.fill = PatternFill("solid", fgColor=_FILL.get(value.code, "FFFFFF"))
            else:
                cell.value = value
                if isinstance(value, date):
                    cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _rows(sheet: Worksheet, data: dict[str, Any], labels: dict[str, str]) -> None:
    head = [labels[k] for k in ("body", "period", "min", "max", "target", "held", "planned",
                                "unconfirmed", "cancelled", "status", "reason", "source")]
    rows = [[r["name"], period_text(r["period"]), r["target"]["min"], r["target"]["max"],
             r["target"]["text"], r["held"], r["planned"], r["unconfirmed"], r["cancelled"],
             _Coded(r["status_text"], r["status"]), " ".join([r["reason"], *r["notes"]]), r["source"]]
            for r in data["rows"]]
    _fill(sheet, head, rows, (30, 11, 10, 10, 24, 8, 11, 13, 9, 13, 70, 50))


def _gaps(sheet: Worksheet, data: dict[str, Any], labels: dict[str, str]) -> None:
    rows = [[g["name"], g["kind_text"], g["text"], "; ".join(g["sources"])] for g in data["gaps"]]
    _fill(sheet, [labels["body"], labels["gap"], labels["text"], labels["source"]], rows,
          (34, 16, 80, 50))


def _representation(sheet: Worksheet, data: dict[str, Any], labels: dict[str, str]) -> None:
    language = data["language"]
    names = {t["organisation"]: t["name"] for t in data["representation_totals"]}
    rows = []
    for m in data["representation"]:
        present = ", ".join(names.get(o, o) for o in m["present"]) if m["recorded"] \
            else labels["not_recorded"]
        rows.append([_day(m["date"]), m["name"], m["group"], present,
                     ", ".join(names.get(o, o) for o in m["absent"]),
                     answers_text(m["answers"], language),
                     _Link(labels["minutes"], m["minutes_url"]) if m["minutes_url"] else None])
    head = [labels[k] for k in ("day", "body", "group", "present", "absent", "answers", "minutes")]
    _fill(sheet, head, rows, (12, 30, 12, 50, 50, 30, 14))


def _totals(sheet: Worksheet, data: dict[str, Any], labels: dict[str, str]) -> None:
    rows = [[t["name"], t["attended"], t["of"]] for t in data["representation_totals"]]
    _fill(sheet, [labels["organisation"], labels["attended"], labels["of"]], rows, (34, 13, 11))


def _measures(sheet: Worksheet, data: dict[str, Any], labels: dict[str, str]) -> None:
    rows = [[m["number"], m["title"], ", ".join(m["responsible_names"]), i["title"],
             _Coded(i["state_text"], i["state"]), _day(i["on"]),
             _Link(i["evidence"], i["evidence"]) if i["evidence"] else None,
             i["reason"], i["deadline"] or m["deadline"], _day(i["due"] or m["due"])]
            for m in data["measures"] for i in m["indicators"]]
    head = ["#", *(labels[k] for k in ("measure", "responsible", "indicator", "state", "on",
                                       "evidence", "reason", "deadline", "due"))]
    _fill(sheet, head, rows, (4, 40, 30, 50, 14, 12, 40, 60, 24, 12))
