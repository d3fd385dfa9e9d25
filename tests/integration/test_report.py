"""`yhdyspinta report` and `measure set` (issue 11) from the command line: the JSON contract,
the advocacy group at risk until its meetings are recorded held, indicators set by hand,
and every format read back (csv with the csv module, html parsed, xlsx with openpyxl).

Most tests run over a copy of the real catalogue with a measures.yaml of their own, so that
they do not depend on how the measures are worded; the last one runs on the real data."""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from scheduler.cli import main
from scheduler.cli.report_xlsx import SHEETS
from tests.conftest import ROOT
from tests.integration.conftest import Installation, at

NOW = at(2026, 12, 2)
ADVOCACY = ("vaikuttamisryhma-2026-1@yhdyspinta", "vaikuttamisryhma-2026-2@yhdyspinta")
MINUTES = "https://liitto.example/poytakirjat/vaikuttamisryhma-1.pdf"
EVIDENCE = "https://hva.example/selvitys-2026.pdf"

MEASURES = """
measures:
  - id: toimenpide-4
    number: 4
    title: {fi: "Yhteinen edunvalvonnan ydinviesti", sv: "Ett gemensamt kärnbudskap", en: "A shared core message"}
    responsible:
      - organisation: liitto
        source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 4"
    bodies: [vaikuttamisryhma]
    indicators:
      - id: vaikuttamisryhma-kokoontunut
        title: {fi: "Vaikuttamisryhmä kokoontunut 2–3 kertaa vuodessa"}
        kind: count
        body: vaikuttamisryhma
        min: 2
        max: 3
        per: year
        source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 4"
    source: "000 yhdyspintasuunnitelma 2026, luku 5"
  - id: toimenpide-5
    number: 5
    title: {fi: "Maakunnallinen valmiusharjoitus", sv: "Beredskapsövning", en: "Preparedness exercise"}
    responsible:
      - group: osapuolet
        source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 5"
    bodies: [valmiusharjoitus]
    indicators:
      - id: harjoitus-toteutettu
        title: {fi: "Harjoitus toteutettu (kyllä/ei)"}
        kind: milestone
        body: valmiusharjoitus
        due: 2029-05-31
        source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 5"
      - id: selvitys-tehty
        title: {fi: "Selvitys tehty (kyllä/ei)"}
        kind: milestone
        deadline: {fi: "vuoden 2026 aikana"}
        due: 2026-12-31
        source: "000 yhdyspintasuunnitelma 2026, luku 5, toimenpide 1"
    deadline: {fi: "valtuustokauden aikana", sv: "under fullmäktigeperioden", en: "during the council term"}
    due: 2029-05-31
    source: "000 yhdyspintasuunnitelma 2026, luku 5"
"""


@pytest.fixture
def bodies(tmp_path: Path) -> Path:
    folder = tmp_path / "bodies"
    shutil.copytree(ROOT / "bodies", folder)
    (folder / "measures.yaml").write_text(MEASURES, encoding="utf-8")
    return folder


class Cli:
    def __init__(self, installation: Installation, bodies: Path,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.installation, self.bodies, self.capsys = installation, bodies, capsys

    def __call__(self, *argv: str, now: datetime = NOW) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--config", str(self.installation.root / "yhdyspinta.toml"),
                     "--bodies", str(self.bodies), *argv], now=now)
        out, err = self.capsys.readouterr()
        return code, out, err

    def report(self, *argv: str) -> dict[str, Any]:
        code, out, err = self("report", "--year", "2026", "--format", "json", *argv)
        assert code == 0, err
        data: dict[str, Any] = json.loads(out)
        return data


@pytest.fixture
def cli(installation: Installation, bodies: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(installation, bodies, capsys)


def row(data: dict[str, Any], body: str, period: str = "2026") -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in data["rows"]
                                   if r["body"] == body and r["period"] == period]
    assert len(found) == 1, found
    return found[0]


