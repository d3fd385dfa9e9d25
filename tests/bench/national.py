"""Generate a deterministic, national-scale catalogue of bodies for the benchmark.

Usage::

    .venv/bin/python tests/bench/national.py OUTDIR [--bodies 2500] [--seed 2026] [--verify]

Writes ``region.yaml``, ``organisations.yaml``, ``groups.yaml`` and one ``<body-id>.yaml`` per
body into OUTDIR. The catalogue looks like Finland: the 18 regions (Åland excluded) with their
regional councils, 21 wellbeing services counties (Uusimaa split in four) and ~300 synthetic
municipalities, a ``kunnat-<region>`` and an ``osapuolet-<region>`` grouping per region and a
HYTE-like ``hyte-<region>`` grouping partitioning the region's municipalities into 3-6
members. Bodies mix every rule kind of the real catalogue: per-year (min 1, 2-3, >= 2, a
planned 4), per-term once, months windows, rounds over the HYTE grouping on Thursdays,
preparatory bodies (``precedes``, ``per_group`` before rounds), known meetings, and bodies
with empty conveners or cadence explained under ``gaps``.

Conveners are spread so that clashes occur (several bodies per county, council and centre
city, ideal days that coincide: at 2,500 bodies about a quarter of the planned meetings move
off their ideal day because the convener is busy) while the plan stays feasible, with no
errors. ``--verify`` runs ``yhdyspinta check`` on the result and fails unless it exits 0.
``check`` plans from *today* to the end of the term, so its outcome depends on the date: the
year in progress is squeezed into its remaining weeks, and a preparatory meeting whose window
began before today has only the rest of it. The catalogue is written as maintained on
22.11.2026: rounds held in 2026, and a share of other 2026 meetings, are recorded as held.

Pure standard library plus PyYAML; the same ``--seed`` and ``--bodies`` give the same files.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

MARKER = ".national-bench"
# Share of per-year bodies whose 2026 meetings are recorded as held: of those convened by a
# county, a regional council or a centre city (busy conveners), and of the others.
HELD_BUSY = 0.5
HELD_OTHER = 0.15
DEFAULT_BODIES = 2500
DEFAULT_SEED = 2026
REPO = Path(__file__).resolve().parents[2]

# -- Finland, roughly: (id, fi, fi genitive, sv, sv genitive, en, municipalities, counties) ------

_UUSIMAA_COUNTIES = (
    ("ita-uusimaa", "Itä-Uudenmaan", "Östra Nylands", "Eastern Uusimaa"),
    ("keski-uusimaa", "Keski-Uudenmaan", "Mellersta Nylands", "Central Uusimaa"),
    ("lansi-uusimaa", "Länsi-Uudenmaan", "Västra Nylands", "Western Uusimaa"),
    ("vantaa-kerava", "Vantaan ja Keravan", "Vanda och Kervos", "Vantaa and Kerava"),
)

_REGIONS: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("uusimaa", "Uusimaa", "Uudenmaan", "Nyland", "Nylands", "Uusimaa", 26),
    ("varsinais-suomi", "Varsinais-Suomi", "Varsinais-Suomen", "Egentliga Finland",
     "Egentliga Finlands", "Southwest Finland", 27),
    ("satakunta", "Satakunta", "Satakunnan", "Satakunta", "Satakuntas", "Satakunta", 16),
    ("kanta-hame", "Kanta-Häme", "Kanta-Hämeen", "Egentliga Tavastland", "Egentliga Tavastlands",
     "Kanta-Häme", 11),
    ("pirkanmaa", "Pirkanmaa", "Pirkanmaan", "Birkaland", "Birkalands", "Pirkanmaa", 23),
    ("paijat-hame", "Päijät-Häme", "Päijät-Hämeen", "Päijänne-Tavastland",
     "Päijänne-Tavastlands", "Päijät-Häme", 10),
    ("kymenlaakso", "Kymenlaakso", "Kymenlaakson", "Kymmenedalen", "Kymmenedalens",
     "Kymenlaakso", 6),
    ("etela-karjala", "Etelä-Karjala", "Etelä-Karjalan", "Södra Karelen", "Södra Karelens",
     "South Karelia", 9),
    ("etela-savo", "Etelä-Savo", "Etelä-Savon", "Södra Savolax", "Södra Savolax", "South Savo", 12),
    ("pohjois-savo", "Pohjois-Savo", "Pohjois-Savon", "Norra Savolax", "Norra Savolax",
     "North Savo", 19),
    ("pohjois-karjala", "Pohjois-Karjala", "Pohjois-Karjalan", "Norra Karelen", "Norra Karelens",
     "North Karelia", 13),
    ("keski-suomi", "Keski-Suomi", "Keski-Suomen", "Mellersta Finland", "Mellersta Finlands",
     "Central Finland", 22),
    ("etela-pohjanmaa", "Etelä-Pohjanmaa", "Etelä-Pohjanmaan", "Södra Österbotten",
     "Södra Österbottens", "South Ostrobothnia", 18),
    ("pohjanmaa", "Pohjanmaa", "Pohjanmaan", "Österbotten", "Österbottens", "Ostrobothnia", 14),
    ("keski-pohjanmaa", "Keski-Pohjanmaa", "Keski-Pohjanmaan", "Mellersta Österbotten",
     "Mellersta Österbottens", "Central Ostrobothnia", 8),
    ("pohjois-pohjanmaa", "Pohjois-Pohjanmaa", "Pohjois-Pohjanmaan", "Norra Österbotten",
     "Norra Österbottens", "North Ostrobothnia", 30),
    ("kainuu", "Kainuu", "Kainuun", "Kajanaland", "Kajanalands", "Kainuu", 8),
    ("lappi", "Lappi", "Lapin", "Lappland", "Lapplands", "Lapland", 21),
)

# Synthetic municipality names: a stem and an ending with its Finnish genitive.
_STEMS = (
    "Hirvi", "Kuusi", "Koivu", "Petäjä", "Kivi", "Pihlaja", "Leppä", "Haapa", "Mänty", "Karhu",
    "Kettu", "Joutsen", "Kurki", "Sorsa", "Lohi", "Hauki", "Ahven", "Rauta", "Kulta", "Savi",
    "Hiekka", "Sammal", "Kaisla", "Tammi", "Vaahtera", "Paju", "Kataja", "Kalla", "Ilves", "Kontio",
    "Metso", "Teeri", "Kotka", "Susi", "Orava", "Majava", "Saukko", "Pöllö", "Harmaa", "Valko",
)
_ENDINGS = (
    ("järvi", "järven"), ("joki", "joen"), ("lahti", "lahden"), ("koski", "kosken"),
    ("salmi", "salmen"), ("vesi", "veden"), ("niemi", "niemen"), ("mäki", "mäen"),
    ("ranta", "rannan"), ("saari", "saaren"), ("kylä", "kylän"), ("harju", "harjun"),
    ("lampi", "lammen"), ("kangas", "kankaan"), ("vaara", "vaaran"), ("linna", "linnan"),
    ("virta", "virran"), ("selkä", "selän"),
)

# Body topics and kinds: (slug, fi, sv, en).
_TOPICS = (
    ("tyollisyys", "työllisyys", "sysselsättning", "employment"),
    ("kotouttaminen", "kotouttaminen", "integration", "integration"),
    ("maankaytto", "maankäyttö", "markanvändning", "land use"),
    ("ict", "tietohallinto", "dataförvaltning", "ICT"),
    ("perhekeskus", "perhekeskus", "familjecenter", "family centre"),
    ("oppilashuolto", "oppilashuolto", "elevvård", "pupil welfare"),
    ("tilahallinta", "tilahallinta", "lokalförvaltning", "premises"),
    ("varautuminen", "varautuminen", "beredskap", "preparedness"),
    ("liikenne", "liikenne", "trafik", "transport"),
    ("ymparisto", "ympäristö", "miljö", "environment"),
    ("elinvoima", "elinvoima", "livskraft", "vitality"),
    ("hyte", "hyvinvoinnin edistäminen", "välfärdsfrämjande", "wellbeing promotion"),
    ("ikaantyneet", "ikääntyneet", "äldre", "older people"),
    ("nuoret", "nuoret", "unga", "young people"),
    ("kulttuuri", "kulttuuri", "kultur", "culture"),
    ("liikunta", "liikunta", "motion", "physical activity"),
    ("asuminen", "asuminen", "boende", "housing"),
    ("digitalisaatio", "digitalisaatio", "digitalisering", "digitalisation"),
    ("talous", "talous", "ekonomi", "finance"),
    ("tietopohja", "tietopohja", "kunskapsunderlag", "knowledge base"),
    ("paihdetyo", "päihdetyö", "missbruksarbete", "substance abuse work"),
    ("mielenterveys", "mielenterveys", "mental hälsa", "mental health"),
    ("vammaispalvelut", "vammaispalvelut", "handikappservice", "disability services"),
    ("lastensuojelu", "lastensuojelu", "barnskydd", "child protection"),
    ("opiskeluhuolto", "opiskeluhuolto", "studerandevård", "student welfare"),
    ("osallisuus", "osallisuus", "delaktighet", "participation"),
    ("jarjestot", "järjestöyhteistyö", "organisationssamarbete", "NGO cooperation"),
    ("ruokapalvelut", "ruokapalvelut", "kosttjänster", "catering"),
)
_KINDS = (
    ("verkosto", "Verkosto", "Nätverk", "Network"),
    ("tyoryhma", "Työryhmä", "Arbetsgrupp", "Working group"),
    ("ohjausryhma", "Ohjausryhmä", "Styrgrupp", "Steering group"),
    ("yhteistyoryhma", "Yhteistyöryhmä", "Samarbetsgrupp", "Cooperation group"),
    ("johtoryhma", "Johtoryhmä", "Ledningsgrupp", "Management group"),
    ("foorumi", "Foorumi", "Forum", "Forum"),
    ("neuvottelukunta", "Neuvottelukunta", "Delegation", "Advisory board"),
)

_WEEKDAY_SETS: tuple[tuple[list[str], int], ...] = (
    (["tue", "wed", "thu"], 45),
    (["mon", "tue", "wed", "thu", "fri"], 20),
    (["mon", "tue", "wed", "thu"], 15),
    (["tue", "thu"], 12),
    (["wed"], 4),
    (["tue", "wed", "thu", "fri"], 4),
)
# Months windows of per-year bodies. None reaches December: a window ending in the last weeks
# of a year would leave `check`, run late in the year, no room for that year's meeting.
_MONTH_WINDOWS: tuple[list[int], ...] = (
    [1, 2, 3], [2, 3], [3, 4, 5], [4, 5], [5], [5, 6], [8, 9], [9, 10], [1, 2, 3, 4, 5, 6],
    [8, 9, 10, 11], [2, 3, 4, 5],
)
_PREFERRED: tuple[list[int], ...] = ([2], [3], [9], [10], [3, 4], [9, 10], [1, 2])
# (kind, weight) of an ordinary body; rounds and their preparation are added per region.
_BODY_KINDS: tuple[tuple[str, int], ...] = (
    ("per-year-1", 22),
    ("per-year-1-preferred", 6),
    ("per-year-2-3", 13),
    ("per-year-ge2", 8),
    ("per-year-plan4", 3),
    ("per-year-months", 10),
    ("per-term", 7),
    ("precedes", 9),
    ("no-cadence", 7),
)
# (convener pattern, weight)
_CONVENERS: tuple[tuple[str, int], ...] = (
    ("municipality", 56),
    ("county", 9),
    ("council", 9),
    ("county+council", 3),
    ("centre+county", 3),
    ("municipality+county", 3),
    ("none", 6),
)
# Finnish public holidays of 2026 (for known meetings only; the planner uses `holidays`).
_HOLIDAYS_2026 = {date(2026, 1, 1), date(2026, 1, 6), date(2026, 4, 3), date(2026, 4, 6),
                  date(2026, 5, 1), date(2026, 5, 14), date(2026, 6, 19), date(2026, 12, 24),
                  date(2026, 12, 25)}
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Region:
    id: str
    fi: str
    fi_gen: str
    sv: str
    sv_gen: str
    en: str
    municipalities: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    counties: list[str] = field(default_factory=list)
    county_of: dict[str, str] = field(default_factory=dict)
    hyte_members: list[str] = field(default_factory=list)

    @property
    def centre(self) -> str:
        return self.municipalities[0]

    @property
    def council(self) -> str:
        return f"{self.id}-liitto"

    @property
    def ngo(self) -> str:
        return f"{self.id}-jarjestot"

    @property
    def kunnat(self) -> str:
        return f"kunnat-{self.id}"

    @property
    def osapuolet(self) -> str:
        return f"osapuolet-{self.id}"

    @property
    def hyte(self) -> str:
        return f"hyte-{self.id}"


@dataclass
class Stats:
    """What was generated, for the summary line."""

    kinds: dict[str, int] = field(default_factory=dict)
    known: int = 0

    def add(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


class _Dumper(yaml.SafeDumper):
    """Safe dumper that never writes anchors and aliases (the loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(path: Path, header: str, data: Any) -> None:
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
                     default_flow_style=False)
    path.write_text(f"# {header}\n{text}", encoding="utf-8")


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", " ": "-"})
    return text.lower().translate(table)


