"""Declarations: a journey map measured, checked for conformance, and discovered from data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import RULES, journey_map
from kundresa._contract import REQUIRED, Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace

_PAGES = "kundresa.server._pages_analyses"
_HERE = "kundresa._catalog.maps"


def _map() -> Param:
    return Param(
        "map", "map", REQUIRED, "The journey-map file.", positional=True, python="journey_map"
    )


def run_measure(ws: Workspace, p: Params) -> Result:
    """``kundresa.maps.measure_map``."""
    from kundresa.maps import measure_map

    return measure_map(journey_map(p.map), ws)


def run_conformance(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.conformance``."""
    from kundresa.paths import conformance

    return conformance(ws, journey_map(p.map), ignore=p.ignore)


#: what ``map conformance --out`` draws as the map with the result (ADR 0007)
MAP_FORMATS = (".html", ".svg", ".png", ".pdf")


def write_conformance(ws: Workspace, result: Result, p: Params, path: str) -> bool:
    """``--out map.svg``: the journey map drawn with the conformance lane."""
    from pathlib import Path

    from kundresa.maps import measure_map, render_map

    if Path(path).suffix.lower() not in MAP_FORMATS:
        return False
    jm = journey_map(p.map)
    render_map(jm, Path(path), measure_map(jm, ws), conformance=result)
    return True


def run_discover(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.discover_map``."""
    from kundresa._catalog._common import rules
    from kundresa.paths import discover_map

    return discover_map(
        ws,
        stages=p.stages,
        min_share=p.min_share,
        max_events=p.max_events,
        conversion=p.conversion,
        rules=rules(p),
        persona_property=p.persona_property,
        persona_event=p.persona_event,
        max_personas=p.max_personas,
        title=p.title,
        lang=p.lang,
        map_type=p.map_type,
    )


declare(
    Analysis(
        name="map-measure",
        titles={"en": "Journey map", "sv": "Kundresekarta", "nb": "Kundereisekart"},
        help="Measure every stage, touchpoint and persona of a journey map on the data.",
        params=(_map(),),
        run=f"{_HERE}:run_measure",
        python="kundresa.maps:measure_map",
        command=("map", "measure"),
        web_path="/map",
    )
)
declare(
    Analysis(
        name="map-conformance",
        titles={"en": "Conformance", "sv": "Följsamhet", "nb": "Samsvar"},
        help="Planned vs actual journeys: skipped stages, out of order, loops, unplanned "
        "touchpoints. --out map.svg (.html .png .pdf) draws the map with the result.",
        params=(
            _map(),
            Param("ignore", "event", None, "Event never counted as unplanned.", multiple=True),
        ),
        run=f"{_HERE}:run_conformance",
        page=f"{_PAGES}:render_conformance",
        figure=f"{_PAGES}:figure_conformance",
        python="kundresa.paths:conformance",
        command=("map", "conformance"),
        write=f"{_HERE}:write_conformance",
    )
)
declare(
    Analysis(
        name="map-discover",
        titles={"en": "Discovered map", "sv": "Upptäckt karta", "nb": "Oppdaget kart"},
        help="Propose a journey map (stages, touchpoints, channels, rules) from the dominant "
        "paths; --out draft.yaml writes it.",
        params=(
            Param("stages", "int", 5, "Number of stages to propose.", minimum=1, maximum=12),
            Param(
                "min_share",
                "float",
                0.05,
                "Keep events reached by at least this share of persons.",
                minimum=0,
                maximum=1,
            ),
            Param(
                "max_events",
                "int",
                12,
                "At most this many events in the map.",
                minimum=1,
                maximum=100,
            ),
            Param("conversion", "event", None, "The conversion event (closes the journey)."),
            Param(
                "persona_property",
                "text",
                None,
                "Property of persona_event whose values become personas.",
            ),
            Param("persona_event", "event", "Identify", "Event carrying the property."),
            Param("max_personas", "int", 6, "At most this many personas.", minimum=1, maximum=20),
            Param("title", "text", "", "The map's title."),
            Param("lang", "choice", "en", "Language of the draft.", choices=("en", "sv", "nb")),
            Param(
                "map_type",
                "choice",
                "current",
                "current, future or day_in_the_life.",
                choices=("current", "future", "day_in_the_life"),
            ),
            *RULES,
        ),
        run=f"{_HERE}:run_discover",
        python="kundresa.paths:discover_map",
        command=("map", "discover"),
    )
)
