"""Reasons, problems and the catalogue's cadence read naturally in Finnish, Swedish and English:
"1 kokous vuodessa" and "2–3 kokousta vuodessa", "1 meeting", "2 weeks", never "1 kokousta",
"1 meetings" or "1 weeks"."""

from __future__ import annotations

import re
import string
from datetime import date, timedelta
from typing import Any

import pytest

from scheduler.catalogue.model import Catalogue, Text
from scheduler.cli.render import bodies_table
from scheduler.messaging.texts import (
    _TEXTS,
    LANGUAGES,
    _duration,
    duration_range,
    month_ranges,
    render,
    times,
)

DAY = date(2026, 5, 13)  # ke 13.5.2026
NAMES = {"jyvaskyla": "Jyväskylän kaupunki", "kuntakokous": "Kuntakokous", "ryhmat": "Kuntaryhmät"}


def lookup(ident: str) -> str:
    return NAMES.get(ident, ident)


def say(key: str, language: str, **params: Any) -> str:
    return render(key, params, language, lookup)


# Forms no reader should meet: a plural noun after exactly one, a singular after more, symbols
# and unfilled placeholders.
WRONG = re.compile(
    r"(?<![\d–])1 (kokousta|kertaa|viikkoa|päivää|möten|gånger|veckor|dagar|meetings|times|weeks|days)\b"
    r"|(?<!\d)[2-9] (kokous|kerta|viikko|päivä|möte|gång|vecka|dag|meeting|time|week|day)\b"
    r"|–\d+ (kokous|möte|meeting|viikko|vecka|week)\b"
    r"|[≥≤{}]| vk\b| pv\b"
)


def assert_natural(text: str) -> None:
    assert not WRONG.search(text), text
    assert "  " not in text and text == text.strip(), repr(text)


# -- counts --------------------------------------------------------------------------------

PER_YEAR = [  # (min, max) -> fi, sv, en
    ((1, 1), ("Sääntö: 1 kokous vuodessa", "Regel: 1 möte per år", "Rule: 1 meeting a year")),
    ((2, 2), ("Sääntö: 2 kokousta vuodessa", "Regel: 2 möten per år", "Rule: 2 meetings a year")),
    ((2, 3), ("Sääntö: 2–3 kokousta vuodessa", "Regel: 2–3 möten per år", "Rule: 2–3 meetings a year")),
    ((1, 2), ("Sääntö: 1–2 kokousta vuodessa", "Regel: 1–2 möten per år", "Rule: 1–2 meetings a year")),
    ((1, None), ("Sääntö: vähintään 1 kokous vuodessa", "Regel: minst 1 möte per år",
                 "Rule: at least 1 meeting a year")),
    ((2, None), ("Sääntö: vähintään 2 kokousta vuodessa", "Regel: minst 2 möten per år",
                 "Rule: at least 2 meetings a year")),
    ((None, 1), ("Sääntö: enintään 1 kokous vuodessa", "Regel: högst 1 möte per år",
                 "Rule: at most 1 meeting a year")),
    ((None, 3), ("Sääntö: enintään 3 kokousta vuodessa", "Regel: högst 3 möten per år",
                 "Rule: at most 3 meetings a year")),
]


@pytest.mark.parametrize(("bounds", "expected"), PER_YEAR)
def test_rule_per_year_agrees_with_its_count(
    bounds: tuple[int | None, int | None], expected: tuple[str, str, str]
) -> None:
    low, high = bounds
    for language, start in zip(LANGUAGES, expected, strict=True):
        text = say("rule-per-year", language, min=low, max=high, source="001")
        assert text == f"{start} (001).", text


def test_rule_per_term_names_the_term_with_an_en_dash() -> None:
    expected = {"fi": "Sääntö: 1 kokous valtuustokaudella 2025–2029 (L).",
                "sv": "Regel: 1 möte under fullmäktigeperioden 2025–2029 (L).",
                "en": "Rule: 1 meeting in the council term 2025–2029 (L)."}
    for language in LANGUAGES:
        assert say("rule-per-term", language, min=1, max=1, term="2025-2029", source="L") == expected[language]
    assert "3 kokousta valtuustokaudella" in say("rule-per-term", "fi", min=3, term="2025-2029", source="L")


