"""Funnels with every semantics users ask for, each an explicit parameter.

>>> from kundresa.funnel import Step, Exclusion
>>> Step("Product Added", optional=True).optional
True

``kundresa.funnel`` is this package; :func:`kundresa.funnel.funnel` computes a funnel, and
the package itself is callable as a shorthand for it (``kundresa.funnel(ws, steps)``, as
``from kundresa import funnel; funnel(ws, steps)`` has always read):

>>> import inspect, kundresa
>>> inspect.ismodule(kundresa.funnel), callable(kundresa.funnel)
(True, True)
>>> list(inspect.signature(kundresa.funnel).parameters)[:2]
['ws', 'steps']

See ``docs/funnel.md``.
"""

import inspect as _inspect
import sys as _sys
import types as _types
from typing import Any as _Any

from kundresa._public import publish as _publish
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


class _FunnelPackage(_types.ModuleType):
    """The ``kundresa.funnel`` package; calling it computes :func:`funnel`."""

    __signature__ = _inspect.signature(funnel)

    def __call__(self, *args: _Any, **kwargs: _Any) -> FunnelResult:
        return funnel(*args, **kwargs)


_sys.modules[__name__].__class__ = _FunnelPackage
_publish(__name__, [globals()[name] for name in __all__])
