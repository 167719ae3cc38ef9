"""The analysis contract: each analysis is declared once, every surface is derived from it.

An :class:`Analysis` names its parameters (:class:`Param`: a kind, a default, the allowed
values, one line of help) and a compute step ``run(ws, params) -> Result``. From that one
declaration come the CLI command and its options (:mod:`kundresa._contract_cli`), the REST
endpoint with its query model and the web page's form (``kundresa.server``), and the docs
parameter table (``docs/analyses.md``). The library function (``kundresa.funnel.funnel(ws,
...)``) keeps its typed signature for editors and mypy; ``tests/test_contract.py`` checks that
its parameter names and defaults are the declaration's, so the two cannot drift (ADR 0011).

This module is light on purpose (standard library only): the CLI lists every command from it
without importing an engine.

>>> a = Analysis(
...     name="hello",
...     titles={"en": "Hello"},
...     help="Say hello.",
...     params=(Param("who", "text", "world", "Whom to greet."),),
...     run="kundresa._contract:_hello",
... )
>>> a.validate({"who": "Ann"}).who
'Ann'
>>> a.validate({"whom": "Ann"})
Traceback (most recent call last):
...
kundresa.InvalidOptionError: whom: 'Ann' is not allowed; use one of: who
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError

if TYPE_CHECKING:
    from kundresa._results import Result
    from kundresa._workspace import Workspace

__all__ = [
    "KINDS",
    "REQUIRED",
    "Analysis",
    "Param",
    "Params",
    "analyses",
    "get",
    "run",
]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: the default of a parameter that must be given
REQUIRED: Any = _Required()

#: parameter kinds: how a value is typed, parsed and offered on each surface
KINDS = (
    "text",  # free text (a name, a pattern)
    "event",  # an event name (the web form offers the workspace's event names)
    "column",  # an events column or ``properties.KEY``
    "choice",  # one of ``choices``
    "int",
    "float",
    "bool",
    "duration",  # a string with a unit: "30m", "7d"
    "map",  # a journey-map file (CLI: a path; REST/web: the name of a map the server loaded)
)

_DURATION = re.compile(r"^\s*\d+(\.\d+)?\s*[a-zA-Z]+\s*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Param:
    """One parameter of an analysis.

    ``name`` is the Python keyword and JSON key (snake_case; the CLI flag is the same in
    kebab-case, ``flag`` overrides it), ``kind`` one of :data:`KINDS`, ``default``
    :data:`REQUIRED` when it must be given, ``multiple`` for a list of values (a repeated
    flag or query parameter), ``positional`` for a CLI argument. ``deprecated`` lists old
    spellings that keep working for one release with a warning naming the new one.
    ``python`` is the keyword of the library function (``None``: the parameter is folded
    into another argument by the analysis' ``run``). ``split`` accepts comma lists
    (``--model markov,shapley``) as well as repeated values.

    >>> Param("window", "duration", "7d", "Conversion window.").flag
    '--window'
    """

    name: str
    kind: str
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[str, ...] = ()
    multiple: bool = False
    positional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    flag: str | None = None
    deprecated: tuple[str, ...] = ()
    python: str | None = ""
    split: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidOptionError("kind", self.kind, allowed=KINDS)
        if self.kind == "choice" and not self.choices:
            raise InvalidOptionError("choices", self.name, fix="name the allowed values")
        if self.flag is None:
            object.__setattr__(self, "flag", "--" + self.name.replace("_", "-"))
        if self.python == "":
            object.__setattr__(self, "python", self.name)

    @property
    def required(self) -> bool:
        """Whether the parameter has no default."""
        return self.default is REQUIRED

    def parse(self, value: Any) -> Any:
        """Check and convert one given value (a string from a CLI or a query, or a Python
        value); raise :class:`~kundresa.InvalidOptionError` naming the field.

        >>> Param("top", "int", 5, minimum=1).parse("3")
        3
        >>> Param("top", "int", 5, minimum=1).parse("0")
        Traceback (most recent call last):
        ...
        kundresa.InvalidOptionError: top: '0' is not allowed; use a number >= 1
        """
        if self.multiple:
            if value is None:
                return ()
            items = [value] if isinstance(value, str) else list(value)
            if self.split:
                items = list(split_list([str(v) for v in items]))
            return tuple(self._one(v) for v in items)
        if value is None:
            return None
        return self._one(value)

    def _one(self, value: Any) -> Any:
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise InvalidOptionError(self.name, value, allowed=("true", "false"))
        if kind in ("int", "float"):
            try:
                number: float = int(value) if kind == "int" else float(value)
            except (TypeError, ValueError):
                raise InvalidOptionError(
                    self.name, value, fix=f"give {'a whole' if kind == 'int' else 'a'} number"
                ) from None
            if isinstance(value, bool):
                raise InvalidOptionError(self.name, value, fix="give a number")
            if self.minimum is not None and number < self.minimum:
                raise InvalidOptionError(self.name, value, fix=f"use a number >= {self.minimum:g}")
            if self.maximum is not None and number > self.maximum:
                raise InvalidOptionError(self.name, value, fix=f"use a number <= {self.maximum:g}")
            return number
        if not isinstance(value, str):
            raise InvalidOptionError(self.name, value, fix="give text")
        if _CONTROL.search(value) or len(value) > 500:
            raise InvalidOptionError(
                self.name, value[:40], fix="give printable text of at most 500 characters"
            )
        if kind == "choice" and value not in self.choices:
            raise InvalidOptionError(self.name, value, allowed=self.choices)
        if kind == "duration" and not _DURATION.match(value):
            raise InvalidOptionError(
                self.name, value, fix="write a number and a unit, e.g. 30m, 7d"
            )
        if kind in ("event", "column", "map") and not value.strip():
            raise InvalidOptionError(self.name, value, fix="name one")
        return value.strip() if kind == "duration" else value

    def describe_type(self) -> str:
        """The type as the docs and the CLI help show it.

        >>> Param("order", "choice", "ordered", choices=("ordered", "strict")).describe_type()
        'ordered | strict'
        """
        base = " | ".join(self.choices) if self.kind == "choice" else self.kind
        return f"{base}, repeatable" if self.multiple else base


class Params(Mapping[str, Any]):
    """Validated parameters of one analysis: a read-only mapping, also readable as
    attributes.

    >>> p = Params({"top": 5})
    >>> p.top, p["top"], dict(p)
    (5, 5, {'top': 5})
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", MappingProxyType(dict(data)))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Params are read-only")

    def __repr__(self) -> str:
        return f"Params({dict(self._data)!r})"

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._data.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self) == dict(other)


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Analysis:
    """One analysis, declared once.

    ``name`` is the registry key, the REST path (``/api/v1/<name>``) and the web page
    (``/<name>``, or ``web_path``); ``command`` the CLI words (default: the name);
    ``run`` ``"module:function"`` of ``run(ws, params) -> Result`` (imported on first use,
    so declarations stay light); ``python`` ``"module:function"`` of the library function
    whose signature must match the parameters; ``page`` a module with ``render(result,
    lang) -> str`` for a page of its own, ``figure`` ``"module:function"`` of ``figure(result,
    lang)`` (a Plotly figure: the page's chart, translated; default ``result.plot()``),
    ``form`` ``"module:function"`` of ``form(ws) ->
    dict`` (the builder form's choices) and ``template`` its page template.
    ``text`` ``"module:function"`` of ``text(result, params) -> str | None``: the CLI's text
    output when the parameters ask for another one than ``str(result)``; ``write``
    ``"module:function"`` of ``write(ws, result, params, path) -> bool``: ``--out`` in a
    format of the analysis' own (a conformance drawn on its map), False for the generic
    writer. ``quick`` ``"module:function"`` of ``quick(db, params) -> Result | None``: the
    CLI's answer on the default engine's workspace file without opening the workspace
    (``info`` by plain DuckDB, so the command loads no Ibis), ``None`` when it cannot
    answer that way (then ``run``).
    """

    name: str
    titles: Mapping[str, str]
    help: str
    params: tuple[Param, ...]
    run: str
    python: str | None = None
    command: tuple[str, ...] = ()
    page: str | None = None
    figure: str | None = None
    form: str | None = None
    template: str | None = None
    web_path: str | None = None
    text: str | None = None
    write: str | None = None
    quick: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "titles", MappingProxyType(dict(self.titles)))
        if not self.command:
            object.__setattr__(self, "command", (self.name,))
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise InvalidOptionError("params", self.name, fix="give each parameter one name")

    def param(self, name: str) -> Param:
        """The parameter called ``name``."""
        for p in self.params:
            if p.name == name:
                return p
        raise InvalidOptionError("parameter", name, allowed=[p.name for p in self.params])

    def title(self, lang: str) -> str:
        """The title in ``lang`` (English when missing)."""
        return self.titles.get(lang) or self.titles.get("en") or self.name

    def validate(self, given: Mapping[str, Any]) -> Params:
        """Check ``given`` (names to values; strings are parsed) against the declaration:
        unknown names, missing required values and bad values raise one
        :class:`~kundresa.InvalidOptionError`; old spellings warn
        (``DeprecationWarning``) and are renamed; defaults fill the rest."""
        by_old = {old: p.name for p in self.params for old in p.deprecated}
        allowed = [p.name for p in self.params]
        values: dict[str, Any] = {}
        for key, value in given.items():
            name = key.replace("-", "_")
            if name in by_old:
                warnings.warn(
                    f"{key!r} is deprecated; use {by_old[name]!r}",
                    DeprecationWarning,
                    stacklevel=3,
                )
                name = by_old[name]
            if name not in allowed:
                raise InvalidOptionError(name, value, allowed=allowed)
            values[name] = value
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in values and values[p.name] is not None:
                out[p.name] = p.parse(values[p.name])
            elif p.required:
                raise InvalidOptionError(
                    p.name, None, fix=f"give {p.flag or p.name} ({p.help.rstrip('.')})"
                )
            else:
                out[p.name] = (
                    p.parse(p.default) if p.default is not None else (() if p.multiple else None)
                )
        return Params(out)

    def compute(self, ws: Workspace, params: Params) -> Result:
        """Run the analysis on ``ws`` with validated ``params``."""
        fn: Callable[[Workspace, Params], Result] = _resolve(self.run)
        return fn(ws, params)

    def python_function(self) -> Callable[..., Any] | None:
        """The library function this analysis is the declaration of, if any."""
        return _resolve(self.python) if self.python else None


