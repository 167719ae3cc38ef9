"""Living journey maps: the map as a versioned file, measured on event data, rendered and
exported to open formats (Mermaid journey and timeline, CJML 2.0).

>>> from kundresa.maps import new_map, to_mermaid, from_mermaid
>>> m = new_map("awareness-to-conversion", lang="sv")
>>> from_mermaid(to_mermaid(m)) == m
True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kundresa._lazy import lazy as _lazy

if TYPE_CHECKING:
    from kundresa.maps._browser import chromium
    from kundresa.maps._cjml import to_cjml
    from kundresa.maps._io import MapFileError
    from kundresa.maps._measure import (
        LoyaltyMeasure,
        MapMeasurement,
        StageMeasure,
        TouchpointMeasure,
        measure_map,
    )
    from kundresa.maps._mermaid import from_mermaid, to_mermaid, to_timeline
    from kundresa.maps._model import (
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
    from kundresa.maps._render import render_html, render_map, render_svg
    from kundresa.maps._templates import TEMPLATES, new_map
    from kundresa.maps._validate import (
        MapValidationError,
        Problem,
        ValidationReport,
        load_map,
        validate_file,
    )

#: where each public name lives (imported on first use: listing the CLI's map commands
#: must not load the measuring engine)
_EXPORTS: dict[str, str] = {
    "Cell": "kundresa.maps._model",
    "Emotion": "kundresa.maps._model",
    "JourneyMap": "kundresa.maps._model",
    "LoyaltyMeasure": "kundresa.maps._measure",
    "MapFileError": "kundresa.maps._io",
    "MapMeasurement": "kundresa.maps._measure",
    "MapValidationError": "kundresa.maps._validate",
    "Measurement": "kundresa.maps._model",
    "Opportunity": "kundresa.maps._model",
    "Persona": "kundresa.maps._model",
    "Problem": "kundresa.maps._validate",
    "Rule": "kundresa.maps._model",
    "Stage": "kundresa.maps._model",
    "StageMeasure": "kundresa.maps._measure",
    "SurveyRule": "kundresa.maps._model",
    "TEMPLATES": "kundresa.maps._templates",
    "Touchpoint": "kundresa.maps._model",
    "TouchpointMeasure": "kundresa.maps._measure",
    "ValidationReport": "kundresa.maps._validate",
    "chromium": "kundresa.maps._browser",
    "from_mermaid": "kundresa.maps._mermaid",
    "load_map": "kundresa.maps._validate",
    "measure_map": "kundresa.maps._measure",
    "new_map": "kundresa.maps._templates",
    "render_html": "kundresa.maps._render",
    "render_map": "kundresa.maps._render",
    "render_svg": "kundresa.maps._render",
    "to_cjml": "kundresa.maps._cjml",
    "to_mermaid": "kundresa.maps._mermaid",
    "to_timeline": "kundresa.maps._mermaid",
    "validate_file": "kundresa.maps._validate",
}

__all__ = [
    "TEMPLATES",
    "Cell",
    "Emotion",
    "JourneyMap",
    "LoyaltyMeasure",
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
    from kundresa.maps._io import write_text

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(write_text(jm.to_dict(), p.suffix), encoding="utf-8")


def schema_path() -> Path:
    """The JSON Schema of the map format, shipped with the package.

    >>> schema_path().name
    'map.schema.json'
    """
    return Path(__file__).with_name("map.schema.json")


if not TYPE_CHECKING:  # mypy sees the imports above; Python resolves them on first use
    __getattr__, __dir__ = _lazy(__name__, _EXPORTS)

del TYPE_CHECKING
