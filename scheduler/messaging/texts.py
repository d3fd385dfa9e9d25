"""The planner's reasons and problems in Finnish, Swedish and English.

The planner returns keys and parameters; this module turns them into sentences for the
reader's language (Finnish first). Ids are shown as names through ``lookup``. Numbers agree
with their nouns ("1 kokous", "2–3 kokousta"; see the note above ``_TEXTS``), and the
catalogue's cadence rules are put in words here too (``times``, ``month_ranges``, ``cadence``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

from scheduler.planning.records import Reason

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

# A number is written ``{count:kokous|kokousta}`` to add its noun in the right form: the first
# form after exactly one ("1 kokous", "vähintään 1 kokous"), the second otherwise ("2 kokousta",
# "2–3 kokousta", "0 kokousta"). In Swedish and English the forms are singular and plural.
# A plain ``{count}`` gives the number alone.
_TEXTS: dict[str, dict[str, str]] = {
    # reasons
    "known-meeting": {
        "fi": "Tunnettu kokous ({status}); lähde: {source}.",
        "sv": "Känt möte ({status}); källa: {source}.",
        "en": "Known meeting ({status}); source: {source}.",
    },
    "rule-per-year": {
        "fi": "Sääntö: {count:kokous|kokousta} vuodessa ({source}).",
        "sv": "Regel: {count:möte|möten} per år ({source}).",
        "en": "Rule: {count:meeting|meetings} a year ({source}).",
    },
    "rule-per-term": {
        "fi": "Sääntö: {count:kokous|kokousta} valtuustokaudella {term} ({source}).",
        "sv": "Regel: {count:möte|möten} under fullmäktigeperioden {term} ({source}).",
        "en": "Rule: {count:meeting|meetings} in the council term {term} ({source}).",
    },
    "spread": {
        "fi": "Kokous {index}/{count}: kokoukset ajoitetaan tasaisin välein, tavoitepäivä {ideal}.",
        "sv": "Möte {index} av {count}: mötena fördelas jämnt, måldag {ideal}.",
        "en": "Meeting {index} of {count}: meetings are spread evenly, target day {ideal}.",
    },
    "spread-one": {  # "spread" when the period has one meeting: nothing to spread
        "fi": "Jakson ainoa kokous: tavoitepäivä on käytettävissä olevan ajan puolivälissä, {ideal}.",
        "sv": "Periodens enda möte: måldagen ligger mitt i den tillgängliga tiden, {ideal}.",
        "en": "The period's only meeting: the target day is midway through the time available, {ideal}.",
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
        "sv": "{day} går inte: kalendern för sammankallaren ({convener}) är redan bokad under mötestiden.",
        "en": "{day} not possible: the calendar of the convener ({convener}) is already booked at the meeting time.",
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
        "fi": "Kierros: kullekin ryhmälle ({grouping}) yksi kokous {on_weekday} peräkkäisinä viikkoina; tämä on kokous {index}/{count}. Estetyt viikot ohitetaan ({source}).",
        "sv": "Omgång: ett möte per grupp ({grouping}) {on_weekday} under på varandra följande veckor; detta är möte {index} av {count}. Spärrade veckor hoppas över ({source}).",
        "en": "Round: one meeting per group ({grouping}) {on_weekday} in consecutive weeks; this is meeting {index} of {count}. Blocked weeks are skipped ({source}).",
    },
    "rule-precedes": {
        "fi": "Valmisteleva kokous: {target} pidetään {target_day}, ja tämä kokous sijoitetaan {lead} sitä ennen ({source}).",
        "sv": "Förberedande möte: {target} hålls {target_day}, och detta möte förläggs {lead} före det ({source}).",
        "en": "Preparatory meeting: {target} is held on {target_day}, and this meeting is placed {lead} before it ({source}).",
    },
    # problems
    "no-convener": {
        "fi": "Koollekutsuja puuttuu. {gap}",
        "sv": "Sammankallare saknas. {gap}",
        "en": "No convener is named. {gap}",
    },
    "no-cadence": {
        "fi": "Kokousrytmi puuttuu, joten kokouksia ei suunniteltu. {gap}",
        "sv": "Mötesrytm saknas, så inga möten planerades. {gap}",
        "en": "No meeting cadence is set, so no meetings were planned. {gap}",
    },
    "no-count-rule": {
        "fi": "Säännöistä puuttuu kokousmäärä (per-year, per-term tai precedes), joten kokouksia ei suunniteltu.",
        "sv": "Reglerna anger inget antal möten (per-year, per-term eller precedes), så inga möten planerades.",
        "en": "The rules give no number of meetings (per-year, per-term or precedes), so no meetings were planned.",
    },
    "outside-window": {
        "fi": "Vuodelle {year} ei voitu suunnitella kokouksia, koska sääntöjen sallima aika on suunnittelujakson ulkopuolella ({source}).",
        "sv": "Inga möten kunde planeras för {year}: den tid som reglerna tillåter ligger utanför planeringsperioden ({source}).",
        "en": "No meetings could be planned for {year}: the time the rules allow lies outside the planning window ({source}).",
    },
    "outside-window-term": {
        "fi": "Valtuustokauden {term} kokouksia ei voitu sijoittaa suunnittelujaksolle ({source}).",
        "sv": "Mötena för fullmäktigeperioden {term} kunde inte förläggas inom planeringsperioden ({source}).",
        "en": "The meetings for the council term {term} could not be placed inside the planning window ({source}).",
    },
    "too-many-year": {
        "fi": "Vuonna {year} on {found:kokous|kokousta}, mutta sääntö sallii enintään {max}.",
        "sv": "År {year} finns {found:möte|möten}, men reglerna tillåter högst {max}.",
        "en": "{year} has {found:meeting|meetings}, but the rules allow at most {max}.",
    },
    "too-many-term": {
        "fi": "Valtuustokaudella {term} on {found:kokous|kokousta}, mutta sääntö sallii enintään {max}.",
        "sv": "Fullmäktigeperioden {term} har {found:möte|möten}, men reglerna tillåter högst {max}.",
        "en": "The council term {term} has {found:meeting|meetings}, but the rules allow at most {max}.",
    },
    "no-valid-date": {
        "fi": "Välille {first}–{last} ei löytynyt sallittua päivää ({source}).",
        "sv": "Ingen tillåten dag hittades mellan {first} och {last} ({source}).",
        "en": "No permitted day was found between {first} and {last} ({source}).",
    },
    "round-without-count": {
        "fi": "Kierrossäännölle ({grouping}) puuttuu vuosittainen kokousmäärä.",
        "sv": "Omgångsregeln ({grouping}) saknar ett årligt antal möten.",
        "en": "The round rule ({grouping}) has no yearly number of meetings.",
    },
    "no-round": {
        "fi": "Vuoden {year} kierrokselle ({groups:kokous|kokousta} {on_weekday} peräkkäisinä viikkoina) ei löytynyt tilaa välillä {first}–{last} ({source}).",
        "sv": "För omgången {year} ({groups:möte|möten} {on_weekday} under på varandra följande veckor) fanns ingen plats mellan {first} och {last} ({source}).",
        "en": "No room for the {year} round ({groups:meeting|meetings} {on_weekday} in consecutive weeks) between {first} and {last} ({source}).",
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
    # -- the stored schedule (issue 9) ------------------------------------------------------
    "shared-day": {
        "fi": "{day} ei käy: samana päivänä kokoontuu {other}, johon kutsutaan pääosin samat organisaatiot.",
        "sv": "{day} går inte: samma dag möts {other}, dit i stort sett samma organisationer bjuds in.",
        "en": "{day} not possible: {other} meets that day, with largely the same organisations invited.",
    },
    "replacement": {
        "fi": "Kokous {cancelled} peruttiin, ja tavoitteen saavuttamiseksi ehdotetaan korvaavaa kokousta {day} ({source}). Päivä vahvistuu, kun kutsu lähtee tai päivä sovitaan.",
        "sv": "Mötet {cancelled} ställdes in, och för att målet ska nås föreslås ett ersättande möte {day} ({source}). Dagen fastställs när inbjudan skickas eller dagen avtalas.",
        "en": "The meeting of {cancelled} was cancelled; to meet the target a replacement is proposed on {day} ({source}). The date stands once the invitation goes out or it is agreed.",
    },
    "no-replacement": {
        "fi": "Kokous {cancelled} peruttiin, eikä korvaavalle kokoukselle löydy sääntöjen mukaista päivää väliltä {first}–{last} ({source}).",
        "sv": "Mötet {cancelled} ställdes in, och ingen dag mellan {first} och {last} passar för ett ersättande möte enligt reglerna ({source}).",
        "en": "The meeting of {cancelled} was cancelled, and no day between {first} and {last} allows a replacement under the rules ({source}).",
    },
    "decided-against-rules": {
        "fi": "Sovittu kokous {day} ei enää sovi sääntöihin: {why} Kokousta ei siirretä itsestään; siirrä se tarvittaessa (yhdyspinta move).",
        "sv": "Det avtalade mötet {day} passar inte längre reglerna: {why} Mötet flyttas inte av sig självt; flytta det vid behov (yhdyspinta move).",
        "en": "The agreed meeting of {day} no longer fits the rules: {why} It is not moved by itself; move it if need be (yhdyspinta move).",
    },
    "cancelled-day": {
        "fi": "{day} ei käy: elimen kokous tälle päivälle on peruttu.",
        "sv": "{day} går inte: organets möte den dagen har ställts in.",
        "en": "{day} not possible: the body's meeting on that day was cancelled.",
    },
    "replaces": {
        "fi": "Korvaa peruttua kokousta {day}, jotta kauden tavoite täyttyy.",
        "sv": "Ersätter det inställda mötet {day}, så att periodens mål nås.",
        "en": "Replaces the cancelled meeting of {day}, so that the period's target is met.",
    },
    "moved-by-person": {
        "fi": "Siirretty sovitusti; aiempi ajankohta oli {day}.",
        "sv": "Flyttat enligt överenskommelse; den tidigare tidpunkten var {day}.",
        "en": "Moved as agreed; it was on {day} before.",
    },
    "moved-against-rules": {
        "fi": "Ajankohta poikkeaa säännöistä perustellusti: {reason}",
        "sv": "Tidpunkten avviker från reglerna med motiveringen: {reason}",
        "en": "The time departs from the rules, for this reason: {reason}",
    },
    "move-past": {
        "fi": "{day} on jo mennyt.",
        "sv": "{day} har redan varit.",
        "en": "{day} is already past.",
    },
    "move-office-hours": {
        "fi": "Kokouksen on alettava ja päätyttävä virka-aikana klo {opens}–{closes}.",
        "sv": "Mötet ska börja och sluta under tjänstetid kl. {opens}–{closes}.",
        "en": "The meeting must start and end within office hours, {opens}–{closes}.",
    },
    # -- the catalogue against its sources (issue 11): warnings of ``check`` ------------------
    "no-online-url-remote": {
        "fi": "Kokoukset pidetään etäkokouksina, mutta verkkokokouksen osoitetta (shape.online_url) ei ole annettu, joten kutsuissa ei ole liittymislinkkiä.",
        "sv": "Mötena hålls på distans, men ingen adress till distansmötet (shape.online_url) har angetts, så inbjudningarna saknar länk för att ansluta.",
        "en": "The meetings are remote, but no online meeting address (shape.online_url) is set, so remote invitations will carry no join link.",
    },
    "no-online-url-hybrid": {
        "fi": "Kokoukset ovat hybridikokouksia, mutta verkkokokouksen osoitetta (shape.online_url) ei ole annettu, joten kutsuissa ei ole liittymislinkkiä etänä osallistuville.",
        "sv": "Mötena är hybridmöten, men ingen adress till distansmötet (shape.online_url) har angetts, så inbjudningarna saknar länk för dem som deltar på distans.",
        "en": "The meetings are hybrid, but no online meeting address (shape.online_url) is set, so invitations will carry no join link for those taking part remotely.",
    },
    "expired-body": {
        "fi": "Elin perustuu vain asiakirjaan {documents}, joka oli voimassa {until} saakka; sitä pidetään viimeksi sovittuna rakenteena ({source}).",
        "sv": "Organet vilar enbart på dokument {documents}, som gällde till och med {until}; det står kvar som den senast överenskomna strukturen ({source}).",
        "en": "The body rests only on document {documents} (valid until {until}); it stands as the last agreed structure ({source}).",
    },
    "expired-convener": {
        "fi": "Koollekutsuja ({convener}) perustuu vain asiakirjaan {documents}, joka oli voimassa {until} saakka; sitä noudatetaan viimeksi sovittuna ({source}).",
        "sv": "Sammankallaren ({convener}) vilar enbart på dokument {documents}, som gällde till och med {until}; den gäller som senast överenskommen ({source}).",
        "en": "The convener ({convener}) rests only on document {documents} (valid until {until}); applied as last agreed ({source}).",
    },
    "expired-co-preparer": {
        "fi": "Esityslistan valmistelu ({other}) perustuu vain asiakirjaan {documents}, joka oli voimassa {until} saakka; sitä noudatetaan viimeksi sovittuna ({source}).",
        "sv": "Beredningen av föredragningslistan ({other}) vilar enbart på dokument {documents}, som gällde till och med {until}; den gäller som senast överenskommen ({source}).",
        "en": "The agenda preparation ({other}) rests only on document {documents} (valid until {until}); applied as last agreed ({source}).",
    },
    "expired-rule": {
        "fi": "Sääntö ”{rule}” perustuu vain asiakirjaan {documents}, joka oli voimassa {until} saakka; sitä sovelletaan viimeksi sovittuna sääntönä ({source}).",
        "sv": "Regeln ”{rule}” vilar enbart på dokument {documents}, som gällde till och med {until}; den tillämpas som den senast överenskomna regeln ({source}).",
        "en": "The rule “{rule}” rests only on document {documents} (valid until {until}); applied as the last agreed rule ({source}).",
    },
    # a cadence rule in words, inside "expired-rule"
    "cadence-per-year": {
        "fi": "{count:kokous|kokousta} vuodessa",
        "sv": "{count:möte|möten} per år",
        "en": "{count:meeting|meetings} a year",
    },
    "cadence-per-term": {
        "fi": "{count:kokous|kokousta} valtuustokaudessa",
        "sv": "{count:möte|möten} per fullmäktigeperiod",
        "en": "{count:meeting|meetings} per council term",
    },
    "cadence-months": {
        "fi": "kokousaika: {months}",
        "sv": "mötestid: {months}",
        "en": "meetings in {months}",
    },
    "cadence-round": {
        "fi": "kierros {on_weekday} peräkkäisinä viikkoina ({grouping})",
        "sv": "omgång {on_weekday} under på varandra följande veckor ({grouping})",
        "en": "a round {on_weekday} in consecutive weeks ({grouping})",
    },
    "cadence-precedes": {
        "fi": "valmistelee: {target} ({lead} ennen)",
        "sv": "förbereder: {target} ({lead} före)",
        "en": "prepares: {target} ({lead} before)",
    },
}

_STATUS = {
    "fi": {"planned": "suunniteltu", "fixed": "sovittu", "held": "pidetty", "cancelled": "peruttu",
           "unconfirmed": "vahvistamatta"},
    "sv": {"planned": "planerat", "fixed": "fastställt", "held": "hållet", "cancelled": "inställt",
           "unconfirmed": "obekräftat"},
    "en": {"planned": "planned", "fixed": "fixed", "held": "held", "cancelled": "cancelled",
           "unconfirmed": "unconfirmed"},
}
# (after exactly one, otherwise): "1 viikko", "3 viikkoa", "3–10 viikkoa"
_WEEKS = {"fi": ("viikko", "viikkoa"), "sv": ("vecka", "veckor"), "en": ("week", "weeks")}
_DAYS = {"fi": ("päivä", "päivää"), "sv": ("dag", "dagar"), "en": ("day", "days")}
_AT_LEAST = {"fi": "vähintään", "sv": "minst", "en": "at least"}
_AT_MOST = {"fi": "enintään", "sv": "högst", "en": "at most"}
_AND = {"fi": "ja", "sv": "och", "en": "and"}
# A weekday that recurs: "torstaisin", "på torsdagar", "on Thursdays".
_ON_WEEKDAY = {
    "fi": {"mon": "maanantaisin", "tue": "tiistaisin", "wed": "keskiviikkoisin", "thu": "torstaisin",
           "fri": "perjantaisin", "sat": "lauantaisin", "sun": "sunnuntaisin"},
    "sv": {"mon": "på måndagar", "tue": "på tisdagar", "wed": "på onsdagar", "thu": "på torsdagar",
           "fri": "på fredagar", "sat": "på lördagar", "sun": "på söndagar"},
    "en": {"mon": "on Mondays", "tue": "on Tuesdays", "wed": "on Wednesdays", "thu": "on Thursdays",
           "fri": "on Fridays", "sat": "on Saturdays", "sun": "on Sundays"},
}
# How often, as the catalogue's table says it: "kerran", "2–3 kertaa", "twice".
_TIMES = {
    "fi": ({1: "kerran"}, "{n} kertaa"),
    "sv": ({1: "en gång"}, "{n} gånger"),
    "en": ({1: "once", 2: "twice"}, "{n} times"),
}
# The catalogue's cadence rules in words (``bodies`` table).
_CADENCE: dict[str, dict[str, str]] = {
    "per-year": {"fi": "{times} vuodessa", "sv": "{times} per år", "en": "{times} a year"},
    "per-term": {
        "fi": "{times} valtuustokaudessa",
        "sv": "{times} per fullmäktigeperiod",
        "en": "{times} per council term",
    },
    "round": {
        "fi": "kierros {on_weekday} peräkkäisinä viikkoina, yksi kokous kullekin ryhmälle ({grouping})",
        "sv": "omgång {on_weekday} under på varandra följande veckor, ett möte per grupp ({grouping})",
        "en": "round {on_weekday} in consecutive weeks, one meeting per group ({grouping})",
    },
    "precedes": {
        "fi": "valmistelee: {target} ({lead} ennen)",
        "sv": "förbereder: {target} ({lead} före)",
        "en": "prepares: {target} ({lead} before)",
    },
    "precedes-per-group": {
        "fi": "valmistelee: {target} ({lead} ennen kunkin ryhmän kokousta)",
        "sv": "förbereder: {target} ({lead} före varje grupps möte)",
        "en": "prepares: {target} ({lead} before each group's meeting)",
    },
}


class _Number:
    """A number or a range as text. ``{n:kokous|kokousta}`` adds the noun: the first form
    after exactly one, the second otherwise; a plain ``{n}`` is the number alone."""

    def __init__(self, text: str, one: bool, value: int | None = None) -> None:
        self.text, self.one, self.value = text, one, value

    def __format__(self, spec: str) -> str:
        if "|" in spec:
            singular, plural = spec.split("|", 1)
            return f"{self.text} {singular if self.one else plural}"
        if spec and self.value is not None:
            return format(self.value, spec)
        return format(self.text, spec)

    def __str__(self) -> str:
        return self.text


def _number(value: int) -> _Number:
    return _Number(str(value), value == 1, value)


def format_date(day: date, language: str) -> str:
    """Finnish and Swedish ``ke 18.2.2026``; English ``Wed 18 February 2026``."""
    weekday = _SHORT_WEEKDAYS[language][day.weekday()]
    if language == "en":
        return f"{weekday} {day.day} {_MONTHS['en'][day.month - 1]} {day.year}"
    return f"{weekday} {day.day}.{day.month}.{day.year}"


def _duration(value: timedelta, language: str) -> str:
    """``1 viikko``, ``3 viikkoa``, ``10 päivää``; ``1 week``, ``3 weeks``; ``1 vecka``."""
    return duration_range(value, value, language)


def duration_range(low: timedelta, high: timedelta, language: str) -> str:
    """``3–10 viikkoa`` (``3–10 weeks``), in days if either end is not whole weeks."""
    if low.days % 7 == 0 and high.days % 7 == 0:
        a, b, (one, other) = low.days // 7, high.days // 7, _WEEKS[language]
    else:
        a, b, (one, other) = low.days, high.days, _DAYS[language]
    if a == b:
        return f"{a} {one if a == 1 else other}"
    return f"{a}–{b} {other}"


def _count(params: Mapping[str, Any], language: str) -> _Number:
    """A rule's ``min`` and ``max``: ``1``, ``2–3``, ``vähintään 2``, ``at most 3``."""
    low, high = params.get("min"), params.get("max")
    if low is not None and high is not None:
        return _number(low) if low == high else _Number(f"{low}–{high}", False)
    if low is not None:
        return _Number(f"{_AT_LEAST[language]} {low}", low == 1)
    return _Number(f"{_AT_MOST[language]} {high}", high == 1)