#: the registry: name -> analysis, filled by the catalogue modules on first use
_REGISTRY: dict[str, Analysis] = {}
#: name -> the module that declared it (orders the registry by ``CATALOGUE``)
_ORIGIN: dict[str, str] = {}
_LOADED: list[bool] = [False]

#: modules that declare the built-in analyses (light: they import nothing heavy)
CATALOGUE = (
    "kundresa._catalog.workspace",
    "kundresa._catalog.funnel",
    "kundresa._catalog.paths",
    "kundresa._catalog.attribution",
    "kundresa._catalog.maps",
)


def declare(analysis: Analysis) -> Analysis:
    """Add ``analysis`` to the registry (replacing one of the same name).

    >>> hello = Analysis("hello", {"en": "Hello"}, "Say hello.", (), "kundresa._contract:_hello")
    >>> a = declare(hello)
    >>> _REGISTRY.pop("hello").name
    'hello'
    """
    if not re.fullmatch(r"[a-z][a-z0-9-]*", analysis.name):
        raise InvalidOptionError("name", analysis.name, fix="use lower-case words and '-'")
    _ORIGIN[analysis.name] = str(sys._getframe(1).f_globals.get("__name__", ""))
    _REGISTRY[analysis.name] = analysis
    return analysis


def analyses() -> Mapping[str, Analysis]:
    """Every declared analysis, by name, in declaration order.

    >>> "funnel" in analyses() and "attribution" in analyses()
    True
    """
    if not _LOADED[0]:  # whichever catalogue module was imported first, all are loaded
        for module in CATALOGUE:
            importlib.import_module(module)
        rank = {module: i for i, module in enumerate(CATALOGUE)}
        ordered = sorted(
            _REGISTRY.items(), key=lambda kv: rank.get(_ORIGIN.get(kv[0], ""), len(rank))
        )
        _REGISTRY.clear()
        _REGISTRY.update(ordered)
        _LOADED[0] = True
    return MappingProxyType(_REGISTRY)


