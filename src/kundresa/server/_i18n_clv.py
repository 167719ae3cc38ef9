"""Labels of the clv pages and their forms' parameters, in English, Swedish and Norwegian
(bokmål). :mod:`kundresa.server._i18n` merges them into its ``LABELS``.

>>> ANALYSIS_LABELS["segment.at_risk"]["sv"]
'I riskzonen'
>>> ANALYSIS_LABELS["param.holdout"]["nb"]
'Kontrollperiode'
"""

from __future__ import annotations

__all__ = ["ANALYSIS_LABELS"]

_PARAMS: dict[str, tuple[str, str, str]] = {
    "purchase_event": ("Purchase event", "Köphändelse", "Kjøpshendelse"),
    "spend_model": ("Spend model", "Köpbeloppsmodell", "Kjøpsbeløpsmodell"),
    "horizon": ("Horizon", "Horisont", "Horisont"),
    "discount_rate": (
        "Annual discount rate",
        "Årlig diskonteringsränta",
        "Årlig diskonteringsrente",
    ),
    "calibration_end": ("End of calibration", "Kalibreringens slut", "Slutt på kalibreringen"),
    "holdout": ("Holdout", "Kontrollperiod", "Kontrollperiode"),
    "time_unit": ("Time unit", "Tidsenhet", "Tidsenhet"),
    "distinct_days": (
        "Same day counts once",
        "Samma dag räknas en gång",
        "Samme dag teller én gang",
    ),
    "top": ("Top customers", "Toppkunder", "Toppkunder"),
    "method": ("Method", "Metod", "Metode"),
    "recency_thresholds": (
        "Recency thresholds (days)",
        "Gränser för senaste köp (dagar)",
        "Grenser for siste kjøp (dager)",
    ),
    "frequency_thresholds": (
        "Frequency thresholds",
        "Gränser för frekvens",
        "Grenser for frekvens",
    ),
    "monetary_thresholds": ("Value thresholds", "Gränser för värde", "Grenser for verdi"),
}

_CHOICES: dict[str, tuple[str, str, str]] = {
    "bg_nbd": ("BG/NBD", "BG/NBD", "BG/NBD"),
    "pareto_nbd": ("Pareto/NBD", "Pareto/NBD", "Pareto/NBD"),
    "mbg_nbd": ("Modified BG/NBD", "Modifierad BG/NBD", "Modifisert BG/NBD"),
    "gamma_gamma": ("Gamma-Gamma", "Gamma-Gamma", "Gamma-Gamma"),
    "none": ("None", "Ingen", "Ingen"),
    "quantile": ("Quintiles", "Kvintiler", "Kvintiler"),
    "fixed": ("Fixed thresholds", "Fasta gränser", "Faste grenser"),
}

_SEGMENTS: dict[str, tuple[str, str, str]] = {
    "champions": ("Champions", "Mästare", "Mestere"),
    "loyal": ("Loyal", "Lojala", "Lojale"),
    "new": ("New customers", "Nya kunder", "Nye kunder"),
    "promising": ("Promising", "Lovande", "Lovende"),
    "need_attention": ("Need attention", "Behöver uppmärksamhet", "Trenger oppmerksomhet"),
    "cant_lose": ("Can't lose them", "Får inte förloras", "Må ikke mistes"),
    "at_risk": ("At risk", "I riskzonen", "I faresonen"),
    "hibernating": ("Hibernating", "I dvala", "I dvale"),
    "lost": ("Lost", "Förlorade", "Tapte"),
}

