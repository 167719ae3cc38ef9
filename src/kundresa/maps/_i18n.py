"""Labels of rendered maps in the map's language (sv, nb, en)."""

from __future__ import annotations

__all__ = ["label"]

_LABELS: dict[str, tuple[str, str, str]] = {
    # key: (sv, nb, en)
    "goal": ("Mål", "Mål", "Goal"),
    "owner": ("Ägare", "Eier", "Owner"),
    "status": ("Status", "Status", "Status"),
    "last_validated": ("Senast validerad", "Sist validert", "Last validated"),
    "type.current": ("Nuvarande kundresa", "Nåværende kundereise", "Current journey"),
    "type.future": ("Framtida kundresa", "Fremtidig kundereise", "Future journey"),
    "type.day_in_the_life": ("En dag i livet", "En dag i livet", "Day in the life"),
    "persona": ("Persona", "Persona", "Persona"),
    "personas": ("Personas", "Personas", "Personas"),
    "stage": ("Fas", "Fase", "Stage"),
    "activities": ("Aktiviteter", "Aktiviteter", "Activities"),
    "touchpoints": ("Kontaktpunkter", "Kontaktpunkter", "Touchpoints"),
    "emotion": ("Känsla", "Følelse", "Emotion"),
    "pain_points": ("Smärtpunkter", "Smertepunkter", "Pain points"),
    "opportunities": ("Möjligheter", "Muligheter", "Opportunities"),
    "notes": ("Anteckningar", "Notater", "Notes"),
    "measured": ("Uppmätt", "Målt", "Measured"),
    "conformance": ("Plan mot verklighet", "Plan mot virkelighet", "Planned vs actual"),
    "persons": ("personer", "personer", "persons"),
    "progress": ("går vidare", "går videre", "progress"),
    "dropoff": ("hoppar av", "faller fra", "drop off"),
    "median_time": ("mediantid", "mediantid", "median time"),
    "p90": ("p90", "p90", "p90"),
    "conversion": ("konverterar", "konverterer", "convert"),
    "channels": ("kanaler", "kanaler", "channels"),
    "went_instead": ("gick i stället till", "gikk i stedet til", "went instead to"),
    "left": ("lämnade", "forlot", "left"),
    "earlier": ("tidigare", "tidligere", "earlier"),
    "emotion_curve": ("Känslokurva", "Følelseskurve", "Emotion curve"),
    "as_is": ("nuläge", "nåsituasjon", "as-is"),
    "to_be": ("önskat läge", "ønsket situasjon", "to-be"),
    "needs": ("Behov", "Behov", "Needs"),
    "challenges": ("Utmaningar", "Utfordringer", "Challenges"),
    "buying": ("Köper helst", "Kjøper helst", "Prefers to buy"),
    "age": ("Ålder", "Alder", "Age"),
    "all_personas": ("Alla personas", "Alle personas", "All personas"),
    "not_measured": ("ej uppmätt", "ikke målt", "not measured"),
    "csat": ("CSAT", "CSAT", "CSAT"),
    "nps": ("NPS", "NPS", "NPS"),
    "measured_on": ("Uppmätt på", "Målt på", "Measured on"),
    "hours": ("h", "t", "h"),
    "days": ("d", "d", "d"),
    "critical_dropoff": ("Största avhoppet", "Største frafall", "Critical drop-off"),
    "print_all": ("Visa alla", "Vis alle", "Show all"),
    "anonymous": ("varav anonyma enheter", "herav anonyme enheter", "of which anonymous devices"),
}
_INDEX = {"sv": 0, "nb": 1, "en": 2}


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (English when unknown).

    >>> label("pain_points", "sv")
    'Smärtpunkter'
    """
    row = _LABELS.get(key)
    if row is None:
        return key
    return row[_INDEX.get(lang, 2)]
