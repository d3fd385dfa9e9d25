"""The planner's reasons and problems in Finnish, Swedish and English.

The planner returns keys and parameters; this module turns them into sentences for the
reader's language (Finnish first). Ids are shown as names through ``lookup``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

LANGUAGES = ("fi", "sv", "en")

_MONTHS = {
    "fi": ["tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu",
           "elokuu", "syyskuu", "lokakuu", "marraskuu", "joulukuu"],
    "sv": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}
_WEEKDAYS = {
    "fi": {"mon": "maanantai", "tue": "tiistai", "wed": "keskiviikko", "thu": "torstai",
           "fri": "perjantai", "sat": "lauantai", "sun": "sunnuntai"},
    "sv": {"mon": "måndag", "tue": "tisdag", "wed": "onsdag", "thu": "torsdag",
           "fri": "fredag", "sat": "lördag", "sun": "söndag"},
    "en": {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
           "fri": "Friday", "sat": "Saturday", "sun": "Sunday"},
}
_SHORT_WEEKDAYS = {
    "fi": ["ma", "ti", "ke", "to", "pe", "la", "su"],
    "sv": ["mån", "tis", "ons", "tors", "fre", "lör", "sön"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}

_TEXTS: dict[str, dict[str, str]] = {
    # reasons
    "known-meeting": {
        "fi": "Tunnettu kokous ({status}); lähde: {source}.",
        "sv": "Känt möte ({status}); källa: {source}.",
        "en": "Known meeting ({status}); source: {source}.",
    },
    "rule-per-year": {
        "fi": "Sääntö: {count} kokousta vuodessa ({source}).",
        "sv": "Regel: {count} möten per år ({source}).",
        "en": "Rule: {count} meetings a year ({source}).",
    },
    "rule-per-term": {
        "fi": "Sääntö: {count} kokousta valtuustokaudella {term} ({source}).",
        "sv": "Regel: {count} möten under fullmäktigeperioden {term} ({source}).",
        "en": "Rule: {count} meetings in the council term {term} ({source}).",
    },
    "spread": {
        "fi": "Kokous {index}/{count}: kokoukset jaetaan tasaisesti, tavoitepäivä {ideal}.",
        "sv": "Möte {index}/{count}: mötena sprids jämnt, måldag {ideal}.",
        "en": "Meeting {index} of {count}: meetings are spread evenly, target day {ideal}.",
    },
    "preferred-months": {
        "fi": "Ensisijainen ajankohta elimen tiedoissa: {months}.",
        "sv": "Önskad tidpunkt enligt organets uppgifter: {months}.",
        "en": "Preferred time in the body's data: {months}.",
    },
    "free-day": {
        "fi": "{day} on arkipäivä, ei pyhäpäivä eikä estoaikaa, eikä koollekutsujalla ole samana päivänä muuta kokousta.",
        "sv": "{day} är en vardag, ingen helgdag eller spärrtid, och sammankallaren har inget annat möte samma dag.",
        "en": "{day} is a working day, not a holiday or blackout, and the convener has no other meeting that day.",
    },
    "free-day-no-convener": {
        "fi": "{day} on arkipäivä, ei pyhäpäivä eikä estoaikaa.",
        "sv": "{day} är en vardag, ingen helgdag eller spärrtid.",
        "en": "{day} is a working day, not a holiday or blackout.",
    },
    "blocked-weekend": {
        "fi": "{day} ei käy: viikonloppu.",
        "sv": "{day} går inte: veckoslut.",
        "en": "{day} not possible: weekend.",
    },
    "blocked-holiday": {
        "fi": "{day} ei käy: {label}.",
        "sv": "{day} går inte: {label}.",
        "en": "{day} not possible: {label} (public holiday).",
    },
    "blocked-blackout": {
        "fi": "{day} ei käy: estoaika ({label}).",
        "sv": "{day} går inte: spärrtid ({label}).",
        "en": "{day} not possible: blackout ({label}).",
    },
    "blocked-blackout-month": {
        "fi": "{day} ei käy: kesätauko (estokuukausi).",
        "sv": "{day} går inte: sommaruppehåll (spärrmånad).",
        "en": "{day} not possible: summer break (blackout month).",
    },
    "not-weekday": {
        "fi": "{day} ei ole elimen tavallinen kokousviikonpäivä.",
        "sv": "{day} är inte organets vanliga mötesdag.",
        "en": "{day} is not one of the body's usual weekdays.",
    },
    "outside-months": {
        "fi": "{day} on sääntöjen kuukausien ulkopuolella.",
        "sv": "{day} ligger utanför reglernas månader.",
        "en": "{day} is outside the months the rules allow.",
    },
    "convener-busy": {
        "fi": "{day} ei käy: koollekutsujalla ({convener}) on silloin jo kokous ({other}).",
        "sv": "{day} går inte: sammankallaren ({convener}) har redan ett möte ({other}).",
        "en": "{day} not possible: the convener ({convener}) already has a meeting ({other}).",
    },
    "convener-calendar-busy": {
        "fi": "{day} ei käy: koollekutsujan ({convener}) kalenterissa on jo varaus kokouksen aikaan.",
        "sv": "{day} går inte: sammankallarens ({convener}) kalender är upptagen under mötestiden.",
        "en": "{day} not possible: the convener's ({convener}) calendar is busy at the meeting's time.",
    },
    "body-busy": {
        "fi": "{day} ei käy: elimellä on jo kokous samana päivänä.",
        "sv": "{day} går inte: organet har redan ett möte samma dag.",
        "en": "{day} not possible: the body already meets that day.",
    },
    "target-busy": {
        "fi": "{day} ei käy: samana päivänä on valmisteltava kokous ({target}).",
        "sv": "{day} går inte: samma dag hålls mötet som förbereds ({target}).",
        "en": "{day} not possible: the meeting being prepared ({target}) is that day.",
    },
    "rule-round": {
        "fi": "Kierros: yksi kokous kullekin ryhmälle ({grouping}) peräkkäisinä viikkoina, viikonpäivä {weekday}; tämä on {index}/{count}. Estetyt viikot ohitetaan ({source}).",
        "sv": "Omgång: ett möte per grupp ({grouping}) under på varandra följande veckor, veckodag {weekday}; detta är {index}/{count}. Spärrade veckor hoppas över ({source}).",
        "en": "Round: one meeting per group ({grouping}) in consecutive weeks on {weekday}; this is {index} of {count}. Blocked weeks are skipped ({source}).",
    },
    "rule-precedes": {
        "fi": "Valmistelee kokousta {target} {target_day}: {max_lead}–{min_lead} ennen sitä ({source}).",
        "sv": "Förbereder mötet {target} {target_day}: {max_lead}–{min_lead} före det ({source}).",
        "en": "Prepares {target} on {target_day}: {max_lead} to {min_lead} before it ({source}).",
    },
    # problems
    "no-convener": {
        "fi": "Koollekutsuja puuttuu: {gap}",
        "sv": "Sammankallare saknas: {gap}",
        "en": "No convener: {gap}",
    },
    "no-cadence": {
        "fi": "Kokousrytmi puuttuu, joten kokouksia ei suunniteltu: {gap}",
        "sv": "Mötesrytm saknas, så inga möten planerades: {gap}",
        "en": "No cadence, so no meetings were planned: {gap}",
    },
    "no-count-rule": {
        "fi": "Säännöistä puuttuu kokousmäärä (per-year, per-term tai precedes), joten kokouksia ei suunniteltu.",
        "sv": "Reglerna saknar ett antal möten (per-year, per-term eller precedes); inga möten planerades.",
        "en": "The rules give no number of meetings (per-year, per-term or precedes); nothing was planned.",
    },
    "outside-window": {
        "fi": "Vuoden {year} kokousta ei voitu suunnitella, koska sääntöjen sallima aika jää suunnittelujakson ulkopuolelle ({source}).",
        "sv": "Mötet för {year} kunde inte planeras: den tid reglerna tillåter ligger utanför planeringsperioden ({source}).",
        "en": "The {year} meeting was not planned: the time the rules allow lies outside the planning window ({source}).",
    },
    "outside-window-term": {
        "fi": "Valtuustokauden {term} kokousta ei voitu suunnitella suunnittelujaksolle ({source}).",
        "sv": "Mötet för fullmäktigeperioden {term} kunde inte planeras inom perioden ({source}).",
        "en": "The meeting for the council term {term} could not be planned inside the window ({source}).",
    },
    "too-many-year": {
        "fi": "Vuonna {year} kokouksia on {found}, enimmäismäärä on {max}.",
        "sv": "År {year} finns {found} möten; högst {max} är tillåtna.",
        "en": "{year} has {found} meetings; the maximum is {max}.",
    },
    "too-many-term": {
        "fi": "Valtuustokaudella {term} kokouksia on {found}, enimmäismäärä on {max}.",
        "sv": "Fullmäktigeperioden {term} har {count} möten; högst {max} är tillåtna.",
        "en": "The council term {term} has {found} meetings; the maximum is {max}.",
    },
    "no-valid-date": {
        "fi": "Välille {first}–{last} ei löytynyt sallittua päivää ({source}).",
        "sv": "Ingen tillåten dag hittades mellan {first} och {last} ({source}).",
        "en": "No valid day between {first} and {last} ({source}).",
    },
    "round-without-count": {
        "fi": "Kierrossäännölle ({grouping}) puuttuu vuosittainen kokousmäärä.",
        "sv": "Omgångsregeln ({grouping}) saknar ett årligt antal.",
        "en": "The round rule ({grouping}) has no yearly count.",
    },
    "no-round": {
        "fi": "Vuoden {year} kierrokselle ({groups} kokousta, viikonpäivä {weekday}) ei löytynyt tilaa välillä {first}–{last} ({source}).",
        "sv": "För omgången {year} ({groups} möten, {weekday} på varandra följande veckor) fanns ingen plats mellan {first} och {last} ({source}).",
        "en": "No room for the {year} round ({groups} meetings on {weekday} in consecutive weeks) between {first} and {last} ({source}).",
    },
    "no-calendars": {
        "fi": "Estoaikakalentereiden kansiota {file} ei ole: suunnitelma ei ota huomioon loma-aikoja.",
        "sv": "Mappen för spärrkalendrar {file} finns inte: planen tar inte hänsyn till lovtider.",
        "en": "The blackout calendar folder {file} does not exist: the plan ignores holiday periods.",
    },
    "example-calendar": {
        "fi": "Estoaikakalenteri {file} on merkitty esimerkiksi: tarkista loma-ajat ennen kuin lähetät kutsuja.",
        "sv": "Spärrkalendern {file} är märkt som exempel: kontrollera lovtiderna innan inbjudningar skickas.",
        "en": "The blackout calendar {file} is marked as an example: check the holiday dates before sending invitations.",
    },
    "preparation-before-window": {
        "fi": "Kokousta {day} valmisteleva kokous osuisi ennen suunnittelujaksoa.",
        "sv": "Det förberedande mötet för {day} skulle infalla före planeringsperioden.",
        "en": "The meeting preparing {day} would fall before the planning window.",
    },
}

_STATUS = {
    "fi": {"planned": "suunniteltu", "fixed": "sovittu", "held": "pidetty", "cancelled": "peruttu"},
    "sv": {"planned": "planerat", "fixed": "fastställt", "held": "hållet", "cancelled": "inställt"},
    "en": {"planned": "planned", "fixed": "fixed", "held": "held", "cancelled": "cancelled"},
}
_WEEKS = {"fi": "{n} vk", "sv": "{n} v", "en": "{n} weeks"}
_DAYS = {"fi": "{n} pv", "sv": "{n} d", "en": "{n} days"}


def format_date(day: date, language: str) -> str:
    """Finnish and Swedish ``ke 18.2.2026``; English ``Wed 18 February 2026``."""
    weekday = _SHORT_WEEKDAYS[language][day.weekday()]
    if language == "en":
        return f"{weekday} {day.day} {_MONTHS['en'][day.month - 1]} {day.year}"
    return f"{weekday} {day.day}.{day.month}.{day.year}"


def _duration(value: timedelta, language: str) -> str:
    if value.days % 7 == 0:
        return _WEEKS[language].format(n=value.days // 7)
    return _DAYS[language].format(n=value.days)


def _count(params: Mapping[str, Any]) -> str:
    low, high = params.get("min"), params.get("max")
    if low is not None and high is not None:
        return str(low) if low == high else f"{low}–{high}"
    return f"≥ {low}" if low is not None else f"≤ {high}"


def render(
    key: str, params: Mapping[str, Any], language: str, lookup: Callable[[str], str]
) -> str:
    """One reason or problem as a sentence in ``language``."""
    values: dict[str, Any] = {}
    if key == "blocked-holiday":  # the holiday's own name in the reader's language
        params = {**params, "label": holiday_name(params["day"], language)}
    for name, value in params.items():
        if isinstance(value, date):
            values[name] = format_date(value, language)
        elif isinstance(value, timedelta):
            values[name] = _duration(value, language)
        elif name == "months":
            values[name] = ", ".join(_MONTHS[language][m - 1] for m in value)
        elif name == "weekday":
            values[name] = _WEEKDAYS[language][value]
        elif name == "status":
            values[name] = _STATUS[language][value]
        elif name in {"convener", "other", "target", "grouping"}:
            values[name] = lookup(value)
        elif hasattr(value, "get") and name == "gap":
            values[name] = value.get(language)
        else:
            values[name] = "–" if value is None else value
    if "min" in params or "max" in params:
        values["count"] = _count(params)
    return _TEXTS[key][language].format(**values)


@lru_cache(maxsize=3)
def _holidays(language: str) -> holidays.HolidayBase:
    return holidays.country_holidays("FI", language={"fi": "fi", "sv": "sv_FI", "en": "en_US"}[language])


def holiday_name(day: date, language: str) -> str:
    return str(_holidays(language).get(day, ""))


def status_word(status: str, language: str) -> str:
    return _STATUS[language][status]
