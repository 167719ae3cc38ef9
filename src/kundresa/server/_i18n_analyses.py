"""Labels of the analysis pages (attribution, channels, journeys, transitions, ROPO,
conformance) and of the derived forms' parameters, in English, Swedish and Norwegian
(bokmål). :mod:`kundresa.server._i18n` merges them into its ``LABELS``.

>>> ANALYSIS_LABELS["model.markov"]["sv"]
'Markovkedja'
>>> PARAM_PREFIX + "conversion" in ANALYSIS_LABELS
True
"""

from __future__ import annotations

__all__ = ["ANALYSIS_LABELS", "PARAM_PREFIX"]

#: the label key of a form parameter is this prefix and the parameter's name
PARAM_PREFIX = "param."

_PARAMS: dict[str, tuple[str, str, str]] = {
    "conversion": ("Conversion event", "Konverteringshändelse", "Konverteringshendelse"),
    "model": ("Models", "Modeller", "Modeller"),
    "lookback": ("Lookback", "Tillbakablick", "Tilbakeblikk"),
    "unit": ("Unit", "Enhet", "Enhet"),
    "first_only": (
        "First conversion only",
        "Bara första konverteringen",
        "Bare første konvertering",
    ),
    "channel_column": ("Channel column", "Kanalkolumn", "Kanalkolonne"),
    "exclude_channels": ("Exclude channels", "Uteslut kanaler", "Utelat kanaler"),
    "markov_order": ("Markov order", "Markov-ordning", "Markov-orden"),
    "half_life": ("Half-life", "Halveringstid", "Halveringstid"),
    "direct_channels": ("Direct channels", "Direkta kanaler", "Direkte kanaler"),
    "coalition": ("Shapley coalition value", "Shapley-koalitionsvärde", "Shapley-koalisjonsverdi"),
    "map": ("Journey map", "Kundresekarta", "Kundereisekart"),
    "column": ("Column", "Kolumn", "Kolonne"),
    "offline_channels": ("Offline channels", "Offlinekanaler", "Offlinekanaler"),
    "online_channels": ("Online channels", "Onlinekanaler", "Onlinekanaler"),
    "research_event": ("Research event", "Researchhändelse", "Researchhendelse"),
    "method": ("Method", "Metod", "Metode"),
    "long_after": ("Long after", "Lång efter", "Lang etter"),
    "session_gap": ("Session gap", "Sessionsuppehåll", "Øktpause"),
    "collapse_repeats": ("Merge repeats", "Slå ihop upprepningar", "Slå sammen gjentakelser"),
    "rename": ("Rename events", "Döp om händelser", "Gi hendelser nytt navn"),
    "rename_url": ("Rename by URL", "Döp om efter URL", "Gi nytt navn etter URL"),
    "hide": ("Hide events", "Dölj händelser", "Skjul hendelser"),
    "group_by": ("Refine by", "Förfina efter", "Forfin etter"),
    "ignore": ("Never unplanned", "Aldrig oplanerad", "Aldri uplanlagt"),
    # the other analyses' forms
    "limit": ("Rows", "Rader", "Rader"),
    "event_id": ("Event id", "Händelse-id", "Hendelses-id"),
    "user_id": ("User id", "Användar-id", "Bruker-id"),
    "anonymous_id": ("Device id", "Enhets-id", "Enhets-id"),
    "person_id": ("Person id", "Person-id", "Person-id"),
    "reason": ("Reason", "Orsak", "Årsak"),
    "steps": ("Steps", "Steg", "Steg"),
    "window": ("Conversion window", "Konverteringsfönster", "Konverteringsvindu"),
    "order": ("Order", "Ordning", "Rekkefølge"),
    "entry": ("Entry", "Ingång", "Inngang"),
    "exclude": ("Exclude", "Uteslut", "Utelat"),
    "within": ("Within", "Inom", "Innen"),
    "directly_followed": ("Directly followed", "Direkt efter", "Rett etter"),
    "hold_constant": ("Hold constant", "Håll konstant", "Hold konstant"),
    "tie": ("Ties", "Lika tider", "Like tider"),
    "tie_order": ("Tie order", "Ordning vid lika tider", "Rekkefølge ved like tider"),
    "denominator": ("Denominator", "Nämnare", "Nevner"),
    "by": ("Break down by", "Dela upp på", "Del opp etter"),
    "attribution": (
        "Breakdown attribution",
        "Uppdelningens tillskrivning",
        "Oppdelingens tilskriving",
    ),
    "trend": ("Trend", "Trend", "Trend"),
    "next_events": ("Next events", "Nästa händelser", "Neste hendelser"),
    "drop_off_ids": ("Drop-off ids", "Avhopps-id", "Frafalls-id-er"),
    "max_steps": ("Steps", "Steg", "Steg"),
    "top": ("Top", "Flest", "Flest"),
    "start": ("Start at", "Börja vid", "Start ved"),
    "end": ("End at", "Sluta vid", "Slutt ved"),
    "outcome": ("Outcome", "Utfall", "Utfall"),
    "step": ("Step reached", "Nått steg", "Nådd steg"),
    "next_step": ("Step not reached", "Steg som inte nåddes", "Steg som ikke ble nådd"),
    "page_field": ("Page field", "Sidfält", "Sidefelt"),
    "page_events": ("Page events", "Sidhändelser", "Sidehendelser"),
    "stages": ("Stages", "Faser", "Faser"),
    "min_share": ("Minimum share", "Minsta andel", "Minste andel"),
    "max_events": ("At most events", "Högst händelser", "Høyst hendelser"),
    "persona_property": ("Persona property", "Persona-egenskap", "Persona-egenskap"),
    "persona_event": ("Persona event", "Persona-händelse", "Persona-hendelse"),
    "max_personas": ("At most personas", "Högst personas", "Høyst personas"),
    "title": ("Title", "Titel", "Tittel"),
    "lang": ("Language", "Språk", "Språk"),
    "map_type": ("Map type", "Karttyp", "Karttype"),
}