@pytest.mark.parametrize(("found", "maximum", "fi", "sv", "en"), [
    (1, 0, "on 1 kokous, mutta sääntö sallii enintään 0", "finns 1 möte", "has 1 meeting"),
    (2, 1, "on 2 kokousta, mutta sääntö sallii enintään 1", "finns 2 möten", "has 2 meetings"),
    (4, 3, "on 4 kokousta", "finns 4 möten, men reglerna tillåter högst 3", "has 4 meetings, but"),
])
def test_too_many_counts_what_was_found(found: int, maximum: int, fi: str, sv: str, en: str) -> None:
    year = {language: say("too-many-year", language, year=2027, found=found, max=maximum)
            for language in LANGUAGES}
    assert fi in year["fi"] and sv in year["sv"] and en in year["en"], year
    assert year["fi"].startswith("Vuonna 2027 on") and year["en"].startswith("2027 has")
    term = {language: say("too-many-term", language, term="2025-2029", found=found, max=maximum)
            for language in LANGUAGES}
    assert f"Fullmäktigeperioden 2025–2029 har {found} möte" in term["sv"]  # was {count}: "≤ 3 möten"
    assert fi.split(",")[0] in term["fi"] and en.split(",")[0] in term["en"]


def test_spreading_one_meeting_is_not_called_spreading() -> None:
    one = {language: say("spread", language, index=1, count=1, ideal=DAY) for language in LANGUAGES}
    assert one["fi"] == "Jakson ainoa kokous: tavoitepäivä on käytettävissä olevan ajan puolivälissä, ke 13.5.2026."
    assert "1/1" not in one["fi"] and "1 av 1" not in one["sv"] and "1 of 1" not in one["en"]
    three = {language: say("spread", language, index=2, count=3, ideal=DAY) for language in LANGUAGES}
    assert three["fi"].startswith("Kokous 2/3: kokoukset ajoitetaan tasaisin välein")
    assert three["sv"].startswith("Möte 2 av 3:") and three["en"].startswith("Meeting 2 of 3:")


def test_a_round_says_the_weekday_as_a_habit() -> None:
    texts = {language: say("rule-round", language, grouping="ryhmat", weekday="thu", index=1, count=6,
                           source="004") for language in LANGUAGES}
    assert "yksi kokous torstaisin peräkkäisinä viikkoina; tämä on kokous 1/6" in texts["fi"]
    assert "på torsdagar under på varandra följande veckor; detta är möte 1 av 6" in texts["sv"]
    assert "on Thursdays in consecutive weeks; this is meeting 1 of 6" in texts["en"]


@pytest.mark.parametrize(("groups", "fi", "sv", "en"), [
    (1, "(1 kokous torstaisin", "(1 möte på torsdagar", "(1 meeting on Thursdays"),
    (6, "(6 kokousta torstaisin", "(6 möten på torsdagar", "(6 meetings on Thursdays"),
])
def test_no_round_counts_its_groups(groups: int, fi: str, sv: str, en: str) -> None:
    texts = [say("no-round", language, year=2027, groups=groups, weekday="thu", first=DAY,
                 last=DAY + timedelta(days=30), source="004") for language in LANGUAGES]
    assert fi in texts[0] and sv in texts[1] and en in texts[2], texts


# -- durations -----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fi", "sv", "en"), [
    (timedelta(weeks=1), "1 viikko", "1 vecka", "1 week"),
    (timedelta(weeks=2), "2 viikkoa", "2 veckor", "2 weeks"),
    (timedelta(weeks=3), "3 viikkoa", "3 veckor", "3 weeks"),
    (timedelta(days=1), "1 päivä", "1 dag", "1 day"),
    (timedelta(days=2), "2 päivää", "2 dagar", "2 days"),
    (timedelta(days=10), "10 päivää", "10 dagar", "10 days"),
])
def test_durations_agree_with_their_number(value: timedelta, fi: str, sv: str, en: str) -> None:
    assert [_duration(value, language) for language in LANGUAGES] == [fi, sv, en]


def test_a_lead_time_is_one_range_with_one_unit() -> None:
    weeks = [duration_range(timedelta(weeks=3), timedelta(weeks=10), language) for language in LANGUAGES]
    assert weeks == ["3–10 viikkoa", "3–10 veckor", "3–10 weeks"]
    mixed = duration_range(timedelta(days=10), timedelta(weeks=3), "fi")
    assert mixed == "10–21 päivää"
    assert duration_range(timedelta(weeks=1), timedelta(weeks=1), "en") == "1 week"


