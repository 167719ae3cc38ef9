"""kundresa: map, measure and improve the customer journey.

The front door. Everything public is listed in ``__all__`` (a test keeps them equal).

>>> import kundresa
>>> "Workspace" in kundresa.__all__
True
"""

from kundresa._ingest_sql import IdentifierRule
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
from kundresa.errors import (
    EngineUnavailableError,
    FileFormatError,
    InvalidOptionError,
    KundresaError,
    NotFoundError,
)
from kundresa.funnel import Exclusion, FunnelResult, Step, funnel
from kundresa.ingest import IngestReport
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
from kundresa.results import Result
from kundresa.server import serve
from kundresa.stitch import SessionConfig, StitchReport
from kundresa.workspace import ForgetResult, InfoResult, QuarantineResult, Workspace

__version__ = "0.1.0"

__all__ = [
    "AttributionResult",
    "ChannelReport",
    "Conformance",
    "DiscoveredMap",
    "EngineUnavailableError",
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
    "PageStats",
    "PathRule",
    "PathRules",
    "PathsReport",
    "QuarantineResult",
    "Result",
    "RopoReport",
    "SessionConfig",
    "Step",
    "StitchReport",
    "TopPaths",
    "TransitionGraph",
    "Variants",
    "Workspace",
    "__version__",
    "attribute",
    "build_journeys",
    "channel_report",
    "funnel",
    "load_map",
    "measure_map",
    "new_map",
    "render_map",
    "ropo_report",
    "save_map",
    "serve",
    "validate_file",
]