_PAGES: dict[str, tuple[str, str, str]] = {
    "clv.customers": ("Customers", "Kunder", "Kunder"),
    "clv.repeat_customers": ("Repeat customers", "Återkommande kunder", "Gjenkjøpskunder"),
    "clv.mean_p_alive": ("Mean P(alive)", "Medel-P(aktiv)", "Gjennomsnittlig P(aktiv)"),
    "clv.expected_purchases": ("Expected purchases", "Förväntade köp", "Forventede kjøp"),
    "clv.total_clv": ("CLV, all customers", "CLV, alla kunder", "CLV, alle kunder"),
    "clv.mean_clv": ("Mean CLV", "Medel-CLV", "Gjennomsnittlig CLV"),
    "clv.median_clv": ("Median CLV", "Median-CLV", "Median-CLV"),
    "clv.parameters": ("Parameters", "Parametrar", "Parametere"),
    "clv.model": ("Model", "Modell", "Modell"),
    "clv.parameter": ("Parameter", "Parameter", "Parameter"),
    "clv.estimate": ("Estimate", "Skattning", "Estimat"),
    "clv.standard_error": ("Standard error", "Medelfel", "Standardfeil"),
    "clv.log_likelihood": ("Log-likelihood", "Log-likelihood", "Log-likelihood"),
    "clv.warnings": ("Warnings", "Varningar", "Advarsler"),
    "clv.top": ("Top customers", "Toppkunder", "Toppkunder"),
    "clv.person": ("Person", "Person", "Person"),
    "clv.x": ("Repeat purchases", "Återköp", "Gjenkjøp"),
    "clv.t_x": ("Last purchase (t_x)", "Senaste köp (t_x)", "Siste kjøp (t_x)"),
    "clv.T": ("Age (T)", "Ålder (T)", "Alder (T)"),
    "clv.monetary": ("Mean repeat value", "Medelvärde per återköp", "Snittverdi per gjenkjøp"),
    "clv.p_alive": ("P(alive)", "P(aktiv)", "P(aktiv)"),
    "clv.expected_spend": (
        "Expected value per purchase",
        "Förväntat värde per köp",
        "Forventet verdi per kjøp",
    ),
    "clv.clv": ("CLV", "CLV", "CLV"),
    "clv.deciles": ("CLV by decile", "CLV per decil", "CLV per desil"),
    "clv.decile": ("Decile", "Decil", "Desil"),
    "clv.share": ("Share of CLV", "Andel av CLV", "Andel av CLV"),
    "clv.calibration": (
        "Predicted vs actual, holdout",
        "Förutsagt mot faktiskt, kontrollperiod",
        "Forventet mot faktisk, kontrollperiode",
    ),
    "clv.frequency": (
        "Repeat purchases in the calibration",
        "Återköp under kalibreringen",
        "Gjenkjøp i kalibreringen",
    ),
    "clv.actual": ("Actual", "Faktiskt", "Faktisk"),
    "clv.predicted": ("Predicted", "Förutsagt", "Forventet"),
    "clv.by_persona": ("Per persona", "Per persona", "Per persona"),
    "clv.persona": ("Persona", "Persona", "Persona"),
    "clv.repeat_share": ("Repeat share", "Andel återkommande", "Andel gjenkjøpere"),
    "clv.clv_distribution": ("CLV distribution", "CLV-fördelning", "CLV-fordeling"),
    "clv.p_alive_distribution": (
        "P(alive) distribution",
        "Fördelning av P(aktiv)",
        "Fordeling av P(aktiv)",
    ),
    "clv.predicted_vs_actual": (
        "Predicted vs actual repeat purchases",
        "Förutsagda mot faktiska återköp",
        "Forventede mot faktiske gjenkjøp",
    ),
    "clv.calibration_frequency": (
        "repeat purchases in the calibration",
        "återköp under kalibreringen",
        "gjenkjøp i kalibreringen",
    ),
    "clv.holdout_purchases": (
        "mean purchases in the holdout",
        "medelantal köp i kontrollperioden",
        "snitt kjøp i kontrollperioden",
    ),
    "clv.settings": ("Settings", "Inställningar", "Innstillinger"),
    "clv.period": ("Calibration", "Kalibrering", "Kalibrering"),
    "rfm.segments": ("Segments", "Segment", "Segmenter"),
    "rfm.segment": ("Segment", "Segment", "Segment"),
    "rfm.customers": ("Customers", "Kunder", "Kunder"),
    "rfm.share": ("Share of customers", "Andel av kunderna", "Andel av kundene"),
    "rfm.revenue": ("Revenue", "Intäkter", "Inntekter"),
    "rfm.revenue_share": ("Share of revenue", "Andel av intäkterna", "Andel av inntektene"),
    "rfm.recency": (
        "Mean days since last purchase",
        "Medeldagar sedan senaste köp",
        "Snitt dager siden siste kjøp",
    ),
    "rfm.frequency": ("Mean purchases", "Medelantal köp", "Snitt kjøp"),
    "rfm.grid": (
        "Customers by recency (R) and frequency (F) score",
        "Kunder per poäng för senaste köp (R) och frekvens (F)",
        "Kunder per poeng for siste kjøp (R) og frekvens (F)",
    ),
    "rfm.by_persona": ("Segments per persona", "Segment per persona", "Segmenter per persona"),
    "rfm.persona": ("Persona", "Persona", "Persona"),
    "rfm.share_axis": ("share", "andel", "andel"),
    "rfm.as_of": ("Recency as of", "Senaste köp räknat till", "Siste kjøp regnet til"),
}


def _table() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    sources = (("param.", _PARAMS), ("choice.", _CHOICES), ("segment.", _SEGMENTS), ("", _PAGES))
    for prefix, source in sources:
        for key, (en, sv, nb) in source.items():
            out[prefix + key] = {"en": en, "sv": sv, "nb": nb}
    return out


#: label key -> language -> text
ANALYSIS_LABELS: dict[str, dict[str, str]] = _table()