def test_a_preparatory_meeting_names_its_target_and_the_lead() -> None:
    params = {"target": "kuntakokous", "target_day": date(2026, 2, 18), "min_lead": timedelta(weeks=3),
              "max_lead": timedelta(weeks=10), "source": "001"}
    texts = [say("rule-precedes", language, **params) for language in LANGUAGES]
    assert texts == [
        ("Valmisteleva kokous: Kuntakokous pidetään ke 18.2.2026, ja tämä kokous sijoitetaan "
         "3–10 viikkoa sitä ennen (001)."),
        "Förberedande möte: Kuntakokous hålls ons 18.2.2026, och detta möte förläggs 3–10 veckor före det (001).",
        ("Preparatory meeting: Kuntakokous is held on Wed 18 February 2026, and this meeting is placed "
         "3–10 weeks before it (001)."),
    ]


# -- months, how often ------------------------------------------------------------------------

def test_months_are_written_as_runs() -> None:
    assert month_ranges([3, 4, 5, 9, 10, 11], "fi") == "maalis–toukokuu ja syys–marraskuu"
    assert month_ranges([3, 4, 5, 9, 10, 11], "sv") == "mars–maj och september–november"
    assert month_ranges([3, 4, 5, 9, 10, 11], "en") == "March–May and September–November"
    assert month_ranges([10, 11], "fi") == "loka–marraskuu"
    assert month_ranges([5], "fi") == "toukokuu"
    assert month_ranges([1, 3, 5], "fi") == "tammikuu, maaliskuu ja toukokuu"
    assert month_ranges([12, 1, 2], "fi") == "joulu–helmikuu"
    assert say("preferred-months", "fi", months=[2, 3]) == "Ensisijainen ajankohta elimen tiedoissa: helmi–maaliskuu."


@pytest.mark.parametrize(("low", "high", "fi", "sv", "en"), [
    (1, 1, "kerran", "en gång", "once"),
    (2, 2, "2 kertaa", "2 gånger", "twice"),
    (3, 3, "3 kertaa", "3 gånger", "3 times"),
    (2, 3, "2–3 kertaa", "2–3 gånger", "2–3 times"),
    (1, None, "vähintään kerran", "minst en gång", "at least once"),
    (2, None, "vähintään 2 kertaa", "minst 2 gånger", "at least twice"),
    (None, 1, "enintään kerran", "högst en gång", "at most once"),
    (None, 4, "enintään 4 kertaa", "högst 4 gånger", "at most 4 times"),
])
def test_how_often(low: int | None, high: int | None, fi: str, sv: str, en: str) -> None:
    assert [times(low, high, language) for language in LANGUAGES] == [fi, sv, en]


# -- gaps and holidays -----------------------------------------------------------------------

def test_a_gap_note_follows_its_problem_as_a_sentence_of_its_own() -> None:
    gap = Text(fi="Asiakirjat eivät nimeä koollekutsujaa.", sv="Dokumenten anger ingen sammankallare.",
               en="The documents name no convener.")
    assert say("no-convener", "fi", gap=gap) == "Koollekutsuja puuttuu. Asiakirjat eivät nimeä koollekutsujaa."
    assert say("no-convener", "sv", gap=gap) == "Sammankallare saknas. Dokumenten anger ingen sammankallare."
    assert say("no-convener", "en", gap=gap) == "No convener is named. The documents name no convener."
    assert say("no-cadence", "fi", gap=None) == "Kokousrytmi puuttuu, joten kokouksia ei suunniteltu."
    only_finnish = Text(fi="Ei rytmiä.")
    assert say("no-cadence", "en", gap=only_finnish).endswith("so no meetings were planned. Ei rytmiä.")


def test_holidays_are_common_nouns_in_a_finnish_or_swedish_sentence() -> None:
    ascension, new_year = date(2026, 5, 14), date(2029, 1, 1)
    assert say("blocked-holiday", "fi", day=ascension, label="x") == "to 14.5.2026 ei käy: helatorstai."
    assert say("blocked-holiday", "sv", day=ascension, label="x") == "tors 14.5.2026 går inte: Kristi himmelsfärdsdag."
    assert say("blocked-holiday", "sv", day=new_year, label="x") == "mån 1.1.2029 går inte: nyårsdagen."
    assert say("blocked-holiday", "en", day=new_year, label="x") == (
        "Mon 1 January 2029 not possible: New Year's Day (public holiday).")


# -- every text, every language ------------------------------------------------------------

