"""The compliance report's words in Finnish, Swedish and English (issue 11): statuses,
indicator states, headings and the reasons ``planning.compliance`` gives as keys.

A number is written ``{held:kokous|kokousta}`` to add its noun in the right form (the first
after exactly one, as in ``messaging.texts``); a plain ``{held}`` is the number alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from scheduler.planning.records import Reason

from .texts import cadence, times

STATUS = {
    "fi": {"ok": "kunnossa", "at-risk": "vaarassa", "missed": "ei toteutunut",
           "no-target": "ei tavoitetta"},
    "sv": {"ok": "i ordning", "at-risk": "i fara", "missed": "ej uppnått",
           "no-target": "inget mål"},
    "en": {"ok": "ok", "at-risk": "at risk", "missed": "missed", "no-target": "no target"},
}
STATE = {
    "fi": {"done": "toteutunut", "not-done": "ei toteutunut", "in-progress": "kesken",
           "unknown": "ei tietoa"},
    "sv": {"done": "genomförd", "not-done": "ej genomförd", "in-progress": "pågår",
           "unknown": "okänt"},
    "en": {"done": "done", "not-done": "not done", "in-progress": "in progress",
           "unknown": "unknown"},
}
BASIS = {
    "fi": {"meetings": "kokouksista", "hand": "käsin kirjattu", "none": "–"},
    "sv": {"meetings": "av mötena", "hand": "registrerat för hand", "none": "–"},
    "en": {"meetings": "from the meetings", "hand": "recorded by hand", "none": "–"},
}
ANSWER = {
    "fi": {"accepted": "hyväksytty", "tentativelyAccepted": "alustavasti hyväksytty",
           "declined": "hylätty", "none": "ei vastausta"},
    "sv": {"accepted": "accepterat", "tentativelyAccepted": "preliminärt accepterat",
           "declined": "avböjt", "none": "inget svar"},
    "en": {"accepted": "accepted", "tentativelyAccepted": "tentative", "declined": "declined",
           "none": "no answer"},
}
GAP = {
    "fi": {"convener": "koollekutsuja", "cadence": "kokousrytmi"},
    "sv": {"convener": "sammankallare", "cadence": "mötesrytm"},
    "en": {"convener": "convener", "cadence": "cadence"},
}
GAP_DEFAULT = {
    "fi": {"convener": "Asiakirjat eivät nimeä koollekutsujaa.",
           "cadence": "Asiakirjat eivät määrää kokousrytmiä."},
    "sv": {"convener": "Dokumenten anger ingen sammankallare.",
           "cadence": "Dokumenten anger ingen mötesrytm."},
    "en": {"convener": "The documents name no convener.",
           "cadence": "The documents set no meeting cadence."},
}
KIND = {
    "fi": {"milestone": "virstanpylväs", "count": "kokousmäärä", "external": "ulkoinen mittari"},
    "sv": {"milestone": "milstolpe", "count": "antal möten", "external": "extern indikator"},
    "en": {"milestone": "milestone", "count": "meeting count", "external": "external indicator"},
}

LABELS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Yhteistyöelinten seurantaraportti", "year": "Vuosi", "term": "Valtuustokausi",
        "generated": "Laadittu", "rows": "Tavoitteet ja toteuma", "gaps": "Aukot asiakirjoissa",
        "representation": "Edustus kokouksissa", "totals": "Edustus organisaatioittain",
        "measures": "Yhdyspintasuunnitelman toimenpiteet", "chart": "Kokoukset vuosittain",
        "body": "Elin", "period": "Kausi", "target": "Tavoite", "planned": "Suunniteltu",
        "held": "Pidetty", "unconfirmed": "Vahvistamatta", "cancelled": "Peruttu",
        "status": "Tila", "reason": "Perustelu", "source": "Lähde", "gap": "Aukko",
        "text": "Selitys", "day": "Päivä", "group": "Ryhmä", "present": "Paikalla",
        "absent": "Poissa", "answers": "Kutsuvastaukset", "minutes": "Pöytäkirja",
        "organisation": "Organisaatio", "attended": "Osallistunut", "of": "Kutsuttu",
        "measure": "Toimenpide", "responsible": "Vastuutaho", "deadline": "Määräaika",
        "indicator": "Mittari", "kind": "Laji", "state": "Tila", "on": "Toteutunut",
        "evidence": "Näyttö", "basis": "Peruste", "not_recorded": "ei kirjattu",
        "per_year": "vuodessa", "target_band": "tavoite", "legend": "Selite",
        "due": "Määräpäivä", "min": "Vähintään", "max": "Enintään",
        "untargeted": "Elimet ilman lukumäärätavoitetta",
    },
    "sv": {
        "title": "Uppföljningsrapport för samarbetsorganen", "year": "År",
        "term": "Fullmäktigeperiod", "generated": "Uppgjord",
        "rows": "Mål och utfall", "gaps": "Luckor i dokumenten",
        "representation": "Representation vid mötena", "totals": "Representation per organisation",
        "measures": "Åtgärderna i gränsytplanen", "chart": "Möten per år",
        "body": "Organ", "period": "Period", "target": "Mål", "planned": "Planerade",
        "held": "Hållna", "unconfirmed": "Obekräftade", "cancelled": "Inställda",
        "status": "Status", "reason": "Motivering", "source": "Källa", "gap": "Lucka",
        "text": "Förklaring", "day": "Dag", "group": "Grupp", "present": "Närvarande",
        "absent": "Frånvarande", "answers": "Svar på kallelsen", "minutes": "Protokoll",
        "organisation": "Organisation", "attended": "Deltog", "of": "Kallad",
        "measure": "Åtgärd", "responsible": "Ansvarig", "deadline": "Tidsfrist",
        "indicator": "Indikator", "kind": "Typ", "state": "Status", "on": "Genomförd",
        "evidence": "Belägg", "basis": "Grund", "not_recorded": "ej registrerat",
        "per_year": "per år", "target_band": "mål", "legend": "Förklaring",
        "due": "Förfallodag", "min": "Minst", "max": "Högst",
        "untargeted": "Organ utan mål för antalet möten",
    },
    "en": {
        "title": "Follow-up report of the cooperation bodies", "year": "Year",
        "term": "Council term", "generated": "Prepared",
        "rows": "Targets and outcome", "gaps": "Gaps in the documents",
        "representation": "Representation at the meetings",
        "totals": "Representation per organisation",
        "measures": "Measures of the interface plan", "chart": "Meetings per year",
        "body": "Body", "period": "Period", "target": "Target", "planned": "Planned",
        "held": "Held", "unconfirmed": "Unconfirmed", "cancelled": "Cancelled",
        "status": "Status", "reason": "Reason", "source": "Source", "gap": "Gap",
        "text": "Explanation", "day": "Date", "group": "Group", "present": "Present",
        "absent": "Absent", "answers": "Answers to the invitation", "minutes": "Minutes",
        "organisation": "Organisation", "attended": "Attended", "of": "Invited",
        "measure": "Measure", "responsible": "Responsible", "deadline": "Deadline",
        "indicator": "Indicator", "kind": "Kind", "state": "State", "on": "Done on",
        "evidence": "Evidence", "basis": "Basis", "not_recorded": "not recorded",
        "per_year": "a year", "target_band": "target", "legend": "Legend",
        "due": "Due date", "min": "Min", "max": "Max",
        "untargeted": "Bodies without a target for the number of meetings",
    },
}

_REASONS: dict[str, dict[str, str]] = {
    "met": {
        "fi": "Tavoite on saavutettu: pidetty {held:kokous|kokousta}, tavoite {target}.",
        "sv": "Målet är uppnått: hållna möten {held}, målet är {target}.",
        "en": "Target met: {held:meeting|meetings} held; the target is {target}.",
    },
    "on-course": {
        "fi": "Tavoite on saavutettavissa: pidetty {held:kokous|kokousta} ja suunniteltu "
              "{planned:kokous|kokousta}, tavoite {target}.",
        "sv": "Målet kan nås: hållna möten {held}, planerade {planned}; målet är {target}.",
        "en": "On course: {held} held and {planned} planned; the target is {target}.",
    },
    "unrecorded": {
        "fi": "Tavoite ({target}) on vaarassa, koska {unconfirmed:mennyt kokous|mennyttä "
              "kokousta} on kirjaamatta. Pidetyt kokoukset kirjataan komennolla yhdyspinta "
              "held. Työpäiviä on jäljellä {days}.",
        "sv": "Målet ({target}) är i fara: oregistrerade tidigare möten {unconfirmed}. Hållna "
              "möten registreras med yhdyspinta held. Återstående arbetsdagar: {days}.",
        "en": "The target ({target}) is at risk: {unconfirmed:past meeting is|past meetings "
              "are} not recorded. Record held meetings with yhdyspinta held. "
              "{days:working day remains|working days remain}.",
    },
    "short": {
        "fi": "Tavoitteesta ({target}) puuttuu {missing:kokous|kokousta} ilman suunniteltua "
              "ajankohtaa: pidetty {held}, suunniteltu {planned}. Työpäiviä on jäljellä {days}.",
        "sv": "Målet ({target}) är i fara: möten utan planerad tidpunkt saknas ({missing}); "
              "hållna {held}, planerade {planned}. Återstående arbetsdagar: {days}.",
        "en": "The target ({target}) is at risk: {missing:meeting is|meetings are} missing "
              "with no date planned; {held} held, {planned} planned. "
              "{days:working day remains|working days remain}.",
    },
    "missed": {
        "fi": "Tavoite jäi saavuttamatta: pidetty {held:kokous|kokousta}, tavoite {target}.",
        "sv": "Målet nåddes inte: hållna möten {held}, målet var {target}.",
        "en": "Target missed: {held} held; the target was {target}.",
    },
    "no-cadence": {
        "fi": "Asiakirjat eivät määrää kokousrytmiä, joten tavoitetta ei ole.",
        "sv": "Dokumenten anger ingen mötesrytm, så det finns inget mål.",
        "en": "The documents set no meeting cadence, so there is no target.",
    },
    "no-count": {
        "fi": "Säännöt eivät aseta kokousten määrälle omaa tavoitetta.",
        "sv": "Reglerna anger inget eget mål för antalet möten.",
        "en": "The rules set no target of its own for the number of meetings.",
    },
    "unconfirmed": {
        "fi": "Kirjaamatta {unconfirmed:mennyt kokous|mennyttä kokousta} (yhdyspinta held).",
        "sv": "Oregistrerade tidigare möten: {unconfirmed} (yhdyspinta held).",
        "en": "{unconfirmed:past meeting|past meetings} not recorded (yhdyspinta held).",
    },
    "over-max": {
        "fi": "Kokouksia on pidetty enemmän kuin enimmäismäärä {max}.",
        "sv": "Fler möten har hållits än högst {max}.",
        "en": "More meetings held than the maximum of {max}.",
    },
    "planned-over-max": {
        "fi": "Pidettyjä ja suunniteltuja kokouksia on yhteensä {total}, enemmän kuin "
              "enimmäismäärä {max}.",
        "sv": "Hållna och planerade möten är sammanlagt {total}, fler än högst {max}.",
        "en": "{total} meetings held and planned, more than the maximum of {max}.",
    },
    "round-unit": {
        "fi": "Lasketaan kierroksina: kierros on pidetty, kun kaikki {groups} ryhmää ovat "
              "kokoontuneet.",
        "sv": "Räknas i omgångar: en omgång är hållen när alla {groups} grupper har mötts.",
        "en": "Counted in rounds: a round is held once all {groups} groups have met.",
    },
    "rests-on-expired": {
        "fi": "Tavoite perustuu vain asiakirjaan, joka ei ole enää voimassa ({documents}); se "
              "on viimeksi sovittu sääntö.",
        "sv": "Målet vilar endast på dokument som inte längre gäller ({documents}); det är den "
              "senast överenskomna regeln.",
        "en": "The target rests only on documents no longer in force ({documents}); it is "
              "the last rule agreed.",
    },
    "indicator-count": {
        "fi": "{body}: pidetty {held:kokous|kokousta} ({period}), tavoite {target}.",
        "sv": "{body}: hållna möten {held} ({period}), målet är {target}.",
        "en": "{body}: {held} held ({period}); the target is {target}.",
    },
    "indicator-held": {
        "fi": "{body} pidetty {day}.", "sv": "{body} hölls {day}.", "en": "{body} held on {day}.",
    },
    "indicator-planned": {
        "fi": "{body} on suunniteltu pidettäväksi {day}.", "sv": "{body} är planerad till {day}.",
        "en": "{body} is planned for {day}.",
    },
    "indicator-not-held": {
        "fi": "{body}: ei pidettyä kokousta; määräaika {due}.",
        "sv": "{body}: inget hållet möte; tidsfrist {due}.",
        "en": "{body}: not held; due {due}.",
    },
    "indicator-not-held-open": {
        "fi": "{body}: ei pidettyä eikä suunniteltua kokousta.",
        "sv": "{body}: inget hållet eller planerat möte.",
        "en": "{body}: no meeting held or planned.",
    },
    "indicator-hand": {
        "fi": "Kirjattu käsin {recorded}.", "sv": "Registrerat för hand {recorded}.",
        "en": "Recorded by hand on {recorded}.",
    },
    "indicator-overdue": {
        "fi": "Määräaika {due} on mennyt, eikä toteutumista ole kirjattu.",
        "sv": "Tidsfristen {due} har gått ut och inget genomförande har registrerats.",
        "en": "Due {due}; not recorded as done.",
    },
    "indicator-none": {
        "fi": "Ei vielä kirjattu (yhdyspinta measure set); määräaika {due}.",
        "sv": "Ännu inte registrerat (yhdyspinta measure set); tidsfrist {due}.",
        "en": "Not recorded yet (yhdyspinta measure set); due {due}.",
    },
    "indicator-none-open": {
        "fi": "Ei vielä kirjattu (yhdyspinta measure set).",
        "sv": "Ännu inte registrerat (yhdyspinta measure set).",
        "en": "Not recorded yet (yhdyspinta measure set).",
    },
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


class _Count:
    """A number; ``{n:one|other}`` adds its noun, the first form after exactly one."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if "|" in spec:
            one, other = spec.split("|", 1)
            return f"{self.value} {one if self.value == 1 else other}"
        return format(self.value, spec)


