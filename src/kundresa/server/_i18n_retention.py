"""Labels of the retention pages and their forms' parameters, in English, Swedish and Norwegian
(bokmål). :mod:`kundresa.server._i18n` merges them into its ``LABELS``.

>>> ANALYSIS_LABELS["param.start_event"]["sv"]
'Starthändelse'
>>> ANALYSIS_LABELS["retention.mean"]["nb"]
'Vektet snitt'
"""

from __future__ import annotations

__all__ = ["ANALYSIS_LABELS"]

#: the retention form's parameters (label key ``param.<name>``)
_PARAMS: dict[str, tuple[str, str, str]] = {
    "start_event": ("Start event", "Starthändelse", "Starthendelse"),
    "return_event": ("Return event", "Återkomsthändelse", "Gjenkomsthendelse"),
    "cohort": ("Cohort entry", "Kohortinträde", "Kohortinngang"),
    "period": ("Period", "Period", "Periode"),
    "brackets": ("Brackets (days)", "Intervall (dagar)", "Intervaller (dager)"),
    "mode": ("Counted", "Räknas", "Telles"),
    "clock": ("Clock", "Klocka", "Klokke"),
    "reference": ("Percent of", "Procent av", "Prosent av"),
    "periods": ("Periods", "Perioder", "Perioder"),
    "date_from": ("Cohorts from", "Kohorter från", "Kohorter fra"),
    "date_to": ("Cohorts to", "Kohorter till", "Kohorter til"),
}

#: the values of the form's selects (label key ``choice.<value>``)
_CHOICES: dict[str, tuple[str, str, str]] = {
    "first_time": ("first time", "första gången", "første gang"),
    "recurring": ("recurring", "återkommande", "gjentakende"),
    "on": ("on period N", "i period N", "i periode N"),
    "on_or_after": ("on or after period N", "i eller efter period N", "i eller etter periode N"),
    "calendar": ("calendar periods", "kalenderperioder", "kalenderperioder"),
    "rolling": (
        "rolling 24 h from the start",
        "rullande 24 h från starten",
        "rullerende 24 t fra starten",
    ),
    "cohort": ("the cohort size", "kohortens storlek", "kohortens størrelse"),
    "previous": ("the previous period", "föregående period", "forrige periode"),
}

#: the page's texts
_PAGES: dict[str, tuple[str, str, str]] = {
    "retention.triangle": ("Cohort triangle", "Kohorttriangel", "Kohorttrekant"),
    "retention.table": (
        "Cohorts and returns",
        "Kohorter och återkomster",
        "Kohorter og gjenkomster",
    ),
    "retention.cohort": ("Cohort", "Kohort", "Kohort"),
    "retention.size": ("Persons", "Personer", "Personer"),
    "retention.mean": ("Weighted mean", "Viktat medel", "Vektet snitt"),
    "retention.period": ("Period", "Period", "Periode"),
    "retention.bracket": ("Days after start", "Dagar efter start", "Dager etter start"),
    "retention.axis_cohort": ("Cohort (persons)", "Kohort (personer)", "Kohort (personer)"),
    "retention.entries": ("Cohort entries", "Kohortinträden", "Kohortinnganger"),
    "retention.cohorts_n": ("Cohorts", "Kohorter", "Kohorter"),
    "retention.first_return": (
        "Returned in period 1",
        "Återkom i period 1",
        "Kom tilbake i periode 1",
    ),
    "retention.as_of": ("Data up to", "Data till och med", "Data til og med"),
    "retention.running": (
        "* the period is still running: the share so far; empty cells have not begun.",
        "* perioden pågår: andelen hittills; tomma celler har inte börjat.",
        "* perioden pågår: andelen så langt; tomme celler har ikke begynt.",
    ),
    "retention.mean_note": (
        "The weighted mean counts only cohorts whose period is over (weighted by size).",
        "Det viktade medlet räknar bara kohorter vars period är slut (viktat efter storlek).",
        "Det vektede snittet teller bare kohorter der perioden er over (vektet etter størrelse).",
    ),
    "retention.by_group": (
        "Weighted mean per group",
        "Viktat medel per grupp",
        "Vektet snitt per gruppe",
    ),
    "retention.group": ("Group", "Grupp", "Gruppe"),
    "retention.none": (
        "No cohort entries: no start event in the date range.",
        "Inga kohortinträden: ingen starthändelse i datumintervallet.",
        "Ingen kohortinnganger: ingen starthendelse i datointervallet.",
    ),
}


def _table() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for prefix, source in (("param.", _PARAMS), ("choice.", _CHOICES), ("", _PAGES)):
        for key, (en, sv, nb) in source.items():
            out[prefix + key] = {"en": en, "sv": sv, "nb": nb}
    return out


#: label key -> language -> text
ANALYSIS_LABELS: dict[str, dict[str, str]] = _table()