def get(name: str) -> Analysis:
    """The analysis called ``name``.

    >>> get("funnel").command
    ('funnel',)
    """
    found = analyses().get(name)
    if found is None:
        raise InvalidOptionError("analysis", name, allowed=list(analyses()))
    return found


def run(name: str, ws: Workspace, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Result:
    """Validate and run the analysis ``name``: what every surface calls.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> run("info", ws).events
    0
    """
    analysis = get(name)
    return analysis.compute(ws, analysis.validate({**(params or {}), **kwargs}))


def _hello(ws: Workspace, params: Params) -> Result:  # pragma: no cover - doc example
    from kundresa._results import Result

    return Result()


def split_list(values: Sequence[str]) -> tuple[str, ...]:
    """Comma lists and repeated values as one tuple (``--model markov,shapley``).

    >>> split_list(["markov,shapley", "linear"])
    ('markov', 'shapley', 'linear')
    """
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def reference() -> str:
    """The docs' analysis reference (``docs/analyses.md``), generated from the declarations:
    per analysis its Python function, CLI command, REST endpoint, web page and a parameter
    table. ``tests/test_contract.py`` fails when the committed file is stale.

    >>> "| `window` |" in reference()
    True
    """
    lines = [
        "# Analyses",
        "",
        "Generated from the declarations (`kundresa._contract`, ADR 0011); do not edit:",
        "`KUNDRESA_UPDATE_DOCS=1 pytest tests/test_contract.py` rewrites it.",
        "Every analysis is one declaration; each surface below is derived from it, and every",
        "command also takes `--db`, `--engine`, `--json` and `--out FILE`",
        "(.csv, .parquet, .json, .html).",
        "",
    ]
    for a in analyses().values():
        lines += [f"## {a.name}", "", a.help, ""]
        if a.python:
            lines.append(f"- Python: `{a.python.replace(':', '.')}`")
        lines.append(f"- CLI: `kundresa {' '.join(a.command)}`")
        lines.append(f"- REST: `GET /api/v1/{a.name}`")
        lines.append(f"- Web: `{a.web_path or '/' + a.name}`")
        lines.append("")
        if a.params:
            lines += ["| parameter | CLI | type | default | help |", "|---|---|---|---|---|"]
            for p in a.params:
                if p.required:
                    default = "required"
                elif isinstance(p.default, tuple):
                    default = ", ".join(p.default) or "-"
                else:
                    default = "-" if p.default in (None, "") else str(p.default)
                cli = p.name.upper() if p.positional else f"`{p.flag}`"
                old = f" (was: {', '.join(p.deprecated)})" if p.deprecated else ""
                kind = p.describe_type().replace("|", "\\|")  # a choice list, in a table cell
                lines.append(
                    f"| `{p.name}` | {cli} | {kind} | {default} | {p.help.replace('|', '/')}{old} |"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
