"""Immutable result objects: every analysis returns one, every surface renders one.

A result is a frozen dataclass with ``to_dict()`` (JSON-ready), ``to_frame()`` (pandas),
``plot()`` (a Plotly figure, where it makes sense) and a readable ``str()``. It is
read-only all the way down: on construction every field is frozen (:func:`freeze`: a
``dict`` becomes a read-only :class:`FrozenDict`, a ``list`` a ``tuple``, a ``set`` a
``frozenset``, a numpy array a read-only view). Run metadata (``engine``, ``kernel``,
``seconds``: how a result was computed, not what it is) is declared
``field(compare=False)``, so two runs that differ only there are equal and hash equal.

>>> from dataclasses import dataclass, field
>>> @dataclass(frozen=True)
... class Count(Result):
...     n: int
...     by: dict[str, list[int]]
...     seconds: float = field(default=0.0, compare=False)
>>> c = Count(3, {"a": [1, 2]}, seconds=0.5)
>>> c.by
{'a': (1, 2)}
>>> c.by["b"] = [3]
Traceback (most recent call last):
...
TypeError: 'FrozenDict' object does not support item assignment
>>> c.to_dict()
{'n': 3, 'by': {'a': [1, 2]}, 'seconds': 0.5}
>>> c == Count(3, {"a": [1, 2]}, seconds=9.0), hash(c) == hash(Count(3, {"a": [1, 2]}))
(True, True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from kundresa._frozen import FrozenDict, freeze, freeze_fields

__all__ = [
    "WRITE_FORMATS",
    "FrozenDict",
    "Result",
    "freeze",
    "jsonable",
    "result_html",
    "result_page",
    "write_result",
]


def jsonable(value: Any) -> Any:
    """Convert dataclasses, mappings (a :class:`FrozenDict` too), tuples, sets, dates and
    numpy scalars to JSON types.

    >>> jsonable({"when": dt.date(2026, 1, 5), "xs": (1, 2), "file": PurePath("a/b.json")})
    {'when': '2026-01-05', 'xs': [1, 2], 'file': 'a/b.json'}
    >>> jsonable(FrozenDict(a=frozenset({2, 1})))
    {'a': [1, 2]}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [jsonable(v) for v in value]
        with contextlib.suppress(TypeError):
            items.sort()
        return items
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