def times(low: int | None, high: int | None, language: str) -> str:
    """How often: ``kerran``, ``2–3 kertaa``, ``vähintään kerran``; ``twice``, ``at most 3 times``."""
    named, pattern = _TIMES[language]

    def one(n: int) -> str:
        return named.get(n) or pattern.format(n=n)

    if low is not None and high is not None:
        return one(low) if low == high else pattern.format(n=f"{low}–{high}")
    if low is not None:
        return f"{_AT_LEAST[language]} {one(low)}"
    return f"{_AT_MOST[language]} {one(high or 0)}"


def month_ranges(months: Iterable[int], language: str) -> str:
    """Months as runs: ``maalis–toukokuu ja syys–marraskuu``, ``mars–maj och september``,
    ``October–November``; a run may go over the new year (``marras–tammikuu``)."""
    runs: list[list[int]] = []
    for month in sorted(set(months)):
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][-1] == 12:
        runs[-1].extend(runs.pop(0))
    names = _MONTHS[language]

    def run_name(run: list[int]) -> str:
        first, last = names[run[0] - 1], names[run[-1] - 1]
        if len(run) == 1:
            return first
        if language == "fi":  # maaliskuu–toukokuu -> maalis–toukokuu
            first = first.removesuffix("kuu")
        return f"{first}–{last}"

    parts = [run_name(run) for run in runs]
    if len(parts) < 2:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {_AND[language]} {parts[-1]}"


