"""Outside test oracles (pm4py, ChannelAttribution) are required, as Spark is.

``scripts/check`` installs them into the test venv. When one cannot be imported, its tests fail
with the reason; ``KUNDRESA_NO_ORACLES=1`` is the explicit opt-out (then they skip, naming it).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import pytest

#: how each oracle is installed (the failure message says it)
INSTALL = {
    "pm4py": "pip install pm4py",
    "ChannelAttribution": "pip install matplotlib ChannelAttribution (needs g++)",
}


def require_oracle(module: str) -> Any:
    """Import the outside oracle ``module``; fail with the reason unless ``KUNDRESA_NO_ORACLES=1``
    (then skip, naming it)."""
    if os.environ.get("KUNDRESA_NO_ORACLES") == "1":
        pytest.skip(f"KUNDRESA_NO_ORACLES=1: outside oracle {module} not run")
    try:
        return importlib.import_module(module)
    except Exception as exc:  # ImportError, or an oracle broken at import (a missing dependency)
        pytest.fail(
            f"outside oracle {module} cannot be imported ({type(exc).__name__}: {exc}); "
            f"install it ({INSTALL.get(module, 'pip install ' + module)}, as scripts/check does) "
            "or set KUNDRESA_NO_ORACLES=1 to skip it explicitly",
            pytrace=False,
        )