def day_text(day: date, language: str) -> str:
    """``18.2.2026``; in English ``18 February 2026``."""
    if language == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day}.{day.month}.{day.year}"


def period_text(period: str) -> str:
    return period.replace("-", "–")  # 2025–2029


def target_text(low: int | None, high: int | None, per: str | None, language: str) -> str:
    """``vähintään kerran vuodessa``, ``2–3 times a year``, ``once per council term``."""
    if per is None or (low is None and high is None):
        return "–"
    return cadence(f"per-{per}", language, times=times(low, high, language))


def reason_text(reason: Reason, language: str, lookup: Callable[[str], str]) -> str:
    """One reason of the report as a sentence in ``language``."""
    key = reason.key
    params: Mapping[str, Any] = reason.params
    if key in ("indicator-none", "indicator-not-held") and params.get("due") is None:
        key = f"{key}-open"
    values: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, date):
            values[name] = day_text(value, language)
        elif isinstance(value, bool):
            values[name] = value
        elif isinstance(value, int):
            values[name] = _Count(value)
        elif name == "body":
            values[name] = lookup(value)
        elif name == "period":
            values[name] = period_text(value)
        else:
            values[name] = "–" if value is None else value
    values["target"] = target_text(params.get("min"), params.get("max"), params.get("per"),
                                   language)
    return _REASONS[key][language].format(**values)