def _business_id(rng: random.Random, used: set[str]) -> str:
    """A y-tunnus with a valid check digit (weights 7 9 10 5 8 4 2, modulus 11)."""
    while True:
        digits = f"{rng.randrange(1_000_000, 9_999_999):07d}"
        rest = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if rest == 1:
            continue
        value = f"{digits}-{0 if rest == 0 else 11 - rest}"
        if value not in used:
            used.add(value)
            return value


def _names(fi: str, sv: str, en: str) -> dict[str, str]:
    return {"fi": fi, "sv": sv, "en": en}


def _weighted(rng: random.Random, table: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([item for item, _ in table], weights=[w for _, w in table])[0]


# -- organisations and groupings -------------------------------------------------------------


def build_regions(rng: random.Random) -> list[Region]:
    pool = [(stem, end) for stem in _STEMS for end in _ENDINGS]
    rng.shuffle(pool)
    regions = []
    for rid, fi, fi_gen, sv, sv_gen, en, count in _REGIONS:
        region = Region(rid, fi, fi_gen, sv, sv_gen, en)
        for _ in range(count):
            stem, (ending, genitive) = pool.pop()
            name = stem + ending
            mid = _slug(name)
            region.municipalities.append(mid)
            region.names[mid] = name
            region.names[mid + ":gen"] = stem + genitive
        if rid == "uusimaa":
            region.counties = [f"{cid}-hva" for cid, *_ in _UUSIMAA_COUNTIES]
        else:
            region.counties = [f"{rid}-hva"]
        for i, mid in enumerate(region.municipalities):
            region.county_of[mid] = region.counties[i % len(region.counties)]
        regions.append(region)
    return regions


def organisations(regions: list[Region], rng: random.Random) -> list[dict[str, Any]]:
    used: set[str] = set()
    orgs: list[dict[str, Any]] = []
    source = "Synteettinen kansallinen vertailuaineisto (tests/bench/national.py)"

    def address(region_no: int, k: int, street: str, city: str) -> dict[str, str]:
        postcode = f"{10_000 + region_no * 5_000 + k * 10:05d}"
        return {"street": f"{street} {rng.randrange(1, 60)}", "postcode": postcode, "city": city}

    for r, region in enumerate(regions):
        centre_name = region.names[region.centre]
        orgs.append({
            "id": region.council, "kind": "regional-council", "party": True,
            "name": _names(f"{region.fi_gen} liitto", f"{region.sv_gen} förbund",
                           f"Regional Council of {region.en}"),
            "business_id": _business_id(rng, used),
            "address": address(r, 0, "Maakuntakatu", centre_name), "source": source,
        })
        if region.id == "uusimaa":
            county_names = [(f"{cid}-hva", fi, sv, en) for cid, fi, sv, en in _UUSIMAA_COUNTIES]
        else:
            county_names = [(region.counties[0], region.fi_gen, region.sv_gen, region.en)]
        for c, (cid, fi, sv, en) in enumerate(county_names):
            orgs.append({
                "id": cid, "kind": "wellbeing-county", "party": True,
                "name": _names(f"{fi} hyvinvointialue", f"{sv} välfärdsområde",
                               f"Wellbeing services county of {en}"),
                "business_id": _business_id(rng, used),
                "address": address(r, 1 + c, "Hoitajantie", centre_name), "source": source,
            })
        for m, mid in enumerate(region.municipalities):
            name, genitive = region.names[mid], region.names[mid + ":gen"]
            city = m == 0
            orgs.append({
                "id": mid, "kind": "municipality", "party": True,
                "name": _names(f"{genitive} {'kaupunki' if city else 'kunta'}",
                               f"{name} {'stad' if city else 'kommun'}",
                               f"{'City' if city else 'Municipality'} of {name}"),
                "business_id": _business_id(rng, used),
                "address": address(r, 10 + m, "Kunnantie" if not city else "Keskuskatu", name),
                "source": source,
            })
        orgs.append({
            "id": region.ngo, "kind": "other",
            "name": _names(f"{region.fi_gen} järjestöt", f"Organisationerna i {region.sv}",
                           f"NGOs of {region.en}"),
            "source": source,
        })
    return orgs


def groupings(regions: list[Region], rng: random.Random) -> list[dict[str, Any]]:
    source = "Synteettinen kansallinen vertailuaineisto: alueen kunnat"
    result: list[dict[str, Any]] = []
    for region in regions:
        result.append({
            "id": region.kunnat,
            "name": _names(f"{region.fi_gen} kunnat", f"Kommunerna i {region.sv}",
                           f"The municipalities of {region.en}"),
            "organisations": list(region.municipalities), "source": source,
        })
        result.append({
            "id": region.osapuolet,
            "name": _names(f"{region.fi_gen} yhteistyön osapuolet", f"Parterna i {region.sv}",
                           f"Parties to the cooperation in {region.en}"),
            "organisations": [*region.counties, region.council, *region.municipalities],
            "source": source,
        })
        shuffled = list(region.municipalities)
        rng.shuffle(shuffled)
        k = min(6, max(3, round(len(shuffled) / 4)))
        members = []
        for i in range(k):
            mid = f"{region.hyte}-{i + 1}"
            region.hyte_members.append(mid)
            members.append({
                "id": mid,
                "name": _names(f"Kuntaryhmä {i + 1}", f"Kommungrupp {i + 1}",
                               f"Municipality group {i + 1}"),
                "organisations": sorted(shuffled[i::k]),
            })
        result.append({
            "id": region.hyte,
            "name": _names(f"{region.fi_gen} HYTE-kuntaryhmät",
                           f"Kommungrupperna för välfärdsförhandlingarna i {region.sv}",
                           f"Municipality groups of the HYTE negotiations in {region.en}"),
            "partition_of": region.kunnat,
            "source": "Synteettinen: kuntaryhmät perhekeskusten työskentelyalueiden mukaan",
            "members": members,
        })
    return result


def region_file() -> dict[str, Any]:
    law = "Kuntalaki 410/2015 15 § (valtuuston toimikausi neljä vuotta)"
    return {
        "id": "suomi",
        "name": _names("Suomi", "Finland", "Finland"),
        "terms": [
            {"id": "2025-2029", "start": date(2025, 6, 1), "end": date(2029, 5, 31), "source": law},
            {"id": "2029-2033", "start": date(2029, 6, 1), "end": date(2033, 5, 31), "source": law},
        ],
        "source": "Synteettinen kansallinen vertailuaineisto (tests/bench/national.py)",
    }


# -- bodies ----------------------------------------------------------------------------------


@dataclass
class _Generated:
    """A body being built, with what later bodies need to refer to it."""

    data: dict[str, Any]
    kind: str
    conveners: list[str]


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), deterministically."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _free_days(year: int, months: Sequence[int], weekdays: Sequence[str], before: date) -> list[date]:
    day, out = date(year, 1, 1), []
    while day < before and day.year == year:
        if (day.month in months and _WEEKDAY_NAMES[day.weekday()] in weekdays
                and day not in _HOLIDAYS_2026 and day.month != 7):
            out.append(day)
        day += timedelta(days=1)
    return out