def sample(field: str, n: int, spec: str) -> dict[str, Any]:
    """Parameters that fill ``field`` (``{field:spec}``) with the number ``n`` where it counts."""
    if field in {"day", "first", "last", "ideal", "target_day", "cancelled"}:
        return {field: DAY + timedelta(days=n)}
    if field == "count":
        return {"count": n, "index": 1}
    if field == "lead":
        return {"min_lead": timedelta(weeks=n), "max_lead": timedelta(weeks=n + 1)}
    if field in {"weekday", "on_weekday"}:
        return {"weekday": "thu"}
    if field == "months":
        return {"months": list(range(1, n + 1))}
    if field == "status":
        return {"status": "fixed"}
    if field == "gap":
        return {"gap": Text(fi="Suomeksi.", sv="På svenska.", en="In English.")}
    if field == "term":
        return {"term": "2025-2029"}
    if field in {"year", "index", "found", "max", "min", "groups", "n"} or "|" in spec:
        return {field: n}
    return {field: "jyvaskyla"}


def every_text(n: int) -> list[tuple[str, str, str]]:
    rendered = []
    for key, languages in _TEXTS.items():
        assert set(languages) == set(LANGUAGES), key
        for language, template in languages.items():
            params: dict[str, Any] = {}
            for _, field, spec, _ in string.Formatter().parse(template):
                if field:
                    params.update(sample(field, n, spec or ""))
            if key == "blocked-holiday":  # the label is the holiday's own name
                params["day"] = [date(2026, 5, 14), date(2026, 12, 24), date(2027, 1, 6)][n - 1]
            if key.startswith("rule-per-"):  # a rule's count comes from its bounds
                params.pop("count", None)
                params.update(min=n, max=n + 1 if n > 2 else n)
            rendered.append((key, language, say(key, language, **params)))
    return rendered


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_text_renders_naturally_in_every_language(n: int) -> None:
    for key, language, text in every_text(n):
        assert not WRONG.search(text), (key, language, text)
        assert "  " not in text and text == text.strip(), (key, language, text)


def test_every_text_has_the_same_placeholders_in_every_language() -> None:
    def fields(template: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field}

    for key, languages in _TEXTS.items():
        assert fields(languages["fi"]) == fields(languages["sv"]) == fields(languages["en"]), key


# -- the catalogue ----------------------------------------------------------------------------

def test_the_bodies_table_says_the_cadence_in_words(real_catalogue: Catalogue) -> None:
    tables = {language: bodies_table(real_catalogue, language) for language in LANGUAGES}
    for table in tables.values():
        codes = r"per-year|per-term|months \d|round [a-z-]+ [a-z]{3}\b|precedes [a-z-]+$|>=|<="
        assert not re.search(codes, table, re.MULTILINE), table
        assert not WRONG.search(table), table

    def row(language: str, body: str) -> str:
        [line] = [line for line in tables[language].splitlines() if line.startswith(body + " ")]
        return line

    assert row("fi", "vaikuttamisryhma").endswith("2–3 kertaa vuodessa")
    assert row("sv", "vaikuttamisryhma").endswith("2–3 gånger per år")
    assert row("en", "vaikuttamisryhma").endswith("2–3 times a year")
    assert row("fi", "seurantakokous").endswith("kerran vuodessa; toukokuu")
    assert row("en", "strateginen-foorumi").endswith("once per council term")
    assert row("fi", "hyte-neuvottelut").endswith(
        "vähintään kerran vuodessa; kierros torstaisin peräkkäisinä viikkoina, yksi kokous kullekin "
        "ryhmälle (HYTE-neuvottelujen kuntaryhmät); loka–marraskuu")
    assert row("fi", "kuntajohtajakokous").endswith("valmistelee: Kuntakokous (3–10 viikkoa ennen)")
    assert row("sv", "kuntajohtajakokous").endswith("förbereder: Kommunmöte (3–10 veckor före)")
    assert row("en", "hyte-suunnittelukokoukset").endswith("(2–8 weeks before each group's meeting)")




def test_every_gap_note_speaks_all_three_languages(real_catalogue: Catalogue) -> None:
    notes = 0
    for body in real_catalogue.bodies.values():
        for which in ("conveners", "cadence"):
            note: Text | None = getattr(body.gaps, which)
            if note is None:
                continue
            notes += 1
            assert note.en, (body.id, which)
            assert note.sv and note.sv != note.fi, (body.id, which)
            for language in LANGUAGES:
                assert_natural(say(f"no-{'convener' if which == 'conveners' else 'cadence'}", language, gap=note))
    assert notes >= 50
    etno = real_catalogue.bodies["etno"].gaps
    assert say("no-convener", "sv", gap=etno.conveners) == "Sammankallare saknas. Dokumenten anger ingen sammankallare."
