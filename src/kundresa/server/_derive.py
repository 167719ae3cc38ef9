"""A declared analysis as the server serves it: the REST query model and the page, derived.

Each :class:`kundresa._contract.Param` becomes one field of a pydantic model (FastAPI reads
it from the query string and documents it in OpenAPI): numbers with their bounds, choices
as enums, lists as repeated parameters, text without control characters. A ``map``
parameter names one of the maps the server loaded (``kundresa serve --map``), never a path.

>>> from kundresa._contract import get
>>> model = params_model(get("funnel"))
>>> sorted(model.model_fields)[:3]
['attribution', 'by', 'denominator']
>>> model.model_fields["order"].annotation
typing.Optional[typing.Literal['ordered', 'strict', 'unordered']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model

from kundresa._contract import DURATION_PATTERN, Param, _resolve
from kundresa._contract import Analysis as Declared
from kundresa._errors import KundresaError
from kundresa._util import format_duration

if TYPE_CHECKING:
    from kundresa._results import Result
    from kundresa._workspace import Workspace
    from kundresa.server._registry import Analysis

__all__ = ["explain", "params_model", "server_analysis"]

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _text(max_length: int, pattern: str = _PRINTABLE) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length, pattern=pattern)]


def _annotation(p: Param) -> Any:
    """One value's type with the declared bounds (OpenAPI minimum/maximum/maxLength/pattern)."""
    base: Any
    if p.kind in ("int", "float"):
        base = Annotated[
            int if p.kind == "int" else float,
            Field(ge=p.minimum, le=p.maximum, allow_inf_nan=False),
        ]
    elif p.kind == "bool":
        base = bool
    elif p.kind == "choice" and not p.split:
        base = Literal[p.choices]
    elif p.kind == "duration":
        base = _text(p.max_length, DURATION_PATTERN)
    else:
        base = _text(p.max_length)
    if p.multiple:
        return list[base]  # at most max_items: see _field
    return base if p.required else base | None


def _help(p: Param) -> str:
    text = p.help
    if p.kind == "duration" and p.maximum is not None:
        text += f" A duration above 0 and at most {format_duration(p.maximum)} (s, m, h, d, w)."
    if p.kind == "map":  # the server's first map when not given
        text += " The name of a map the server loaded (default: the first)."
    if p.multiple:
        text += f" (repeat the parameter, at most {p.max_items} times)"
    return text


def _field(p: Param) -> Any:
    if p.kind == "map":
        return _text(p.max_length) | None, Field(None, description=_help(p))
    if p.required:
        default: Any = ...
    elif p.multiple:
        default = list(p.default) if p.default else None
    else:
        default = p.default
    kind = _annotation(p)
    if p.multiple:
        kind = kind if p.required else kind | None
        return kind, Field(default, description=_help(p), max_length=p.max_items)
    return kind, Field(default, description=_help(p))


def explain(declared: Declared, query: Mapping[str, Sequence[str]]) -> str | None:
    """The declared validation's one-line message for a query string the REST model refused
    (so that REST says what the CLI and Python say), or None when it accepts the values.

    >>> from kundresa._contract import get
    >>> explain(get("funnel"), {"steps": ["A"], "window": ["1000000000000000s"]})
    "window: '1000000000000000s' is not allowed; use a duration above 0 and at most 3650d, ..."
    >>> explain(get("funnel"), {"steps": ["A"], "window": ["2d"]}) is None
    True
    """
    given: dict[str, Any] = {}
    for p in declared.params:
        values = query.get(p.name)  # the model's names only: FastAPI ignores the rest
        if values:
            given[p.name] = list(values) if p.multiple else values[-1]
        elif p.kind == "map":  # a map the server loaded; when not named, its first
            given[p.name] = "-"
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            declared.validate(given)
    except KundresaError as exc:
        return str(exc)
    return None


def params_model(declared: Declared) -> type[BaseModel] | None:
    """The pydantic model of ``declared``'s query parameters (None when it has none)."""
    if not declared.params:
        return None
    fields = {p.name: _field(p) for p in declared.params}
    name = "".join(w.capitalize() for w in declared.name.split("-")) + "Params"
    model: type[BaseModel] = create_model(name, __doc__=declared.help, **fields)
    return model


def server_analysis(declared: Declared) -> Analysis:
    """The server's :class:`~kundresa.server._registry.Analysis` of ``declared``."""
    from kundresa.server._registry import Analysis  # the registry calls this while loading

    model = params_model(declared)

    def run(ws: Workspace, params: BaseModel | None) -> Result:
        given = {} if params is None else params.model_dump(exclude_none=True)
        return declared.compute(ws, declared.validate(given))

    def render(result: Result, lang: str) -> str:
        assert declared.page is not None
        html: str = _resolve(declared.page)(result, lang)
        return html

    def text(result: Result, params: BaseModel | None) -> str:
        given = {} if params is None else params.model_dump(exclude_none=True)
        got = _resolve(declared.text)(result, declared.validate(given)) if declared.text else None
        return str(result) if got is None else str(got)

    def export(ws: Workspace, result: Result, params: BaseModel | None, path: str) -> None:
        from kundresa._results import write_result

        given = {} if params is None else params.model_dump(exclude_none=True)
        write = _resolve(declared.write) if declared.write else None
        if not (write and write(ws, result, declared.validate(given), path)):
            write_result(result, path)

    def figure(result: Result, lang: str) -> Any:
        assert declared.figure is not None
        return _resolve(declared.figure)(result, lang)

    def why(query: Mapping[str, Sequence[str]]) -> str | None:
        return explain(declared, query)

    def form(ws: Workspace) -> dict[str, Any]:
        assert declared.form is not None
        options: dict[str, Any] = _resolve(declared.form)(ws)
        return options

    return Analysis(
        name=declared.name,
        titles=declared.titles,
        run=run,
        params=model,
        render=render if declared.page else None,
        description=declared.help,
        nav=declared.web_path is None,
        template=declared.template or "analysis.html",
        form=form if declared.form else None,
        map_params=tuple(p.name for p in declared.params if p.kind == "map"),
        maps_required=tuple(p.name for p in declared.params if p.kind == "map" and p.required),
        web_path=declared.web_path,
        text=text,
        export=export,
        figure=figure if declared.figure else None,
        explain=why,
        choices={p.name: p.choices for p in declared.params if p.choices}
        | {p.name: ("true", "false") for p in declared.params if p.kind == "bool"},
    )