class BodyFactory:
    def __init__(self, rng: random.Random, stats: Stats) -> None:
        self.rng, self.stats = rng, stats
        self.serial = 0

    def _id(self, region: Region, topic: str, kind: str) -> str:
        self.serial += 1
        return f"{region.id}-{topic}-{kind}-{self.serial:04d}"

    def _base(self, region: Region, level: str, conveners: list[str],
              topic: tuple[str, str, str, str] | None = None,
              kind: tuple[str, str, str, str] | None = None) -> dict[str, Any]:
        topic = topic or self.rng.choice(_TOPICS)
        kind = kind or self.rng.choice(_KINDS)
        body_id = self._id(region, topic[0], kind[0])
        source = f"Synteettinen: {region.fi_gen} yhdyspintasuunnitelma, {topic[1]}"
        data: dict[str, Any] = {
            "id": body_id,
            "name": _names(f"{kind[1]}: {topic[1]} ({region.fi})",
                           f"{kind[2]}: {topic[2]} ({region.sv})",
                           f"{kind[3]}: {topic[3]} ({region.en})"),
            "level": level,
            "description": {"fi": f"{region.fi_gen} {kind[1].lower()}, aiheena {topic[1]}."},
            "conveners": [{"organisation": org, "source": source} for org in conveners],
        }
        return data

    def _conveners(self, region: Region) -> list[str]:
        pattern = _weighted(self.rng, _CONVENERS)
        municipality = self.rng.choices(
            region.municipalities,
            weights=[3 if m == region.centre else 1 for m in region.municipalities])[0]
        county = region.county_of[municipality]
        return {
            "municipality": [municipality],
            "county": [county],
            "council": [region.council],
            "county+council": [county, region.council],
            "centre+county": [region.centre, region.county_of[region.centre]],
            "municipality+county": [municipality, county] if municipality != region.centre
            else [municipality],
            "none": [],
        }[pattern]

    def _members(self, region: Region, conveners: list[str]) -> list[dict[str, Any]]:
        source = f"Synteettinen: {region.fi_gen} yhteistyösopimus"
        choice = self.rng.random()
        members: list[dict[str, Any]]
        if choice < 0.4:
            members = [{"group": region.kunnat, "source": source}]
        elif choice < 0.7:
            members = [{"group": region.osapuolet, "source": source}]
        else:
            picked = self.rng.sample(region.municipalities, min(4, len(region.municipalities)))
            members = [{"organisation": m, "source": source} for m in picked if m not in conveners]
        if self.rng.random() < 0.3:
            members.append({"organisation": region.ngo, "role": {"fi": "järjestöjen edustajat"},
                            "source": source})
        return members

    def _shape(self, weekdays: list[str] | None = None) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "weekdays": weekdays or list(_weighted(self.rng, _WEEKDAY_SETS)),
            "start": self.rng.choice(["09:00", "10:00", "12:00", "13:00", "14:00"]),
            "duration": self.rng.choice(["PT1H30M", "PT2H", "PT2H", "PT3H", "PT4H"]),
            "mode": self.rng.choice(["remote", "remote", "hybrid", "in-person"]),
        }
        return shape

    def _finish(self, data: dict[str, Any], region: Region, conveners: list[str],
                shape: dict[str, Any]) -> None:
        if not conveners:
            data.setdefault("gaps", {})["conveners"] = {
                "fi": "Asiakirjat eivät nimeä koollekutsujaa.", "en": "The documents name no convener."}
        data.setdefault("members", self._members(region, conveners))
        if shape["mode"] == "in-person":
            shape["location"] = {"fi": region.names[region.centre]}
        data["shape"] = shape
        data["sources"] = [f"Synteettinen: {region.fi_gen} yhdyspintasuunnitelma 2026"]

    def _held(self, data: dict[str, Any], count: int, months: Sequence[int],
              weekdays: Sequence[str], group: str | None = None) -> None:
        """``count`` meetings of 2026 already held (before the catalogue's date, 22.11.2026)."""
        days = _free_days(2026, months, weekdays, date(2026, 11, 13))
        if len(days) < count:
            return
        picked = sorted(self.rng.sample(days, count))
        meetings = data.setdefault("meetings", [])
        for day in picked:
            meeting: dict[str, Any] = {"date": day, "status": "held",
                                       "source": "Synteettinen: pöytäkirja 2026"}
            if group:
                meeting["group"] = group
            meetings.append(meeting)
            self.stats.known += 1

    # -- the kinds ---------------------------------------------------------------------------

    def ordinary(self, region: Region, kind: str, targets: list[_Generated]) -> _Generated:
        conveners = self._conveners(region)
        data = self._base(region, self.rng.choice(["2", "3", "4", "network", "measure"]),
                          conveners)
        shape = self._shape()
        source = f"Synteettinen: {region.fi_gen} yhdyspintasuunnitelma 2026, kokousrytmi"
        cadence: list[dict[str, Any]] = []
        months: list[int] = list(range(1, 13))
        count = 0
        if kind == "per-year-1":
            cadence = [{"kind": "per-year", "min": 1, "source": source}]
            count = 1
        elif kind == "per-year-1-preferred":
            cadence = [{"kind": "per-year", "min": 1, "max": 2, "source": source}]
            shape["preferred_months"] = list(self.rng.choice(_PREFERRED))
            count = 1
        elif kind == "per-year-2-3":
            cadence = [{"kind": "per-year", "min": 2, "max": 3, "source": source}]
            count = 2
        elif kind == "per-year-ge2":
            cadence = [{"kind": "per-year", "min": 2, "source": source}]
            count = 2
        elif kind == "per-year-plan4":
            cadence = [{"kind": "per-year", "min": 2, "max": 6, "plan": 4, "source": source,
                        "note": {"fi": "Neljännesvuosittain on suunnitteluoletus."}}]
            count = 4
        elif kind == "per-year-months":
            months = list(self.rng.choice(_MONTH_WINDOWS))
            cadence = [{"kind": "per-year", "min": 1, "max": 1, "source": source},
                       {"kind": "months", "months": months, "source": source}]
            count = 1
        elif kind == "per-term":
            cadence = [{"kind": "per-term", "min": 1, "max": 1, "source": source}]
        elif kind == "no-cadence":
            data["gaps"] = {"cadence": {"fi": "Asiakirjat eivät määrää kokousrytmiä.",
                                        "en": "The documents set no cadence."}}
        elif kind == "precedes":
            # Preparatory groups are convened by a municipality, or their convener is a gap.
            conveners = [] if self.rng.random() < 0.5 else [self.rng.choice(region.municipalities)]
            data["conveners"] = [{"organisation": org, "source": source} for org in conveners]
            return self.preparation(region, targets, conveners, data, shape)
        data["cadence"] = cadence
        # Known meetings: a held 2026 meeting (more often for busy conveners), a fixed 2027 one.
        busy = any(c in region.counties or c == region.council or c == region.centre
                   for c in conveners)
        if count and len(months) < 12 and max(months) >= 11:  # a window ending late in 2026
            self._held(data, count, [m for m in months if m < 11], shape["weekdays"])
        elif count and self.rng.random() < (HELD_BUSY if busy else HELD_OTHER):
            self._held(data, count, months, shape["weekdays"])
        if count == 1 and len(months) == 12 and self.rng.random() < 0.05:
            data.setdefault("meetings", []).append(
                {"date": date(2027, 3, 10), "status": "fixed", "start": "10:00",
                 "source": "Synteettinen: kutsu 2027"})
            self.stats.known += 1
        if kind == "per-term" and self.rng.random() < 0.3:
            data["meetings"] = [{"date": date(2025, 10, 23), "status": "held",
                                 "source": "Synteettinen: pöytäkirja 2025"}]
            self.stats.known += 1
        self._finish(data, region, conveners, shape)
        self.stats.add(kind)
        return _Generated(data, kind, conveners)

    def preparation(self, region: Region, targets: list[_Generated], conveners: list[str],
                    data: dict[str, Any], shape: dict[str, Any]) -> _Generated:
        """A body preparing another's meetings (kuntajohtajakokous -> kuntakokous)."""
        target = self.rng.choice(targets)
        min_weeks = self.rng.choice([2, 3, 4])
        max_weeks = min_weeks + self.rng.choice([6, 8, 10])
        source = f"Synteettinen: valmistelee elimen {target.data['id']} kokoukset"
        data["cadence"] = [{
            "kind": "precedes", "body": target.data["id"],
            "min_lead": f"P{min_weeks}W", "max_lead": f"P{max_weeks}W", "source": source,
            "note": {"fi": f"{min_weeks}–{max_weeks} viikkoa on suunnitteluoletus."},
        }]
        data["co_preparers"] = [{"body": target.data["id"], "source": source}]
        shape["weekdays"] = ["mon", "tue", "wed", "thu", "fri"]
        self._finish(data, region, conveners, shape)
        self.stats.add("precedes")
        return _Generated(data, "precedes", conveners)

    def round(self, region: Region, months: list[int] | None, county: str) -> _Generated:
        """Yearly negotiations: one meeting per HYTE group on Thursdays of successive weeks."""
        topic = ("hyte", "hyvinvoinnin edistäminen", "välfärdsfrämjande", "wellbeing promotion")
        kind = ("neuvottelut", "Neuvottelut", "Förhandlingar", "Negotiations")
        data = self._base(region, "statutory", [county], topic, kind)
        source = "Laki sosiaali- ja terveydenhuollon järjestämisestä 612/2021 6–7 §"
        data["members"] = [{"group": region.hyte, "source": source},
                           {"organisation": region.ngo, "source": source}]
        cadence: list[dict[str, Any]] = [
            {"kind": "per-year", "min": 1, "source": f"{source}: vähintään kerran vuodessa"},
            {"kind": "round", "grouping": region.hyte, "weekday": "thu",
             "source": "Synteettinen: kuntaryhmäkohtaiset neuvottelut peräkkäisinä torstaina"},
        ]
        if months:
            cadence.append({"kind": "months", "months": months, "source": source})
        data["cadence"] = cadence
        shape = self._shape(["thu"])
        # Last year's round, and this year's where it has already taken place.
        meetings: list[dict[str, Any]] = []
        spring = months is not None and 10 not in months
        starts = ((2025, date(2025, 2, 6)), (2026, date(2026, 2, 5))) if spring else (
            (2025, date(2025, 10, 2)), (2026, date(2026, 9, 17)))
        for year, first in starts:
            for k, member in enumerate(region.hyte_members):
                meetings.append({"date": first + timedelta(weeks=k + (k >= 4)), "group": member,
                                 "status": "held", "source": f"Synteettinen: pöytäkirjat {year}"})
                self.stats.known += 1
        data["meetings"] = meetings
        self._finish(data, region, [county], shape)
        self.stats.add("round")
        return _Generated(data, "round", [county])

    def round_preparation(self, region: Region, target: _Generated) -> _Generated:
        """Planning meetings per group before each round meeting (``per_group``)."""
        topic = ("hyte", "hyvinvoinnin edistäminen", "välfärdsfrämjande", "wellbeing promotion")
        kind = ("suunnittelukokoukset", "Suunnittelukokoukset", "Planeringsmöten",
                "Planning meetings")
        conveners = [] if self.rng.random() < 0.6 else [self.rng.choice(region.municipalities)]
        data = self._base(region, "statutory", conveners, topic, kind)
        source = f"Synteettinen: valmistelee elimen {target.data['id']} neuvottelut"
        data["members"] = [{"group": region.hyte, "source": source},
                           {"organisation": target.conveners[0], "source": source}]
        data["cadence"] = [{"kind": "precedes", "body": target.data["id"], "per_group": True,
                            "min_lead": "P2W", "max_lead": "P8W", "source": source}]
        shape = self._shape(["tue", "wed", "thu"])
        self._finish(data, region, conveners, shape)
        self.stats.add("round-preparation")
        return _Generated(data, "round-preparation", conveners)