def indicator(data: dict[str, Any], ident: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [i for m in data["measures"] for i in m["indicators"]
                                   if i["id"] == ident]
    assert len(found) == 1, found
    return found[0]


def record_advocacy_held(cli: Cli) -> None:
    code, _, err = cli("held", ADVOCACY[0], "--present", "liitto", "hva", "jyvaskyla",
                       "--minutes", MINUTES)
    assert code == 0, err
    code, _, err = cli("held", ADVOCACY[1], "--present", "liitto", "hva")
    assert code == 0, err


# -- the contract and the statuses ------------------------------------------------------------

def test_report_json_follows_the_contract(cli: Cli) -> None:
    data = cli.report()
    assert {"rows", "gaps", "representation", "measures"} <= set(data)
    assert data["scope"] == {"year": 2026, "term": "2025-2029", "first": "2026-01-01",
                             "last": "2026-12-31"}
    for r in data["rows"]:
        assert {"body", "period", "target", "planned", "held", "status", "source",
                "unconfirmed", "cancelled", "reason", "rests_on_expired"} <= set(r)
        assert set(r["target"]) >= {"min", "max", "per"}
        assert r["status"] in {"ok", "at-risk", "missed", "no-target"}
        assert r["reason"]
    for gap in data["gaps"]:
        assert {"body", "kind", "text"} <= set(gap) and gap["kind"] in {"convener", "cadence"}
    for measure in data["measures"]:
        assert {"id", "title", "responsible", "indicators", "deadline", "source"} <= set(measure)
        for one in measure["indicators"]:
            assert {"id", "kind", "state", "on", "evidence"} <= set(one)
            assert one["state"] in {"done", "not-done", "in-progress", "unknown"}
    assert row(data, "kuntakokous")["target"] == {"min": 1, "max": None, "per": "year",
                                                   "text": "vähintään kerran vuodessa"}
    assert row(data, "strateginen-foorumi", "2025-2029")["target"]["per"] == "term"
    assert row(data, "etno")["status"] == "no-target"
    assert {g["body"] for g in data["gaps"]} >= {"etno", "valmiusharjoitus", "kuntajohtajakokous"}


def test_the_advocacy_group_is_at_risk_until_its_meetings_are_recorded_held(cli: Cli) -> None:
    before = row(cli.report(), "vaikuttamisryhma")
    assert (before["status"], before["held"], before["unconfirmed"]) == ("at-risk", 0, 2)
    assert before["target"] == {"min": 2, "max": 3, "per": "year", "text": "2–3 kertaa vuodessa"}
    assert "2 mennyttä kokousta on kirjaamatta" in before["reason"]
    assert "Työpäiviä on jäljellä 20" in before["reason"]
    assert indicator(cli.report(), "vaikuttamisryhma-kokoontunut")["state"] == "in-progress"
    code, _, err = cli("held", ADVOCACY[0])
    assert code == 0, err
    assert row(cli.report(), "vaikuttamisryhma")["status"] == "at-risk"
    record_advocacy_held(cli)
    data = cli.report()
    after = row(data, "vaikuttamisryhma")
    assert (after["status"], after["held"], after["unconfirmed"]) == ("ok", 2, 0)
    assert after["reason"].startswith("Tavoite on saavutettu")
    count = indicator(data, "vaikuttamisryhma-kokoontunut")
    assert (count["state"], count["basis"]) == ("done", "meetings")
    assert count["on"] == after["last_held"] and count["evidence"] == MINUTES
    # representation: who was there, who was not, and in total
    [first, second] = [m for m in data["representation"] if m["body"] == "vaikuttamisryhma"]
    assert first["present"] == ["hva", "jyvaskyla", "liitto"] and first["minutes_url"] == MINUTES
    assert "hva" not in second["absent"] and "jyvaskyla" in second["absent"]
    totals = {t["organisation"]: (t["attended"], t["of"]) for t in data["representation_totals"]}
    assert totals["liitto"] == (2, 2) and totals["jyvaskyla"] == (1, 2)


def test_the_whole_term(cli: Cli) -> None:
    code, out, err = cli("report", "--term", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["scope"]["year"] is None and data["scope"]["term"] == "2025-2029"
    assert [r["period"] for r in data["rows"] if r["body"] == "kuntakokous"] == [
        "2025", "2026", "2027", "2028", "2029"]
    assert row(data, "kuntakokous", "2025")["status"] == "missed"  # nothing recorded for it
    assert row(data, "kuntakokous", "2027")["status"] == "ok"  # on course: planned
    chart = {c["body"]: c for c in data["chart"]}
    assert [y["year"] for y in chart["kuntakokous"]["years"]] == [2025, 2026, 2027, 2028, 2029]


def test_bad_report_arguments_exit_2(cli: Cli) -> None:
    code, _, err = cli("report", "--year", "2040")
    assert code == 2 and "no council term" in err
    code, _, err = cli("report", "--format", "xlsx")
    assert code == 2 and "--output" in err
    with pytest.raises(SystemExit) as both:
        cli("report", "--year", "2026", "--term")
    assert both.value.code == 2


# -- measures set by hand ---------------------------------------------------------------------

def test_measure_set_by_hand_shows_in_the_report(cli: Cli) -> None:
    assert indicator(cli.report(), "selvitys-tehty")["state"] == "unknown"
    code, out, err = cli("measure", "set", "toimenpide-5", "selvitys-tehty", "done",
                         "--on", "2026-11-20", "--evidence", EVIDENCE)
    assert code == 0, err
    assert "toimenpide-5 selvitys-tehty: done on 2026-11-20" in out
    got = indicator(cli.report(), "selvitys-tehty")
    assert (got["state"], got["on"], got["evidence"], got["basis"]) == (
        "done", "2026-11-20", EVIDENCE, "hand")
    code, _, err = cli("measure", "set", "toimenpide-5", "selvitys-tehty", "not-done")
    assert code == 0, err
    got = indicator(cli.report(), "selvitys-tehty")
    assert (got["state"], got["on"], got["evidence"]) == ("not-done", "2026-12-02", None)


@pytest.mark.parametrize(("argv", "words"), [
    (("toimenpide-9", "x", "done"), "the measures are: toimenpide-4, toimenpide-5"),
    (("toimenpide-5", "x", "done"), "its indicators are: harjoitus-toteutettu, selvitys-tehty"),
    (("toimenpide-5", "selvitys-tehty", "done", "--evidence", "http://hva.example/s.pdf"),
     "https://"),
    (("toimenpide-5", "selvitys-tehty", "done", "--evidence", "javascript:alert(1)"), "https://"),
    (("toimenpide-5", "selvitys-tehty", "done", "--on", "2027-01-05"), "still ahead"),
])
def test_measure_set_refuses_what_it_cannot_record(cli: Cli, argv: tuple[str, ...],
                                                   words: str) -> None:
    code, _, err = cli("measure", "set", *argv)
    assert code == 2 and words in err, err
    assert "Traceback" not in err


# -- each format read back --------------------------------------------------------------------

def test_csv_opens_in_finnish_excel(cli: Cli, tmp_path: Path) -> None:
    record_advocacy_held(cli)
    code, _, err = cli("report", "--year", "2026", "--format", "csv", "--output",
                       str(tmp_path / "raportti.csv"))
    assert code == 0, err
    raw = (tmp_path / "raportti.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";")
    rows = list(reader)
    assert reader.fieldnames is not None and reader.fieldnames[0] == "part"
    parts = {r["part"] for r in rows}
    assert parts == {"compliance", "gap", "representation", "attendance", "measure"}
    [advocacy] = [r for r in rows if r["part"] == "compliance" and r["body"] == "vaikuttamisryhma"]
    assert (advocacy["status"], advocacy["held"], advocacy["target_min"]) == ("ok", "2", "2")
    assert advocacy["name"] == "Keski-Suomen vaikuttamisryhmä"  # ä intact
    assert len([r for r in rows if r["part"] == "compliance"]) == len(cli.report()["rows"])


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_a_standalone_printable_page_with_charts(cli: Cli, tmp_path: Path) -> None:
    record_advocacy_held(cli)
    code, out, err = cli("report", "--year", "2026", "--format", "html")
    assert code == 0, err
    page = _Page()
    page.feed(out)
    assert page.tags[0] == ("html", {"lang": "fi"})
    names = [tag for tag, _ in page.tags]
    assert "style" in names and "script" not in names and "link" not in names
    assert not [a for _, a in page.tags if a.get("src")]
    charts = [a for tag, a in page.tags if tag == "svg"]
    assert len(charts) == len(cli.report()["chart"]) >= 5
    assert any(tag == "rect" and a.get("class") == "target" for tag, a in page.tags)
    text = "".join(page.text)
    assert "Tavoitteet ja toteuma" in text and "Keski-Suomen vaikuttamisryhmä" in text
    assert "@media print" in out and "@page" in out
    assert any(a.get("href") == MINUTES for tag, a in page.tags if tag == "a")
    ET.fromstring(out.split("\n", 1)[1])  # well-formed XML as well
    code, out, err = cli("--lang", "sv", "report", "--year", "2026", "--format", "html")
    assert code == 0, err
    assert '<html lang="sv">' in out and "Mål och utfall" in out


def test_xlsx_has_a_sheet_per_part_frozen_headers_and_dates(cli: Cli, tmp_path: Path) -> None:
    record_advocacy_held(cli)
    path = tmp_path / "raportti.xlsx"
    code, out, err = cli("report", "--year", "2026", "--format", "xlsx", "--output", str(path))
    assert code == 0, err
    assert str(path) in out
    book = load_workbook(path)
    assert book.sheetnames == list(SHEETS)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    targets = book["Tavoitteet"]
    head = [c.value for c in targets[1]]
    assert head[:3] == ["Elin", "Kausi", "Vähintään"] and "Tila" in head
    status = head.index("Tila") + 1
    statuses = {targets.cell(r, 1).value: targets.cell(r, status).value
                for r in range(2, targets.max_row + 1) if targets.cell(r, 2).value == "2026"}
    assert statuses["Keski-Suomen vaikuttamisryhmä"] == "kunnossa"
    meetings = book["Edustus"]
    days = [meetings.cell(r, 1) for r in range(2, meetings.max_row + 1)]
    assert days and all(isinstance(c.value, datetime) for c in days)
    assert days[0].number_format == "d.m.yyyy"
    assert date(2026, 2, 18) in [c.value.date() for c in days if isinstance(c.value, datetime)]


def test_table_is_the_default(cli: Cli) -> None:
    code, out, err = cli("report")
    assert code == 0, err
    assert out.startswith("Yhteistyöelinten seurantaraportti – vuosi 2026 (valtuustokausi 2025–2029)")
    assert "Keski-Suomen vaikuttamisryhmä" in out and "vaarassa" in out


# -- acceptance on the real data --------------------------------------------------------------

@pytest.mark.skipif(not (ROOT / "bodies" / "measures.yaml").is_file(),
                    reason="waits for bodies/measures.yaml")
def test_issue_11_report_2026_on_the_real_data(installation: Installation,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(installation, ROOT / "bodies", capsys)
    data = cli.report()
    kuntakokous = row(data, "kuntakokous")
    assert (kuntakokous["status"], kuntakokous["last_held"]) == ("ok", "2026-02-18")
    assert row(data, "vaikuttamisryhma")["status"] == "at-risk"
    catalogue = json.loads(cli("bodies", "--format", "json")[1])
    open_ = {b["id"] for b in catalogue if not b["conveners"] or not b["rules"]
             or b["gaps"].get("conveners") or b["gaps"].get("cadence")}
    assert {g["body"] for g in data["gaps"]} == open_
    assert [m["number"] for m in data["measures"]] == [1, 2, 3, 4, 5]
    assert all(m["indicators"] for m in data["measures"])
    record_advocacy_held(cli)
    data = cli.report()
    assert row(data, "vaikuttamisryhma")["status"] == "ok"
    counted = [i for m in data["measures"] for i in m["indicators"]
               if i["kind"] == "count" and i["body"] == "vaikuttamisryhma"]
    assert counted and all(i["state"] == "done" for i in counted)