#: attribution models by name (the JSON keeps the names; the pages show these)
_MODELS: dict[str, tuple[str, str, str]] = {
    "first": ("First touch", "Första kontakt", "Første kontakt"),
    "last": ("Last touch", "Sista kontakt", "Siste kontakt"),
    "last_non_direct": ("Last non-direct", "Sista icke-direkta", "Siste ikke-direkte"),
    "linear": ("Linear", "Linjär", "Lineær"),
    "participation": ("Participation", "Deltagande", "Deltakelse"),
    "time_decay": ("Time decay", "Tidsavtagande", "Tidsavtagende"),
    "position": ("Position (U)", "Position (U)", "Posisjon (U)"),
    "j_shaped": ("J-shaped", "J-formad", "J-formet"),
    "inverse_j": ("Inverse J", "Omvänd J", "Omvendt J"),
    "custom": ("Custom weights", "Egna vikter", "Egne vekter"),
    "markov": ("Markov chain", "Markovkedja", "Markovkjede"),
    "shapley": ("Shapley", "Shapley", "Shapley"),
    "shapley_ordered": ("Ordered Shapley", "Ordnad Shapley", "Ordnet Shapley"),
    "all": ("All models", "Alla modeller", "Alle modeller"),
}

#: values of the forms' selects (the value sent stays the name)
_CHOICES: dict[str, tuple[str, str, str]] = {
    "true": ("yes", "ja", "ja"),
    "false": ("no", "nej", "nei"),
    "person": ("person", "person", "person"),
    "session": ("session", "session", "økt"),
    "threshold": ("threshold", "tröskel", "terskel"),
    "kmeans": ("k-means", "k-means", "k-means"),
    "rate": ("conversion rate", "konverteringsgrad", "konverteringsgrad"),
    "conversions": ("conversions", "konverteringar", "konverteringer"),
    "conversion": ("conversion", "konvertering", "konvertering"),
    "drop_off": ("drop-off", "avhopp", "frafall"),
    "current": ("current state", "nuläge", "nåsituasjon"),
    "future": ("future state", "framtida läge", "fremtidig situasjon"),
    "day_in_the_life": ("day in the life", "en dag i livet", "en dag i livet"),
    "day": ("day", "dag", "dag"),
    "week": ("week", "vecka", "uke"),
    "month": ("month", "månad", "måned"),
    "en": ("English", "engelska", "engelsk"),
    "sv": ("Swedish", "svenska", "svensk"),
    "nb": ("Norwegian", "norska", "norsk"),
}

