"""Living journey maps: the map as a versioned file, measured on event data, rendered and
exported to open formats (Mermaid journey and timeline, CJML 2.0).

>>> from kundresa.maps import new_map, to_mermaid, from_mermaid
>>> m = new_map("awareness-to-conversion", lang="sv")
>>> from_mermaid(to_mermaid(m)) == m
True
"""

from __future__ import annotations

from pathlib import Path

from kundresa.maps._browser import chromium
from kundresa.maps._io import MapFileError, write_text
from kundresa.maps.cjml import to_cjml
from kundresa.maps.measure import MapMeasurement, StageMeasure, TouchpointMeasure, measure_map
from kundresa.maps.mermaid import from_mermaid, to_mermaid, to_timeline
from kundresa.maps.model import (
    Cell,
    Emotion,
    JourneyMap,
    Measurement,
    Opportunity,
    Persona,
    Rule,
    Stage,
    SurveyRule,
    Touchpoint,
)
from kundresa.maps.render import render_html, render_map, render_svg
from kundresa.maps.templates import TEMPLATES, new_map
from kundresa.maps.validate import (
    MapValidationError,
    Problem,
    ValidationReport,
    load_map,
    validate_file,
)

__all__ = [
    "TEMPLATES",
    "Cell",
    "Emotion",
    "JourneyMap",
    "MapFileError",
    "MapMeasurement",
    "MapValidationError",
    "Measurement",
    "Opportunity",
    "Persona",
    "Problem",
    "Rule",
    "Stage",
    "StageMeasure",
    "SurveyRule",
    "Touchpoint",
    "TouchpointMeasure",
    "ValidationReport",
    "chromium",
    "from_mermaid",
    "load_map",
    "measure_map",
    "new_map",
    "render_html",
    "render_map",
    "render_svg",
    "save_map",
    "schema_path",
    "to_cjml",
    "to_mermaid",
    "to_timeline",
    "validate_file",
]


def save_map(jm: JourneyMap, path: str | Path) -> None:
    """Write a map as YAML (``.yaml``/``.yml``) or JSON (``.json``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.json"
    >>> save_map(new_map(lang="nb"), p)
    >>> load_map(p) == new_map(lang="nb")
    True
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(write_text(jm.to_dict(), p.suffix), encoding="utf-8")


def schema_path() -> Path:
    """The JSON Schema of the map format, shipped with the package.

    >>> schema_path().name
    'map.schema.json'
    """
    return Path(__file__).with_name("map.schema.json")