def cadence(key: str, language: str, **values: Any) -> str:
    """One cadence rule in words, for the catalogue's table (``_CADENCE``)."""
    return _CADENCE[key][language].format(**values)


def on_weekday(weekday: str, language: str) -> str:
    return _ON_WEEKDAY[language][weekday]


def _in_sentence(holiday: str, language: str) -> str:
    """Holiday names are common nouns in Finnish and Swedish: ``ei käy: helatorstai``
    (but ``Kristi himmelsfärdsdag`` keeps its capital)."""
    if language == "en" or not holiday or holiday.startswith("Kristi "):
        return holiday
    return holiday[0].lower() + holiday[1:]


def render(
    key: str, params: Mapping[str, Any], language: str, lookup: Callable[[str], str]
) -> str:
    """One reason or problem as a sentence in ``language``."""
    values: dict[str, Any] = {}
    if key == "blocked-holiday":  # the holiday's own name in the reader's language
        params = {**params, "label": _in_sentence(holiday_name(params["day"], language), language)}
    if key == "spread" and params.get("count") == 1:
        key = "spread-one"
    for name, value in params.items():
        if isinstance(value, Reason):  # a reason inside a problem: "... no longer fits: <why>"
            values[name] = render(value.key, value.params, language, lookup)
        elif isinstance(value, date):
            values[name] = format_date(value, language)
        elif isinstance(value, timedelta):
            values[name] = _duration(value, language)
        elif name == "months":
            values[name] = month_ranges(value, language)
        elif name == "weekday":
            values[name] = _WEEKDAYS[language][value]
            values["on_weekday"] = on_weekday(value, language)
        elif name == "status":
            values[name] = _STATUS[language][value]
        elif name in {"convener", "other", "target", "grouping"}:
            values[name] = lookup(value)
        elif name == "gap":
            values[name] = value.get(language) if hasattr(value, "get") else ""
        elif name == "term" and isinstance(value, str):
            values[name] = value.replace("-", "–")  # 2025–2029
        elif isinstance(value, int) and not isinstance(value, bool):
            values[name] = _number(value)
        else:
            values[name] = "–" if value is None else value
    if "min" in params or "max" in params:
        values["count"] = _count(params, language)
    if isinstance(params.get("min_lead"), timedelta) and isinstance(params.get("max_lead"), timedelta):
        values["lead"] = duration_range(params["min_lead"], params["max_lead"], language)
    return _TEXTS[key][language].format(**values).strip()


@lru_cache(maxsize=3)
def _holidays(language: str) -> holidays.HolidayBase:
    return holidays.country_holidays("FI", language={"fi": "fi", "sv": "sv_FI", "en": "en_US"}[language])


def holiday_name(day: date, language: str) -> str:
    return str(_holidays(language).get(day, ""))


def status_word(status: str, language: str) -> str:
    return _STATUS[language][status]