@dataclasses.dataclass(frozen=True)
class Result:
    """Base of every result object.

    ``_renamed`` maps an attribute's old spelling to its new one: reading the old one
    still works for one release and warns, naming the new one.
    """

    _renamed: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass' own ``__post_init__`` runs first, then the fields are frozen (so it
        need not call ``super().__post_init__()``, and may still set fields)."""
        super().__init_subclass__(**kwargs)
        own = vars(cls).get("__post_init__")
        if own is not None and not getattr(own, "_freezes", False):
            cls.__post_init__ = _then_freeze(own)  # type: ignore[method-assign]

    def __post_init__(self) -> None:
        """Freeze every field (see the module notes)."""
        freeze_fields(self)

    if not TYPE_CHECKING:  # invisible to mypy, so misspelt attributes stay type errors

        def __getattr__(self, name: str) -> Any:
            new = type(self)._renamed.get(name)
            if new is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            warnings.warn(
                f"{type(self).__name__}.{name} is deprecated, use .{new} "
                "(the old spelling goes in the next release)",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(self, new)

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

    def to_pandas(self) -> Any:
        """The main table as a pandas DataFrame (the same as :meth:`to_frame`)."""
        return self.to_frame()

    def to_arrow(self) -> Any:
        """The main table as a pyarrow Table.

        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Count(Result):
        ...     n: int
        >>> Count(3).to_arrow().column("n").to_pylist()
        [3]
        """
        import pyarrow as pa

        return pa.Table.from_pandas(self.to_frame(), preserve_index=False)

    def to_polars(self) -> Any:
        """The main table as a polars DataFrame (needs the ``polars`` package)."""
        try:
            import polars as pl  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            from kundresa._errors import KundresaError

            raise KundresaError(
                "to_polars needs polars: pip install polars (or use to_pandas / to_arrow)"
            ) from None
        return pl.from_arrow(self.to_arrow())

    def to_png(self, path: Any, *, browser: Any = None) -> Any:
        """Write the result's table and chart (the page ``--out x.html`` writes) as a PNG,
        drawn by the system's headless chromium through Playwright once the chart has
        drawn; returns the path. Needs chromium (``apt-get install chromium``) and
        Playwright (``pip install 'kundresa[map]'``), else one
        :class:`~kundresa._errors.EngineUnavailableError` saying so. ``browser`` (or an
        open ``with kundresa.maps.chromium():``) is reused instead of starting one.

        >>> import tempfile, pathlib
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Count(Result):
        ...     n: int
        >>> png = Count(3).to_png(pathlib.Path(tempfile.mkdtemp()) / "c.png")  # needs chromium
        >>> png.read_bytes()[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
        """
        from pathlib import Path

        from kundresa.maps._browser import html_to_png

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            from plotly.offline import get_plotlyjs

            scripts: tuple[str, ...] = ("window.PlotlyConfig = {MathJaxConfig: 'local'};",
                                        get_plotlyjs())  # fmt: skip
        except ImportError:  # no plotly: the table alone (result_html draws no chart)
            scripts = ()
        # the page --out x.html writes, with plotly.js run once per browser beforehand
        html_to_png(result_page(self, inline_js=False), out, browser, scripts=scripts)
        return out

    def _repr_html_(self) -> str:
        """Jupyter: the summary table and its chart (plotly.js from the installed package,
        inlined once per kernel, never a CDN)."""
        return result_html(self)


def _then_freeze(post_init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(post_init)
    def post_init_then_freeze(self: Result, *args: Any) -> None:
        post_init(self, *args)
        freeze_fields(self)

    post_init_then_freeze._freezes = True  # type: ignore[attr-defined]
    return post_init_then_freeze


#: what :func:`write_result` writes, by suffix
WRITE_FORMATS = (".csv", ".parquet", ".json", ".html", ".png")


def write_result(result: Result, path: Any) -> Any:
    """Write ``result`` by the suffix of ``path`` (``--out`` of every analysis command):
    ``.csv`` and ``.parquet`` its main table (``to_frame()``), ``.json`` its ``to_dict()``,
    ``.html`` the table and its figure (:func:`result_page`), ``.png`` that page drawn by
    chromium (:meth:`Result.to_png`); a result with its own ``save(path)`` (a discovered
    map) writes ``.yaml``/``.yml`` itself. Returns the path.

    >>> import tempfile, pathlib
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Count(Result):
    ...     n: int
    >>> p = write_result(Count(3), pathlib.Path(tempfile.mkdtemp()) / "c.json")
    >>> p.read_text()[:10]
    '{\\n  "n": 3'
    """
    from pathlib import Path

    from kundresa._errors import InvalidOptionError

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
    elif suffix == ".png":
        result.to_png(out)
    else:
        out.write_text(result_page(result), encoding="utf-8")
    return out


def result_page(result: Result, *, inline_js: bool = True) -> str:
    """The self-contained HTML page of ``result`` (``--out x.html``, and what ``.png``
    draws): its type as the title, its table and its chart, plotly.js inlined from the
    installed package (no CDN; ``inline_js=False``: left out, for a page that has it).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Count(Result):
    ...     n: int
    >>> "<h1>Count</h1>" in result_page(Count(3))
    True
    >>> _title("TopPathsResult"), _title("AttributionResult")
    ('Top paths', 'Attribution')
    """
    from html import escape

    title = escape(_title(type(result).__name__))
    body = f"<h1>{title}</h1>" + result_html(result, inline_js=inline_js)
    return (
        f"<!doctype html><html lang='en'><meta charset='utf-8'><title>{title} · kundresa"
        f"</title><style>{_PAGE_CSS}</style><body>{body}</body></html>"
    )


#: the page's look: the web app's fonts and a readable table (numbers right-aligned)
_PAGE_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;"
    "margin:24px;color:#1f2933}h1{font-size:22px;margin:0 0 16px}"
    "table.kundresa{border-collapse:collapse;font-size:13px;margin-bottom:16px}"
    "table.kundresa th,table.kundresa td{padding:4px 10px;border-bottom:1px solid #e4e7eb}"
    "table.kundresa th{text-align:left;background:#f5f7fa;font-weight:600}"
    "table.kundresa td{text-align:right;font-variant-numeric:tabular-nums}"
    "table.kundresa td:first-child{text-align:left}"
    "table.kundresa tr:nth-child(even) td{background:#fafbfc}"
)


def _title(name: str) -> str:
    """``TopPathsResult`` -> ``Top paths``: the page title of a result type."""
    import re

    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name.removesuffix("Result")) or [name]
    text = " ".join(w.lower() for w in words)
    return text[:1].upper() + text[1:]


def _number(x: float) -> str:
    """A table cell: thousands separators, at most two decimals, whole numbers as such.

    >>> _number(1425.185356), _number(2633.0), _number(0.12345)
    ('1,425.19', '2,633', '0.1235')
    """
    if x != x:  # NaN
        return ""
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"


_JS_SHOWN: list[bool] = []


def result_html(result: Result, *, inline_js: bool | None = None) -> str:
    """The result's table (escaped) and its Plotly chart as HTML: what notebooks show and
    ``--out x.html`` writes. plotly.js is inlined from the installed package (in a notebook
    once per kernel).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Count(Result):
    ...     n: int
    >>> "<table" in result_html(Count(3))
    True
    """
    import pandas as pd

    frame = result.to_frame()
    plain = isinstance(frame.index, pd.RangeIndex)  # a row number says nothing
    parts = [
        frame.to_html(
            escape=True,
            max_rows=50,
            index=not plain,
            float_format=_number,
            classes="kundresa",
            border=0,
        )
    ]
    with contextlib.suppress(NotImplementedError, ImportError):
        fig = result.plot()
        first = inline_js if inline_js is not None else not _JS_SHOWN
        parts.append(fig.to_html(full_html=False, include_plotlyjs=bool(first)))
        if inline_js is None:
            _JS_SHOWN.append(True)
    return "".join(parts)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
