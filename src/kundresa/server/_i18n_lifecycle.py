"""Labels of the lifecycle pages and their forms' parameters, in English, Swedish and Norwegian
(bokmål). :mod:`kundresa.server._i18n` merges them into its ``LABELS``.

>>> ANALYSIS_LABELS["lifecycle.resurrecting"]["sv"]
'Återuppväckta'
>>> ANALYSIS_LABELS["param.created"]["nb"]
'Personen opprettet'
"""

from __future__ import annotations

__all__ = ["ANALYSIS_LABELS"]

_PARAMS: dict[str, tuple[str, str, str]] = {
    "event": ("Activity event", "Aktivitetshändelse", "Aktivitetshendelse"),
    "period": ("Period", "Period", "Periode"),
    "mode": ("Rules", "Regler", "Regler"),
    "created": ("Person created", "Personen skapad", "Personen opprettet"),
    "by": ("Break down by", "Dela upp efter", "Del opp etter"),
    "map": ("Journey map", "Kundresekarta", "Kundereisekart"),
    "date_from": ("From date", "Från datum", "Fra dato"),
    "date_to": ("To date", "Till datum", "Til dato"),
    "cumulative": ("At least k days", "Minst k dagar", "Minst k dager"),
}

_CHOICES: dict[str, tuple[str, str, str]] = {
    "posthog": ("PostHog", "PostHog", "PostHog"),
    "amplitude": ("Amplitude", "Amplitude", "Amplitude"),
    "first_event": ("first event", "första händelsen", "første hendelse"),
    "first_activity": ("first activity", "första aktiviteten", "første aktivitet"),
    "first_identify": ("first identify", "första identifieringen", "første identifisering"),
}

#: lifecycle statuses of both modes (the JSON keeps the names)
_STATUSES: dict[str, tuple[str, str, str]] = {
    "new": ("New", "Nya", "Nye"),
    "returning": ("Returning", "Återkommande", "Tilbakevendende"),
    "resurrecting": ("Resurrecting", "Återuppväckta", "Gjenoppvekte"),
    "current": ("Current", "Aktuella", "Nåværende"),
    "resurrected": ("Resurrected", "Återuppväckta", "Gjenoppvekte"),
    "dormant": ("Dormant", "Vilande", "Hvilende"),
}

_PAGES: dict[str, tuple[str, str, str]] = {
    "lifecycle_table": (
        "Persons per period and status",
        "Personer per period och status",
        "Personer per periode og status",
    ),
    "lifecycle_groups": ("Per group", "Per grupp", "Per gruppe"),
    "lifecycle_period": ("Period from", "Period från", "Periode fra"),
    "lifecycle_active": ("Active", "Aktiva", "Aktive"),
    "lifecycle_pulse": ("Pulse", "Puls", "Puls"),
    "lifecycle_group": ("Group", "Grupp", "Gruppe"),
    "lifecycle_persons": ("Persons", "Personer", "Personer"),
    "lifecycle_mean_pulse": ("Median pulse", "Medianpuls", "Medianpuls"),
    "lifecycle_periods": ("Periods", "Perioder", "Perioder"),
    "lifecycle_rule_posthog": (
        "PostHog rules: new in the creation period, returning when active in the previous "
        "period, otherwise resurrecting; dormant (below zero) in the period after the last "
        "activity.",
        "PostHogs regler: ny i den period personen skapades, återkommande om aktiv perioden "
        "innan, annars återuppväckt; vilande (under noll) perioden efter senaste aktiviteten.",
        "PostHogs regler: ny i perioden personen ble opprettet, tilbakevendende hvis aktiv "
        "perioden før, ellers gjenoppvekt; hvilende (under null) perioden etter siste "
        "aktivitet.",
    ),
    "lifecycle_rule_amplitude": (
        "Amplitude rules: current when active in the previous period, resurrected when active "
        "before that, otherwise new; dormant (below zero) in the period after the last "
        "activity.",
        "Amplitudes regler: aktuell om aktiv perioden innan, återuppväckt om aktiv tidigare "
        "än så, annars ny; vilande (under noll) perioden efter senaste aktiviteten.",
        "Amplitudes regler: nåværende hvis aktiv perioden før, gjenoppvekt hvis aktiv "
        "tidligere enn det, ellers ny; hvilende (under null) perioden etter siste aktivitet.",
    ),
    "stickiness_table": (
        "Days active per period",
        "Aktiva dagar per period",
        "Aktive dager per periode",
    ),
    "stickiness_days": ("Days active", "Aktiva dagar", "Aktive dager"),
    "stickiness_exactly": ("Exactly k days", "Exakt k dagar", "Nøyaktig k dager"),
    "stickiness_at_least": ("At least k days", "Minst k dagar", "Minst k dager"),
    "stickiness_share": ("Share, exactly", "Andel, exakt", "Andel, nøyaktig"),
    "stickiness_share_at_least": ("Share, at least", "Andel, minst", "Andel, minst"),
    "stickiness_value": ("Shown", "Visas", "Vises"),
    "stickiness_person_periods": (
        "Active person-periods",
        "Aktiva person-perioder",
        "Aktive person-perioder",
    ),
    "stickiness_rule_posthog": (
        "PostHog: persons active on k days of a period (a person counts once per period).",
        "PostHog: personer aktiva k dagar av en period (en person räknas en gång per period).",
        "PostHog: personer aktive k dager av en periode (en person telles én gang per periode).",
    ),
    "stickiness_rule_amplitude": (
        "Amplitude: share of the active persons active on k days of a period (a person counts "
        "once per period).",
        "Amplitude: andel av de aktiva som var aktiva k dagar av en period (en person räknas "
        "en gång per period).",
        "Amplitude: andel av de aktive som var aktive k dager av en periode (en person telles "
        "én gang per periode).",
    ),
    "no_activity": (
        "No activity in the workspace for these settings.",
        "Ingen aktivitet i arbetsytan med dessa inställningar.",
        "Ingen aktivitet i arbeidsområdet med disse innstillingene.",
    ),
}


def _table() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    sources = (("param.", _PARAMS), ("choice.", _CHOICES), ("lifecycle.", _STATUSES), ("", _PAGES))
    for prefix, source in sources:
        for key, (en, sv, nb) in source.items():
            out[prefix + key] = {"en": en, "sv": sv, "nb": nb}
    return out


#: label key -> language -> text
ANALYSIS_LABELS: dict[str, dict[str, str]] = _table()
