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
