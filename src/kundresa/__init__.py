"""kundresa: map, measure and improve the customer journey.

The front door. Everything public is listed in ``__all__`` (a test keeps them equal).

>>> import kundresa
>>> "Workspace" in kundresa.__all__
True
"""

from kundresa._ingest_sql import IdentifierRule
from kundresa.errors import (
    EngineUnavailableError,
    FileFormatError,
    InvalidOptionError,
    KundresaError,
    NotFoundError,
)
from kundresa.ingest import IngestReport
from kundresa.results import Result
from kundresa.server import serve
from kundresa.stitch import SessionConfig, StitchReport
from kundresa.workspace import InfoResult, QuarantineResult, Workspace

__version__ = "0.1.0"

__all__ = [
    "EngineUnavailableError",
    "FileFormatError",
    "IdentifierRule",
    "InfoResult",
    "IngestReport",
    "InvalidOptionError",
    "KundresaError",
    "NotFoundError",
    "QuarantineResult",
    "Result",
    "SessionConfig",
    "StitchReport",
    "Workspace",
    "__version__",
    "serve",
]