_PAGES: dict[str, tuple[str, str, str]] = {
    # attribution
    "attributed_conversions": (
        "Attributed conversions per channel and model",
        "Tillskrivna konverteringar per kanal och modell",
        "Tilskrevne konverteringer per kanal og modell",
    ),
    "per_stage": ("Per journey stage", "Per fas i kundresan", "Per fase i kundereisen"),
    "per_stage_channel": ("Per stage and channel", "Per fas och kanal", "Per fase og kanal"),
    "stage": ("Stage", "Fas", "Fase"),
    "persona": ("Persona", "Persona", "Persona"),
    "conversions": ("Conversions", "Konverteringar", "Konverteringer"),
    "journeys_n": ("Journeys", "Kundresor", "Kundereiser"),
    "converting_journeys": (
        "Converting journeys",
        "Konverterande kundresor",
        "Konverterende kundereiser",
    ),
    "unattributed": ("Without a touch", "Utan kontakt", "Uten kontakt"),
    "reach": ("Persons reached", "Nådda personer", "Nådde personer"),
    "removal_effect": ("Removal effect", "Borttagningseffekt", "Fjerningseffekt"),
    "value": ("Revenue", "Intäkt", "Inntekt"),
    "all_stages": ("All stages", "Alla faser", "Alle faser"),
    # channels
    "channels_table": ("Channels", "Kanaler", "Kanaler"),
    "touches": ("Touches", "Kontakter", "Kontakter"),
    "first_touch_share": ("First touch", "Första kontakt", "Første kontakt"),
    "conversions_touched": (
        "Conversions touched",
        "Berörda konverteringar",
        "Berørte konverteringer",
    ),
    "revenue_touched": ("Revenue touched", "Berörd intäkt", "Berørt inntekt"),
    "conversion_rate": ("Conversion rate", "Konverteringsgrad", "Konverteringsgrad"),
    "time_to_conversion": (
        "Median time to conversion",
        "Mediantid till konvertering",
        "Mediantid til konvertering",
    ),
    "persons_reached": ("Persons reached", "Nådda personer", "Nådde personer"),
    "persons_per_stage": (
        "Persons reached per stage and channel",
        "Nådda personer per fas och kanal",
        "Nådde personer per fase og kanal",
    ),
    "persons_per_persona": (
        "Persons reached per persona and channel",
        "Nådda personer per persona och kanal",
        "Nådde personer per persona og kanal",
    ),
    # journeys
    "archetype": ("Journey", "Kundresa", "Kundereise"),
    "archetype.long": ("Long", "Lång", "Lang"),
    "archetype.short": ("Short", "Kort", "Kort"),
    "share": ("Share", "Andel", "Andel"),
    "median_touches": ("Median touches", "Median kontakter", "Median kontakter"),
    "median_duration": ("Median duration", "Mediantid", "Mediantid"),
    "median_channels": ("Median channels", "Median kanaler", "Median kanaler"),
    "top_channels": ("Top channels", "Vanligaste kanaler", "Vanligste kanaler"),
    "long_vs_short": (
        "Long vs short journeys to conversion",
        "Långa mot korta kundresor till konvertering",
        "Lange mot korte kundereiser til konvertering",
    ),
    "long_boundary": ("Long after", "Lång efter", "Lang etter"),
    "journeys_axis_touches": ("Touches", "Kontakter", "Kontakter"),
    "journeys_axis_days": ("Days", "Dagar", "Dager"),
    # transitions
    "transitions_n": ("Transitions", "Övergångar", "Overganger"),
    "edges": ("Edges", "Kanter", "Kanter"),
    "units": ("Paths", "Vägar", "Veier"),
    "top_transitions": (
        "Most frequent transitions",
        "Vanligaste övergångarna",
        "Vanligste overganger",
    ),
    "nodes": ("Events in the graph", "Händelser i grafen", "Hendelser i grafen"),
    "starts": ("Starts", "Startar", "Starter"),
    "ends": ("Ends", "Slutar", "Slutter"),
    "self_loops": ("Self-loops", "Självslingor", "Selvløkker"),
    # ropo
    "ropo_share": (
        "Offline purchases researched online",
        "Butiksköp med research online",
        "Butikkjøp med research på nett",
    ),
    "ropo_share_linked": (
        "The same, of persons linked online",
        "Detsamma, av personer kopplade online",
        "Det samme, av personer koblet på nett",
    ),
    "ropo_value": ("Value", "Värde", "Verdi"),
    "showrooming": ("Showrooming", "Showrooming", "Showrooming"),
    "offline_conversions": (
        "Offline conversions",
        "Offlinekonverteringar",
        "Offlinekonverteringer",
    ),
    "researched_online": ("Researched online", "Research online", "Research på nett"),
    "linked_offline_conversions": (
        "Offline conversions of persons linked online",
        "Offlinekonverteringar av personer kopplade online",
        "Offlinekonverteringer av personer koblet på nett",
    ),
    "online_conversions": ("Online conversions", "Onlinekonverteringar", "Nettkonverteringer"),
    "touched_offline": (
        "With an offline touch before",
        "Med en offlinekontakt före",
        "Med en offlinekontakt før",
    ),
    "measure": ("Measure", "Mått", "Mål"),
    "ropo_by_channel": (
        "Share of offline conversions preceded by each online channel",
        "Andel av offlinekonverteringarna som föregicks av varje onlinekanal",
        "Andel av offlinekonverteringene som ble innledet av hver nettkanal",
    ),
    # conformance
    "conformant": ("Persons as planned", "Personer enligt plan", "Personer etter plan"),
    "conformance_rate": ("Conformance", "Följsamhet", "Samsvar"),
    "expected": ("Expected", "Förväntade", "Forventet"),
    "reached": ("Reached", "Nådde", "Nådde"),
    "as_planned": ("As planned", "Enligt plan", "Etter plan"),
    "skipped": ("Skipped", "Hoppade över", "Hoppet over"),
    "out_of_order": ("Out of order", "I fel ordning", "I feil rekkefølge"),
    "looped": ("Looped", "Gick i slinga", "Gikk i sløyfe"),
    "unplanned_events": ("Unplanned touches", "Oplanerade kontakter", "Uplanlagte kontakter"),
    "unplanned_persons": ("Persons off plan", "Personer utanför plan", "Personer utenfor plan"),
    "top_unplanned": ("Most unplanned", "Vanligast oplanerade", "Vanligste uplanlagte"),
    "unplanned_per_stage": (
        "Unplanned touches per stage",
        "Oplanerade kontakter per fas",
        "Uplanlagte kontakter per fase",
    ),
    "planned_vs_actual": ("Planned vs actual", "Planerat mot verkligt", "Planlagt mot faktisk"),
    "conformance_per_persona": (
        "Conformance per persona and stage",
        "Följsamhet per persona och fas",
        "Samsvar per persona og fase",
    ),
    "everyone": ("Everyone", "Alla", "Alle"),
}


def _table() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    sources = ((PARAM_PREFIX, _PARAMS), ("model.", _MODELS), ("choice.", _CHOICES), ("", _PAGES))
    for prefix, source in sources:
        for key, (en, sv, nb) in source.items():
            out[prefix + key] = {"en": en, "sv": sv, "nb": nb}
    return out


#: label key -> language -> text
ANALYSIS_LABELS: dict[str, dict[str, str]] = _table()
