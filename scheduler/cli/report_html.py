"""The report as one standalone HTML page for the follow-up meeting (issue 11): the reader's
language in ``lang``, styles inline and fit to print (A4 landscape, headers repeated, rows
kept whole), and per body a bar chart of meetings per year against its target drawn as
inline SVG on the server. Nothing is fetched from anywhere: no scripts, fonts, images or style sheets.

The page is well-formed XML as well as HTML (void elements closed, only numeric character
references), so it can be checked with an XML parser too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from html import escape
from typing import Any

from scheduler.messaging.report_texts import LABELS, day_text, period_text

from .report import answers_text, heading

_CSS = """
:root { --ok: #2e7d32; --risk: #b26a00; --missed: #c62828; --none: #607d8b; }
body { font-family: system-ui, "Segoe UI", Arial, sans-serif; font-size: 10.5pt;
       color: #1a1a1a; margin: 2em auto; max-width: 80em; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 2px solid #1a1a1a; padding-bottom: 0.15em;
     margin-top: 1.8em; }
.meta { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.45em; text-align: left;
         vertical-align: top; }
th { background: #eee; font-size: 0.9em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; white-space: nowrap; }
.ok { color: var(--ok); } .at-risk { color: var(--risk); } .missed { color: var(--missed); }
.no-target { color: var(--none); }
.done { color: var(--ok); } .in-progress { color: var(--risk); }
.not-done { color: var(--missed); } .unknown { color: var(--none); }
.note { color: #444; font-size: 0.92em; display: block; margin-top: 0.2em; }
.source { color: #666; font-size: 0.85em; }
td.reason { width: 36%; overflow-wrap: anywhere; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; width: 17em; }
figcaption { font-size: 0.9em; }
.legend span { margin-right: 1.2em; white-space: nowrap; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: -0.1em;
          margin-right: 0.3em; border: 1px solid #666; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9.5pt; }
  thead { display: table-header-group; }
  tr, figure, li { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  a[href]::after { content: " (" attr(href) ")"; font-size: 0.85em; word-break: break-all; }
}
"""

_HELD, _UNCONFIRMED, _PLANNED, _BAND = "#2e7d32", "#f2b233", "#b0bec5", "#1565c0"


def report_html(data: dict[str, Any]) -> str:
    language = data["language"]
    labels = LABELS[language]
    title = heading(data)
    made = day_text(datetime.fromisoformat(data["generated"]).date(), language)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{_e(labels['title'])}</h1>",
        (f'<p class="meta">{_e(title.split(" – ", 1)[-1])} · {_e(labels["generated"])} '
        f"{_e(made)}</p></header>"),
        *_rows(data, labels),
        *_charts(data, labels),
        *_untargeted(data, labels),
        *_gaps(data, labels),
        *_representation(data, labels),
        *_measures(data, labels),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: object) -> str:
    return escape("–" if value is None else str(value), quote=True)


def _table(head: list[str], rows: list[list[str]]) -> Iterator[str]:
    """``rows`` hold cells already rendered (``<td>…</td>``)."""
    yield "<table>"
    yield "<thead><tr>" + "".join(f'<th scope="col">{_e(h)}</th>' for h in head) + "</tr></thead>"
    yield "<tbody>"
    for row in rows:
        yield "<tr>" + "".join(row) + "</tr>"
    yield "</tbody></table>"


def _td(value: object, cls: str = "") -> str:
    return f'<td class="{cls}">{_e(value)}</td>' if cls else f"<td>{_e(value)}</td>"


def _rows(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    yield f'<section id="rows"><h2>{_e(labels["rows"])}</h2>'
    head = [labels[k] for k in ("body", "period", "target", "held", "planned", "unconfirmed",
                                "cancelled", "status", "reason")]
    rows = []
    for r in (r for r in data["rows"] if r["status"] != "no-target"):
        notes = "".join(f'<span class="note">{_e(n)}</span>' for n in r["notes"])
        source = f'<span class="note source">{_e(labels["source"])}: {_e(r["source"])}</span>'
        rows.append([_td(r["name"]), _td(period_text(r["period"])), _td(r["target"]["text"]),
                     _td(r["held"], "n"), _td(r["planned"], "n"), _td(r["unconfirmed"], "n"),
                     _td(r["cancelled"], "n"),
                     _td(r["status_text"], f"status {r['status']}"),
                     f'<td class="reason">{_e(r["reason"])}{notes}{source}</td>'])
    yield from _table(head, rows)
    yield "</section>"


def _untargeted(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    """Bodies without a count of their own, after the charts: a long list, read last."""
    yield f'<section id="untargeted"><h3>{_e(labels["untargeted"])}</h3>'
    rest = [[_td(r["name"]), _td(period_text(r["period"])), _td(r["held"], "n"),
             _td(r["planned"], "n"), _td(r["unconfirmed"], "n"), _td(r["cancelled"], "n")]
            for r in data["rows"] if r["status"] == "no-target"]
    yield from _table([labels[k] for k in ("body", "period", "held", "planned", "unconfirmed",
                                           "cancelled")], rest)
    yield "</section>"


def _gaps(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    yield f'<section id="gaps"><h2>{_e(labels["gaps"])}</h2>'
    rows = [[_td(g["name"]), _td(g["kind_text"]), _td(g["text"])] for g in data["gaps"]]
    yield from _table([labels["body"], labels["gap"], labels["text"]], rows)
    yield "</section>"


def _representation(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    language = data["language"]
    names = {t["organisation"]: t["name"] for t in data["representation_totals"]}
    yield f'<section id="representation"><h2>{_e(labels["representation"])}</h2>'
    rows = []
    for m in data["representation"]:
        present = ", ".join(names.get(o, o) for o in m["present"]) if m["recorded"] \
            else labels["not_recorded"]
        minutes = f'<td><a href="{_e(m["minutes_url"])}">{_e(labels["minutes"])}</a></td>' \
            if m["minutes_url"] else _td(None)
        rows.append([_td(day_text(date.fromisoformat(m["date"]), language)), _td(m["name"]),
                     _td(present), _td(", ".join(names.get(o, o) for o in m["absent"]) or None),
                     _td(answers_text(m["answers"], language) or None), minutes])
    yield from _table([labels[k] for k in ("day", "body", "present", "absent", "answers",
                                           "minutes")], rows)
    yield f'<h3>{_e(labels["totals"])}</h3>'
    totals = [[_td(t["name"]), _td(t["attended"], "n"), _td(t["of"], "n")]
              for t in data["representation_totals"]]
    yield from _table([labels["organisation"], labels["attended"], labels["of"]], totals)
    yield "</section>"


def _measures(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    language = data["language"]
    yield f'<section id="measures"><h2>{_e(labels["measures"])}</h2>'
    for m in data["measures"]:
        yield f"<h3>{_e(m['number'])}. {_e(m['title'])}</h3>"
        yield (f'<p class="meta">{_e(labels["responsible"])}: '
               f"{_e(', '.join(m['responsible_names']) or None)} · {_e(labels['deadline'])}: "
               f"{_e(m['deadline'])}</p>")
        rows = []
        for i in m["indicators"]:
            on = day_text(date.fromisoformat(i["on"]), language) if i["on"] else None
            evidence = f'<td><a href="{_e(i["evidence"])}">{_e(labels["evidence"])}</a></td>' \
                if i["evidence"] else _td(None)
            rows.append([_td(i["title"]), _td(i["state_text"], f"status {i['state']}"), _td(on),
                         evidence, _td(i["reason"])])
        yield from _table([labels[k] for k in ("indicator", "state", "on", "evidence", "reason")],
                          rows)
    yield "</section>"


# -- the chart ----------------------------------------------------------------------------------

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 250, 140, 26, 8, 10, 22


def _charts(data: dict[str, Any], labels: dict[str, str]) -> Iterator[str]:
    yield f'<section id="chart"><h2>{_e(labels["chart"])}</h2>'
    yield ('<p class="legend">'
           f'<span><i class="swatch" style="background:{_HELD}"></i>{_e(labels["held"])}</span>'
           f'<span><i class="swatch" style="background:{_UNCONFIRMED}"></i>'
           f'{_e(labels["unconfirmed"])}</span>'
           f'<span><i class="swatch" style="background:{_PLANNED}"></i>{_e(labels["planned"])}'
           f'</span><span><i class="swatch" style="background:{_BAND};opacity:0.3"></i>'
           f'{_e(labels["target_band"].capitalize())}</span></p>')
    yield '<div class="charts">'
    for series in data["chart"]:
        yield "<figure>"
        yield chart_svg(series, labels)
        target = series["target"] or series["term_target"]
        caption = f"{series['name']}: {labels['target'].lower()} {target['text']}"
        if series["term"] is not None and series["term_target"]:
            caption += (f" ({labels['held'].lower()} {series['term']['held']}, "
                        f"{labels['planned'].lower()} {series['term']['planned']})")
        yield f"<figcaption>{_e(caption)}</figcaption>"
        yield "</figure>"
    yield "</div></section>"


def chart_svg(series: dict[str, Any], labels: dict[str, str]) -> str:
    """Stacked bars (held, unconfirmed, planned) per year, the yearly target as a band."""
    years = series["years"]
    target = series["target"]
    tops = [y["held"] + y["unconfirmed"] + y["planned"] for y in years]
    band = (target["min"] or 0, target["max"]) if target else None
    scale = max([*tops, *(b for b in band or () if b is not None), 1]) + 1
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / max(len(years), 1)

    def y(value: float) -> float:
        return float(round(_TOP + plot_h * (1 - value / scale), 1))

    title = f"{series['name']}: {labels['chart'].lower()}"
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" '
           f'height="{_H}" role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>')]
    for tick in range(0, scale + 1, 1 if scale <= 6 else max(1, scale // 5)):
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(tick)}" y2="{y(tick)}" '
                   'stroke="#ddd" stroke-width="0.5" />')
        out.append(f'<text x="{_LEFT - 4}" y="{y(tick) + 3}" font-size="9" '
                   f'text-anchor="end">{tick}</text>')
    if band is not None:
        low, high = band[0], band[1] if band[1] is not None else scale
        out.append(f'<rect class="target" x="{_LEFT}" y="{y(high)}" width="{_W - _LEFT - _RIGHT}" '
                   f'height="{max(y(low) - y(high), 1.5)}" fill="{_BAND}" fill-opacity="0.15">'
                   f"<title>{_e(labels['target_band'])}: {_e(target['text'])}</title></rect>")
    for i, year in enumerate(years):
        out.extend(_bar(year, _LEFT + i * slot, slot, y, labels))
    if band is not None and band[0]:
        out.append(f'<line class="minimum" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(band[0])}" '
                   f'y2="{y(band[0])}" stroke="{_BAND}" stroke-width="1.5" stroke-dasharray="4 3" />')
    out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(0)}" y2="{y(0)}" stroke="#333" />')
    out.append("</svg>")
    return "".join(out)


def _bar(year: dict[str, Any], x: float, slot: float, y: Callable[[float], float],
         labels: dict[str, str]) -> Iterator[str]:
    width = round(slot * 0.6, 1)
    left = round(x + slot * 0.2, 1)
    base = 0
    tip = (f"{year['year']}: {labels['held'].lower()} {year['held']}, "
           f"{labels['unconfirmed'].lower()} {year['unconfirmed']}, "
           f"{labels['planned'].lower()} {year['planned']}, "
           f"{labels['cancelled'].lower()} {year['cancelled']}")
    yield f'<g class="year"><title>{_e(tip)}</title>'
    for key, colour in (("held", _HELD), ("unconfirmed", _UNCONFIRMED), ("planned", _PLANNED)):
        if year[key]:
            top = base + year[key]
            yield (f'<rect class="{key}" x="{left}" y="{y(top)}" width="{width}" '
                   f'height="{round(y(base) - y(top), 1)}" fill="{colour}" stroke="#555" '
                   'stroke-width="0.5" />')
            base = top
    yield (f'<text x="{round(left + width / 2, 1)}" y="{_H - 8}" font-size="9" '
           f'text-anchor="middle">{year["year"]}</text></g>')