def bodies(regions: list[Region], total: int, rng: random.Random, stats: Stats) -> list[_Generated]:
    factory = BodyFactory(rng, stats)
    result: list[_Generated] = []
    counts = _allocate(total, [len(r.municipalities) + 6 for r in regions])
    for region, count in zip(regions, counts, strict=True):
        made: list[_Generated] = []
        rounds = 0 if count < 6 else 1 if count < 120 else 2
        for r in range(rounds):
            county = region.counties[r % len(region.counties)]
            made.append(factory.round(region, [10, 11] if r == 0 else [2, 3, 4], county))
            if len(made) < count and rng.random() < 0.7:
                made.append(factory.round_preparation(region, made[-1]))
        while len(made) < count:
            targets = [g for g in made if g.kind.startswith("per-year")]
            kind = _weighted(rng, _BODY_KINDS)
            if kind == "precedes" and not targets:
                kind = "per-year-1"
            if kind == "precedes" and rng.random() < 0.15:  # now and then a chain of two
                chain = [g for g in made if g.kind == "precedes"]
                targets = chain or targets
            made.append(factory.ordinary(region, kind, targets))
        result.extend(made)
    return result


# -- files -----------------------------------------------------------------------------------


def generate(directory: Path, total: int = DEFAULT_BODIES, seed: int = DEFAULT_SEED) -> Stats:
    """Write the catalogue into ``directory`` (created; a previous catalogue there is replaced)."""
    _prepare(directory)
    rng = random.Random(seed)
    stats = Stats()
    regions = build_regions(rng)
    orgs = organisations(regions, rng)
    groups = groupings(regions, rng)
    made = bodies(regions, total, rng, stats)
    _dump(directory / "region.yaml", "Synthetic national catalogue: the country and its terms.",
          region_file())
    _dump(directory / "organisations.yaml",
          f"Synthetic national catalogue: {len(orgs)} organisations.", {"organisations": orgs})
    _dump(directory / "groups.yaml", f"Synthetic national catalogue: {len(groups)} groupings.",
          {"groupings": groups})
    for body in made:
        _dump(directory / f"{body.data['id']}.yaml", f"Synthetic body ({body.kind}).", body.data)
    (directory / MARKER).write_text(f"bodies={total} seed={seed}\n", encoding="utf-8")
    return stats


