"""Labels of the web app in Swedish, Norwegian (bokmål) and English.

>>> label("overview", "sv")
'Översikt'
>>> label("overview", "nb")
'Oversikt'
>>> pick_language("nb-NO,nb;q=0.9,en;q=0.5")
'nb'
"""

from __future__ import annotations

__all__ = ["LABELS", "LANGUAGES", "label", "pick_language"]

LANGUAGES = ("en", "sv", "nb")

LABELS: dict[str, dict[str, str]] = {
    "app": {"en": "kundresa", "sv": "kundresa", "nb": "kundresa"},
    "overview": {"en": "Overview", "sv": "Översikt", "nb": "Oversikt"},
    "quarantine": {"en": "Quarantine", "sv": "Karantän", "nb": "Karantene"},
    "keys": {"en": "API keys", "sv": "API-nycklar", "nb": "API-nøkler"},
    "login": {"en": "Log in", "sv": "Logga in", "nb": "Logg inn"},
    "logout": {"en": "Log out", "sv": "Logga ut", "nb": "Logg ut"},
    "user": {"en": "User", "sv": "Användare", "nb": "Bruker"},
    "password": {"en": "Password", "sv": "Lösenord", "nb": "Passord"},
    "login_failed": {
        "en": "Wrong user name or password.",
        "sv": "Fel användarnamn eller lösenord.",
        "nb": "Feil brukernavn eller passord.",
    },
    "too_many_attempts": {
        "en": "Too many failed logins for this user; try again in a few minutes.",
        "sv": "För många misslyckade inloggningar för användaren; försök igen om några minuter.",
        "nb": "For mange mislykkede innlogginger for brukeren; prøv igjen om noen minutter.",
    },
    "events": {"en": "Events", "sv": "Händelser", "nb": "Hendelser"},
    "touchpoints": {"en": "Touchpoints", "sv": "Kontaktpunkter", "nb": "Kontaktpunkter"},
    "persons": {"en": "Persons", "sv": "Personer", "nb": "Personer"},
    "sessions": {"en": "Sessions", "sv": "Sessioner", "nb": "Økter"},
    "merged_persons": {
        "en": "Persons merged from several ids",
        "sv": "Personer sammanfogade från flera id",
        "nb": "Personer slått sammen fra flere id-er",
    },
    "quarantined": {"en": "Quarantined", "sv": "I karantän", "nb": "I karantene"},
    "date_range": {"en": "Date range", "sv": "Period", "nb": "Periode"},
    "events_per_day": {
        "en": "Events per day by channel",
        "sv": "Händelser per dag och kanal",
        "nb": "Hendelser per dag og kanal",
    },
    "persons_per_day": {
        "en": "Active persons and conversions per day",
        "sv": "Aktiva personer och konverteringar per dag",
        "nb": "Aktive personer og konverteringer per dag",
    },
    "channel": {"en": "Channel", "sv": "Kanal", "nb": "Kanal"},
    "converted": {"en": "Converted", "sv": "Konverterade", "nb": "Konverterte"},
    "conversion": {"en": "Conversion", "sv": "Konvertering", "nb": "Konvertering"},
    "day": {"en": "Day", "sv": "Dag", "nb": "Dag"},
    "reason": {"en": "Reason", "sv": "Orsak", "nb": "Årsak"},
    "field": {"en": "Field", "sv": "Fält", "nb": "Felt"},
    "detail": {"en": "What to fix", "sv": "Vad som ska rättas", "nb": "Hva som må rettes"},
    "source": {"en": "Source", "sv": "Källa", "nb": "Kilde"},
    "raw": {"en": "Raw row", "sv": "Rådata", "nb": "Rådata"},
    "count": {"en": "Count", "sv": "Antal", "nb": "Antall"},
    "name": {"en": "Name", "sv": "Namn", "nb": "Navn"},
    "kind": {"en": "Kind", "sv": "Typ", "nb": "Type"},
    "created": {"en": "Created", "sv": "Skapad", "nb": "Opprettet"},
    "revoked": {"en": "Revoked", "sv": "Återkallad", "nb": "Tilbakekalt"},
    "revoke": {"en": "Revoke", "sv": "Återkalla", "nb": "Tilbakekall"},
    "create_key": {"en": "Create key", "sv": "Skapa nyckel", "nb": "Opprett nøkkel"},
    "write_key": {"en": "write (collector)", "sv": "skriv (insamling)", "nb": "skriv (innsamling)"},
    "read_key": {"en": "read (REST API)", "sv": "läs (REST-API)", "nb": "les (REST-API)"},
    "key_once": {
        "en": "Copy the key now: it is shown only once.",
        "sv": "Kopiera nyckeln nu: den visas bara en gång.",
        "nb": "Kopier nøkkelen nå: den vises bare én gang.",
    },
    "collector": {"en": "Collector", "sv": "Insamling", "nb": "Innsamling"},
    "collector_help": {
        "en": "Point any Segment or RudderStack SDK at this host with a write key.",
        "sv": "Peka valfri Segment- eller RudderStack-SDK mot den här värden med en skrivnyckel.",
        "nb": "Pek en hvilken som helst Segment- eller RudderStack-SDK mot denne verten med en "
        "skrivenøkkel.",
    },
    "pending": {"en": "Waiting to load", "sv": "Väntar på inläsning", "nb": "Venter på innlasting"},
    "json": {"en": "JSON", "sv": "JSON", "nb": "JSON"},
    "run": {"en": "Show", "sv": "Visa", "nb": "Vis"},
    "no_data": {
        "en": "No events yet.",
        "sv": "Inga händelser ännu.",
        "nb": "Ingen hendelser ennå.",
    },
    "analyses": {"en": "Analyses", "sv": "Analyser", "nb": "Analyser"},
    "language": {"en": "Language", "sv": "Språk", "nb": "Språk"},
    "error": {"en": "Error", "sv": "Fel", "nb": "Feil"},
    "journey_map": {"en": "Journey map", "sv": "Kundresekarta", "nb": "Kundereisekart"},
    "funnel": {"en": "Funnel", "sv": "Tratt", "nb": "Trakt"},
    "flows": {"en": "Flows", "sv": "Flöden", "nb": "Flyter"},
    "no_map": {
        "en": "No journey map is served: start the server with --map FILE (or a folder).",
        "sv": "Ingen kundresekarta visas: starta servern med --map FIL (eller en mapp).",
        "nb": "Ingen kundereisekart vises: start serveren med --map FIL (eller en mappe).",
    },
    "map_file": {"en": "Map file", "sv": "Kartfil", "nb": "Kartfil"},
    "map_invalid": {
        "en": "The map file has errors; fix them in the file:",
        "sv": "Kartfilen har fel; rätta dem i filen:",
        "nb": "Kartfilen har feil; rett dem i filen:",
    },
    "measured_persons": {
        "en": "Persons measured",
        "sv": "Uppmätta personer",
        "nb": "Målte personer",
    },
    "unassigned": {
        "en": "Persons without a persona",
        "sv": "Personer utan persona",
        "nb": "Personer uten persona",
    },
    "overall_conversion": {
        "en": "Conversion from first stage",
        "sv": "Konvertering från första fasen",
        "nb": "Konvertering fra første fase",
    },
    "biggest_dropoff": {
        "en": "Biggest drop-off",
        "sv": "Största avhoppet",
        "nb": "Største frafall",
    },
    "measured_numbers": {
        "en": "Measured numbers per stage",
        "sv": "Uppmätta siffror per fas",
        "nb": "Målte tall per fase",
    },
    "edit_lanes": {
        "en": "Edit the lanes",
        "sv": "Redigera raderna",
        "nb": "Rediger radene",
    },
    "edit_help": {
        "en": "One item per line. Touchpoints: name | channel. Opportunities: text | owner | "
        "status (idea, planned, in_progress, done, rejected). Emotion score from -2 to +2.",
        "sv": "En sak per rad. Kontaktpunkter: namn | kanal. Möjligheter: text | ägare | "
        "status (idea, planned, in_progress, done, rejected). Känslopoäng från -2 till +2.",
        "nb": "Én ting per linje. Kontaktpunkter: navn | kanal. Muligheter: tekst | eier | "
        "status (idea, planned, in_progress, done, rejected). Følelsespoeng fra -2 til +2.",
    },
    "emotion_score": {"en": "Emotion score", "sv": "Känslopoäng", "nb": "Følelsespoeng"},
    "emoji": {"en": "Emoji", "sv": "Emoji", "nb": "Emoji"},
    "quote": {"en": "Quote", "sv": "Citat", "nb": "Sitat"},
    "save": {"en": "Save to the map file", "sv": "Spara i kartfilen", "nb": "Lagre i kartfilen"},
    "saved": {
        "en": "Saved to the map file and validated.",
        "sv": "Sparat i kartfilen och validerat.",
        "nb": "Lagret i kartfilen og validert.",
    },
    "not_saved": {
        "en": "Not saved: the map file is unchanged. Fix these and save again:",
        "sv": "Inte sparat: kartfilen är oförändrad. Rätta detta och spara igen:",
        "nb": "Ikke lagret: kartfilen er uendret. Rett dette og lagre igjen:",
    },
    "pick_persona": {
        "en": "Pick a persona above to edit its lanes.",
        "sv": "Välj en persona ovan för att redigera dess rader.",
        "nb": "Velg en persona over for å redigere radene.",
    },
    "steps": {"en": "Steps", "sv": "Steg", "nb": "Steg"},
    "step": {"en": "Step", "sv": "Steg", "nb": "Steg"},
    "window": {"en": "Conversion window", "sv": "Konverteringsfönster", "nb": "Konverteringsvindu"},
    "order": {"en": "Order", "sv": "Ordning", "nb": "Rekkefølge"},
    "entry": {"en": "Entry", "sv": "Ingång", "nb": "Inngang"},
    "breakdown": {"en": "Break down by", "sv": "Dela upp på", "nb": "Del opp etter"},
    "none": {"en": "(none)", "sv": "(ingen)", "nb": "(ingen)"},
    "count_units": {"en": "Count", "sv": "Antal", "nb": "Antall"},
    "of_start": {"en": "Of start", "sv": "Av start", "nb": "Av start"},
    "of_previous": {"en": "Of previous", "sv": "Av föregående", "nb": "Av forrige"},
    "ci95": {"en": "95% interval", "sv": "95 % intervall", "nb": "95 % intervall"},
    "dropped": {"en": "Dropped", "sv": "Hoppade av", "nb": "Falt fra"},
    "median_time": {"en": "Median time", "sv": "Mediantid", "nb": "Mediantid"},
    "then_did": {"en": "Then did", "sv": "Gjorde sedan", "nb": "Gjorde så"},
    "funnel_help": {
        "en": "Pick the events in order (A|B = either, a trailing ? = optional step).",
        "sv": "Välj händelserna i ordning (A|B = någon av dem, ? på slutet = valfritt steg).",
        "nb": "Velg hendelsene i rekkefølge (A|B = en av dem, ? til slutt = valgfritt steg).",
    },
    "start_event": {"en": "Start at", "sv": "Börja vid", "nb": "Start ved"},
    "end_event": {"en": "End at", "sv": "Sluta vid", "nb": "Slutt ved"},
    "top": {"en": "Top per step", "sv": "Flest per steg", "nb": "Flest per steg"},
    "unit": {"en": "Unit", "sv": "Enhet", "nb": "Enhet"},
    "paths": {"en": "Paths", "sv": "Vägar", "nb": "Veier"},
    "flows_help": {
        "en": "Where people go from a start event (or come from, to an end event).",
        "sv": "Vart människor går från en starthändelse (eller kommer ifrån, till en "
        "sluthändelse).",
        "nb": "Hvor folk går fra en starthendelse (eller kommer fra, til en slutthendelse).",
    },
    "from": {"en": "From", "sv": "Från", "nb": "Fra"},
    "to": {"en": "To", "sv": "Till", "nb": "Til"},
    "label": {"en": "Label", "sv": "Etikett", "nb": "Etikett"},
    "engine": {"en": "Engine", "sv": "Motor", "nb": "Motor"},
}


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (English, then the key itself, when missing)."""
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


def pick_language(accept_language: str | None) -> str:
    """The first supported language of an ``Accept-Language`` header (``no``/``nn`` -> nb)."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        code = {"no": "nb", "nn": "nb"}.get(code, code)
        if code in LANGUAGES:
            return code
    return "en"


#: the modules whose ``ANALYSIS_LABELS`` are merged into :data:`LABELS` (one per group of pages)
_LABEL_MODULES = (
    "kundresa.server._i18n_analyses",
    "kundresa.server._i18n_retention",
    "kundresa.server._i18n_lifecycle",
    "kundresa.server._i18n_repeat",
    "kundresa.server._i18n_clv",
)


def _merge() -> None:
    import importlib

    for module in _LABEL_MODULES:
        labels: dict[str, dict[str, str]] = importlib.import_module(module).ANALYSIS_LABELS
        for key, texts in labels.items():
            LABELS.setdefault(key, texts)


_merge()
