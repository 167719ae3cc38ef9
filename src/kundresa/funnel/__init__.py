"""Funnels with every semantics users ask for, each an explicit parameter.

>>> from kundresa.funnel import Step, Exclusion
>>> Step("Product Added", optional=True).optional
True

See :func:`funnel` and ``docs/funnel.md``.
"""

from kundresa.funnel._analysis import funnel
from kundresa.funnel._result import (
    BreakdownRow,
    DropOff,
    FunnelResult,
    FunnelStep,
    Rate,
    TrendRow,
    wilson,
)
from kundresa.funnel._spec import Exclusion, FunnelSpec, Step

__all__ = [
    "BreakdownRow",
    "DropOff",
    "Exclusion",
    "FunnelResult",
    "FunnelSpec",
    "FunnelStep",
    "Rate",
    "Step",
    "TrendRow",
    "funnel",
    "wilson",
]
