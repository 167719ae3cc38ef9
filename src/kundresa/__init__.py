"""kundresa: map, measure and improve the customer journey.

The front door. Everything public is listed in ``__all__`` (a test keeps them equal). The
names are imported on first use (PEP 562), so ``import kundresa`` and the ``kundresa``
command load no engine (Ibis, Arrow, DuckDB) until one is needed.

>>> import kundresa
>>> "Workspace" in kundresa.__all__
True
>>> kundresa.Step("Order Completed").names
('Order Completed',)
"""

from typing import TYPE_CHECKING

from kundresa._lazy import lazy as _lazy

if TYPE_CHECKING:
    from kundresa._errors import (
        EngineUnavailableError,
        FileFormatError,
        InvalidOptionError,
        KundresaError,
        NotFoundError,
    )
    from kundresa._ingest import IngestReport
    from kundresa._ingest_sql import IdentifierRule
    from kundresa._overview import EventsResult, OverviewResult, overview, recent_events
    from kundresa._pii import PiiRules
    from kundresa._results import Result
    from kundresa._retention import (
        RetentionPolicy,
        RetentionReport,
        apply_retention,
        retention_policy,
        set_retention_policy,
    )
    from kundresa._stitch import SessionConfig, StitchReport
    from kundresa._workspace import ForgetResult, InfoResult, QuarantineResult, Workspace
    from kundresa.attribution import (
        AttributionResult,
        ChannelReport,
        Journeys,
        RopoReport,
        attribute,
        build_journeys,
        channel_report,
        ropo_report,
    )
    from kundresa.funnel import Exclusion, FunnelResult, Step, funnel
    from kundresa.maps import (
        JourneyMap,
        MapMeasurement,
        load_map,
        measure_map,
        new_map,
        render_map,
        save_map,
        validate_file,
    )
    from kundresa.paths import (
        Conformance,
        DiscoveredMap,
        Flows,
        JourneyArchetypes,
        PageStats,
        PathRule,
        PathRules,
        PathsReport,
        TopPaths,
        TransitionGraph,
        Variants,
    )
    from kundresa.server import serve

__version__ = "0.1.0"

#: where each public name lives (imported on first use)
_EXPORTS: dict[str, str] = {
    "AttributionResult": "kundresa.attribution",
    "ChannelReport": "kundresa.attribution",
    "Conformance": "kundresa.paths",
    "DiscoveredMap": "kundresa.paths",
    "EngineUnavailableError": "kundresa._errors",
    "EventsResult": "kundresa._overview",
    "Exclusion": "kundresa.funnel",
    "FileFormatError": "kundresa._errors",
    "Flows": "kundresa.paths",
    "ForgetResult": "kundresa._workspace",
    "FunnelResult": "kundresa.funnel",
    "IdentifierRule": "kundresa._ingest_sql",
    "InfoResult": "kundresa._workspace",
    "IngestReport": "kundresa._ingest",
    "InvalidOptionError": "kundresa._errors",
    "JourneyArchetypes": "kundresa.paths",
    "JourneyMap": "kundresa.maps",
    "Journeys": "kundresa.attribution",
    "KundresaError": "kundresa._errors",
    "MapMeasurement": "kundresa.maps",
    "NotFoundError": "kundresa._errors",
    "OverviewResult": "kundresa._overview",
    "PageStats": "kundresa.paths",
    "PathRule": "kundresa.paths",
    "PathRules": "kundresa.paths",
    "PathsReport": "kundresa.paths",
    "PiiRules": "kundresa._pii",
    "QuarantineResult": "kundresa._workspace",
    "Result": "kundresa._results",
    "RetentionPolicy": "kundresa._retention",
    "RetentionReport": "kundresa._retention",
    "RopoReport": "kundresa.attribution",
    "SessionConfig": "kundresa._stitch",
    "Step": "kundresa.funnel",
    "StitchReport": "kundresa._stitch",
    "TopPaths": "kundresa.paths",
    "TransitionGraph": "kundresa.paths",
    "Variants": "kundresa.paths",
    "Workspace": "kundresa._workspace",
    "apply_retention": "kundresa._retention",
    "attribute": "kundresa.attribution",
    "build_journeys": "kundresa.attribution",
    "channel_report": "kundresa.attribution",
    "funnel": "kundresa.funnel",
    "load_map": "kundresa.maps",
    "measure_map": "kundresa.maps",
    "new_map": "kundresa.maps",
    "overview": "kundresa._overview",
    "recent_events": "kundresa._overview",
    "render_map": "kundresa.maps",
    "retention_policy": "kundresa._retention",
    "ropo_report": "kundresa.attribution",
    "save_map": "kundresa.maps",
    "serve": "kundresa.server",
    "set_retention_policy": "kundresa._retention",
    "validate_file": "kundresa.maps",
}

__all__ = [
    "AttributionResult",
    "ChannelReport",
    "Conformance",
    "DiscoveredMap",
    "EngineUnavailableError",
    "EventsResult",
    "Exclusion",
    "FileFormatError",
    "Flows",
    "ForgetResult",
    "FunnelResult",
    "IdentifierRule",
    "InfoResult",
    "IngestReport",
    "InvalidOptionError",
    "JourneyArchetypes",
    "JourneyMap",
    "Journeys",
    "KundresaError",
    "MapMeasurement",
    "NotFoundError",
    "OverviewResult",
    "PageStats",
    "PathRule",
    "PathRules",
    "PathsReport",
    "PiiRules",
    "QuarantineResult",
    "Result",
    "RetentionPolicy",
    "RetentionReport",
    "RopoReport",
    "SessionConfig",
    "Step",
    "StitchReport",
    "TopPaths",
    "TransitionGraph",
    "Variants",
    "Workspace",
    "__version__",
    "apply_retention",
    "attribute",
    "build_journeys",
    "channel_report",
    "funnel",
    "load_map",
    "measure_map",
    "new_map",
    "overview",
    "recent_events",
    "render_map",
    "retention_policy",
    "ropo_report",
    "save_map",
    "serve",
    "set_retention_policy",
    "validate_file",
]

if not TYPE_CHECKING:  # mypy sees the imports above; Python resolves the names on first use
    __getattr__, __dir__ = _lazy(__name__, _EXPORTS)

del TYPE_CHECKING
