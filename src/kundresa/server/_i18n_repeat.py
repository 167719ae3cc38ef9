"""Labels of the repeat pages and their forms' parameters, in English, Swedish and Norwegian
(bokmål). :mod:`kundresa.server._i18n` merges them into its ``LABELS``.

>>> ANALYSIS_LABELS["rp.repeat_rate"]["sv"]
'Återköpsandel'
"""

from __future__ import annotations

__all__ = ["ANALYSIS_LABELS"]

_PARAMS: dict[str, tuple[str, str, str]] = {
    "purchase_event": ("Purchase event", "Köphändelse", "Kjøpshendelse"),
    "distinct_days": (
        "Same day counts once",
        "Samma dag räknas en gång",
        "Samme dag telles én gang",
    ),
    "within": ("Within", "Inom", "Innen"),
    "period": ("Period", "Period", "Periode"),
    "windows": ("Second-order windows", "Fönster för andra köpet", "Vinduer for andre kjøp"),
    "max_orders": ("Orders up to", "Köp upp till", "Kjøp opp til"),
    "until": ("Up to date", "Till och med datum", "Til og med dato"),
    "by": ("Break down by", "Dela upp på", "Del opp etter"),
    "map": ("Journey map", "Kundresekarta", "Kundereisekart"),
    "referral_event": ("Referral event", "Rekommendationshändelse", "Anbefalingshendelse"),
    "review_event": ("Review event", "Recensionshändelse", "Anmeldelseshendelse"),
    "survey_event": ("Survey event", "Enkäthändelse", "Undersøkelseshendelse"),
    "nps_property": ("NPS property", "NPS-egenskap", "NPS-egenskap"),
    "promoter_min": ("Promoter from", "Promotor från", "Promotør fra"),
    "detractor_max": ("Detractor up to", "Kritiker till och med", "Kritiker til og med"),
    "confidence": ("Confidence level", "Konfidensnivå", "Konfidensnivå"),
}

_CHOICES: dict[str, tuple[str, str, str]] = {
    "month": ("month", "månad", "måned"),
    "week": ("week", "vecka", "uke"),
}

_PAGES: dict[str, tuple[str, str, str]] = {
    "buyers": ("Buyers", "Köpare", "Kjøpere"),
    "repeat_buyers": ("Repeat buyers", "Återkommande köpare", "Gjenkjøpere"),
    "repeat_rate": ("Repeat rate", "Återköpsandel", "Gjenkjøpsandel"),
    "orders": ("Orders", "Köp", "Kjøp"),
    "customers": ("Customers", "Kunder", "Kunder"),
    "orders_per_customer": ("Orders per customer", "Köp per kund", "Kjøp per kunde"),
    "time_between_orders": ("Days between orders", "Dagar mellan köp", "Dager mellom kjøp"),
    "median_days": ("Median days between orders", "Median dagar mellan köp",
                    "Median dager mellom kjøp"),
    "quartiles_days": ("Quartiles (days)", "Kvartiler (dagar)", "Kvartiler (dager)"),
    "gaps": ("Gaps", "Mellanrum", "Mellomrom"),
    "days": ("Days", "Dagar", "Dager"),
    "second_order": ("Second order by cohort", "Andra köpet per kohort",
                     "Andre kjøp per kohort"),
    "cohort": ("Cohort", "Kohort", "Kohort"),
    "incomplete": ("* incomplete: the window runs past the end of the data",
                   "* ofullständig: fönstret går förbi datats slut",
                   "* ufullstendig: vinduet går forbi slutten av dataene"),
    "revenue": ("Revenue", "Intäkter", "Inntekter"),
    "col_revenue_mean": ("Mean revenue", "Medelintäkt", "Snittinntekt"),
    "col_revenue_median": ("Median revenue", "Medianintäkt", "Medianinntekt"),
    "col_repeat_revenue": ("Repeat revenue", "Återköpsintäkt", "Gjenkjøpsinntekt"),
    "signals": ("Signals", "Signaler", "Signaler"),
    "signal": ("Signal", "Signal", "Signal"),
    "detractors": ("Detractors", "Kritiker", "Kritikere"),
    "revenue_total": ("Total revenue", "Total intäkt", "Total inntekt"),
    "revenue_mean": ("Mean per customer", "Medel per kund", "Snitt per kunde"),
    "revenue_median": ("Median per customer", "Median per kund", "Median per kunde"),
    "first_revenue": ("From first orders", "Från första köpen", "Fra første kjøp"),
    "repeat_revenue": ("From repeat orders", "Från återköpen", "Fra gjenkjøpene"),
    "repeat_share": ("Share from repeat orders", "Andel från återköp", "Andel fra gjenkjøp"),
    "orders_mean": ("Orders per buyer", "Köp per köpare", "Kjøp per kjøper"),
    "median_gap": ("Median gap (d)", "Medianuppehåll (d)", "Medianopphold (d)"),
    "group": ("Group", "Grupp", "Gruppe"),
    "by_group": ("By group", "Per grupp", "Per gruppe"),
    "by_persona": ("By persona", "Per persona", "Per persona"),
    "by_stage": ("By stage", "Per fas", "Per fase"),
    "persons": ("Persons", "Personer", "Personer"),
    "ambassadors": ("Ambassadors", "Ambassadörer", "Ambassadører"),
    "ambassador_share": ("Ambassadors (of persons)", "Ambassadörer (av personer)",
                         "Ambassadører (av personer)"),
    "share_of_buyers": ("Of buyers", "Av köpare", "Av kjøpere"),
    "share_of_repeat_buyers": ("Of repeat buyers", "Av återkommande köpare", "Av gjenkjøpere"),
    "referrers": ("Referrers", "Rekommenderare", "Anbefalere"),
    "reviewers": ("Reviewers", "Recensenter", "Anmeldere"),
    "promoters": ("Promoters", "Promotorer", "Promotører"),
    "respondents": ("Respondents", "Svarande", "Svarende"),
    "nps": ("NPS", "NPS", "NPS"),
    "nps_interval": ("NPS interval", "NPS-intervall", "NPS-intervall"),
    "share": ("Share", "Andel", "Andel"),
    "no_buyers": ("No purchases of this event.", "Inga köp av denna händelse.",
                  "Ingen kjøp av denne hendelsen."),
}  # fmt: skip


def _table() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for prefix, source in (("param.", _PARAMS), ("choice.", _CHOICES), ("rp.", _PAGES)):
        for key, (en, sv, nb) in source.items():
            out[prefix + key] = {"en": en, "sv": sv, "nb": nb}
    return out


#: label key -> language -> text
ANALYSIS_LABELS: dict[str, dict[str, str]] = _table()
