"""Immutable result objects: every analysis returns one, every surface renders one.

A result is a frozen dataclass with ``to_dict()`` (JSON-ready), ``to_frame()`` (pandas),
``plot()`` (a Plotly figure, where it makes sense) and a readable ``str()``.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Count(Result):
...     n: int
>>> Count(3).to_dict()
{'n': 3}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

__all__ = ["Result", "jsonable"]


def jsonable(value: Any) -> Any:
    """Convert dataclasses, tuples, dates and numpy scalars to JSON types.

    >>> jsonable({"when": dt.date(2026, 1, 5), "xs": (1, 2)})
    {'when': '2026-01-05', 'xs': [1, 2]}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


@dataclasses.dataclass(frozen=True)
class Result:
    """Base of every result object."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the whole result."""
        out = jsonable(self)
        assert isinstance(out, dict)
        return out

    def to_json(self) -> str:
        """The result as JSON text (what the API and ``--json`` print)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_frame(self) -> Any:
        """The result as a pandas DataFrame (one row per item of the main table)."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def plot(self) -> Any:  # pragma: no cover - overridden where a figure makes sense
        """A Plotly figure of the result."""
        raise NotImplementedError(f"{type(self).__name__} has no figure")
