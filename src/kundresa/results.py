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

import contextlib
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


#: what :func:`write_result` writes, by suffix
WRITE_FORMATS = (".csv", ".parquet", ".json", ".html")


def write_result(result: Result, path: Any) -> Any:
    """Write ``result`` by the suffix of ``path`` (``--out`` of every analysis command):
    ``.csv`` and ``.parquet`` its main table (``to_frame()``), ``.json`` its ``to_dict()``,
    ``.html`` the table and its figure; a result with its own ``save(path)`` (a discovered
    map) writes ``.yaml``/``.yml`` itself. Returns the path.

    >>> import tempfile, pathlib
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Count(Result):
    ...     n: int
    >>> p = write_result(Count(3), pathlib.Path(tempfile.mkdtemp()) / "c.json")
    >>> p.read_text()[:9]
    '{\\n  "n": 3'
    """
    from html import escape
    from pathlib import Path

    from kundresa.errors import InvalidOptionError

    out = Path(path)
    suffix = out.suffix.lower()
    save = getattr(result, "save", None)
    if suffix in (".yaml", ".yml") and callable(save):
        save(out)
        return out
    if suffix not in WRITE_FORMATS:
        raise InvalidOptionError("out", str(path), allowed=WRITE_FORMATS)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out.write_text(result.to_json() + "\n", encoding="utf-8")
    elif suffix == ".csv":
        result.to_frame().to_csv(out, index=False)
    elif suffix == ".parquet":
        result.to_frame().to_parquet(out, index=False)
    else:
        parts = [f"<h1>{escape(type(result).__name__)}</h1>", result.to_frame().to_html()]
        with contextlib.suppress(NotImplementedError, ImportError):
            parts.append(result.plot().to_html(full_html=False, include_plotlyjs=True))
        body = "".join(parts)
        out.write_text(f"<!doctype html><meta charset='utf-8'>{body}", encoding="utf-8")
    return out
