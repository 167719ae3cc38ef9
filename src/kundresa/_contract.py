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
    "MAX_ITEMS",
    "MAX_TEXT",
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

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: the most values a list parameter takes (``steps``, ``model``, ...) unless it says
MAX_ITEMS = 50
#: the longest text a parameter takes unless it says
MAX_TEXT = 500
#: what a duration looks like (the REST schema's pattern; the value is read by
#: :func:`kundresa._util.parse_duration`)
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*[smhdw]\s*$"


class _Count:
    """How many values were given (shown in a message as ``a list of 25``)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"a list of {self.n}"


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

    Every value is bounded, and the bounds are part of the declaration (the CLI help, the
    REST schema's ``minimum``/``maximum``/``maxItems``/``maxLength`` and the docs table show
    them): an ``int``/``float`` between ``minimum`` and ``maximum`` (both required), a
    ``duration`` above 0 and at most ``maximum`` seconds (default ten years), a list at most
    ``max_items`` values (default :data:`MAX_ITEMS`), a text at most ``max_length``
    characters (default :data:`MAX_TEXT`).

    >>> Param("window", "duration", "7d", "Conversion window.").flag
    '--window'
    >>> Param("top", "int", 5)
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: top: 'int' is not allowed; declare minimum and maximum
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
    max_items: int = MAX_ITEMS
    max_length: int = MAX_TEXT

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidOptionError("kind", self.kind, allowed=KINDS)
        if self.kind in ("int", "float") and (self.minimum is None or self.maximum is None):
            raise InvalidOptionError(self.name, self.kind, fix="declare minimum and maximum")
        if self.kind == "duration" and self.maximum is None:
            from kundresa._util import MAX_DURATION_SECONDS

            object.__setattr__(self, "maximum", float(MAX_DURATION_SECONDS))
        if self.kind == "duration" and self.max_length == MAX_TEXT:
            object.__setattr__(self, "max_length", 40)  # "3650d", with room for spaces
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

        >>> Param("top", "int", 5, minimum=1, maximum=1000).parse("3")
        3
        >>> try:
        ...     Param("top", "int", 5, minimum=1, maximum=1000).parse("0")
        ... except ValueError as exc:
        ...     print(exc)
        top: '0' is not allowed; use a whole number from 1 to 1000
        """
        if self.multiple:
            if value is None:
                return ()
            items = [value] if isinstance(value, str | int | float) else list(value)
            if len(items) > self.max_items:  # before splitting: bounds the work
                raise InvalidOptionError(
                    self.name, _Count(len(items)), fix=f"give at most {self.max_items} values"
                )
            if self.split:
                items = list(split_list([self._text(v) for v in items]))
            if len(items) > self.max_items:
                raise InvalidOptionError(
                    self.name, _Count(len(items)), fix=f"give at most {self.max_items} values"
                )
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
            return self._number(value)
        value = self._text(value)
        if kind == "choice" and value not in self.choices:
            raise InvalidOptionError(self.name, value, allowed=self.choices)
        if kind == "duration":
            from kundresa._util import parse_duration

            assert self.maximum is not None  # set by __post_init__
            parse_duration(value, self.name, maximum=self.maximum)
            return value.strip()
        if kind in ("event", "column", "map") and not value.strip():
            raise InvalidOptionError(self.name, value, fix="name one")
        return value

    def range_text(self) -> str:
        """The allowed range of a number, as messages and the docs say it.

        >>> Param("top", "int", 5, minimum=1, maximum=1000).range_text()
        'a whole number from 1 to 1000'
        """
        what = "a whole number" if self.kind == "int" else "a number"
        return f"{what} from {self.minimum:g} to {self.maximum:g}"

    def _number(self, value: Any) -> float:
        low, high = self.minimum, self.maximum
        assert low is not None  # see __post_init__
        assert high is not None
        fix = self.range_text()
        fractional = isinstance(value, float) and not value.is_integer()
        if isinstance(value, bool) or (self.kind == "int" and fractional):
            raise InvalidOptionError(self.name, str(value), fix=f"give {fix}")
        if isinstance(value, str) and len(value) > 40:  # int() of 4,300 digits is slow
            raise InvalidOptionError(self.name, value[:40], fix=f"give {fix}")
        try:
            number: float = int(value) if self.kind == "int" else float(value)
        except (TypeError, ValueError, OverflowError):
            raise InvalidOptionError(self.name, str(value), fix=f"give {fix}") from None
        if not low <= number <= high:  # also NaN and infinities
            raise InvalidOptionError(self.name, str(value), fix=f"use {fix}")
        return number

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidOptionError(self.name, value, fix="give text")
        if _CONTROL.search(value) or len(value) > self.max_length:
            raise InvalidOptionError(
                self.name,
                value[:40],
                fix=f"give printable text of at most {self.max_length} characters",
            )
        return value

    def describe_type(self) -> str:
        """The type as the docs and the CLI help show it.

        >>> Param("order", "choice", "ordered", choices=("ordered", "strict")).describe_type()
        'ordered | strict'
        >>> Param("top", "int", 5, minimum=1, maximum=1000).describe_type()
        'int, 1..1000'
        >>> Param("steps", "event", multiple=True, max_items=20).describe_type()
        'event, repeatable (at most 20), at most 500 characters'
        """
        from kundresa._util import format_duration

        base = " | ".join(self.choices) if self.kind == "choice" else self.kind
        if self.kind in ("int", "float") and self.minimum is not None:
            base += f", {self.minimum:g}..{self.maximum:g}"
        if self.multiple:
            base += f", repeatable (at most {self.max_items})"
        if self.kind == "duration" and self.maximum is not None:
            base += f", at most {format_duration(self.maximum)}"
        elif self.kind in ("text", "event", "column", "map"):
            base += f", at most {self.max_length} characters"
        return base


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
    "kundresa._catalog.retention",
    "kundresa._catalog.lifecycle",
    "kundresa._catalog.repeat",
    "kundresa._catalog.clv",
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