def _prepare(directory: Path) -> None:
    """Create ``directory``, or empty it if an earlier run of this script made it."""
    if directory.exists():
        if not (directory / MARKER).is_file() and any(directory.iterdir()):
            raise SystemExit(f"{directory}: not empty and not made by national.py; refusing to "
                             "overwrite it")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


def verify(directory: Path) -> int:
    """Run ``yhdyspinta check`` on ``directory``; return its exit status."""
    command = [sys.executable, "-m", "scheduler", "--bodies", str(directory), "check"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    errors = [line for line in done.stdout.splitlines() if line.startswith("[error]")]
    first = done.stdout.splitlines()[:1]
    print(f"check: exit {done.returncode}; {first[0] if first else done.stderr.strip()[:500]}")
    for line in errors[:20]:
        print(f"  {line}")
    if done.returncode != 0 and not errors:
        print(done.stderr[-2000:])
    return done.returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path, help="where to write the catalogue")
    parser.add_argument("--bodies", type=int, default=DEFAULT_BODIES, help="number of bodies")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--verify", action="store_true", help="run `yhdyspinta check` on it")
    args = parser.parse_args(argv)
    if args.bodies < 1:
        parser.error("--bodies must be at least 1")
    stats = generate(args.directory, args.bodies, args.seed)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(stats.kinds.items()))
    print(f"{args.directory}: {args.bodies} bodies ({kinds}); {stats.known} known meetings")
    return verify(args.directory) if args.verify else 0


if __name__ == "__main__":
    sys.exit(main())
