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

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model

from kundresa._contract import Analysis as Declared
from kundresa._contract import Param, _resolve

if TYPE_CHECKING:
    from kundresa._results import Result
    from kundresa._workspace import Workspace
    from kundresa.server._registry import Analysis

__all__ = ["params_model", "server_analysis"]

_TEXT = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _annotation(p: Param) -> Any:
    base: Any
    if p.kind == "int":
        base = int
    elif p.kind == "float":
        base = float
    elif p.kind == "bool":
        base = bool
    elif p.kind == "choice" and not p.split:
        base = Literal[p.choices]
    else:
        base = _TEXT
    if p.multiple:
        return list[base]
    return base if p.required else base | None


def _field(p: Param) -> Any:
    if p.kind == "map":  # the server's first map when not given
        return _TEXT | None, Field(
            None, description=p.help + " The name of a map the server loaded (default: the first)."
        )
    if p.required:
        default: Any = ...
    elif p.multiple:
        default = list(p.default) if p.default else None
    else:
        default = p.default
    extra: dict[str, Any] = {}
    if p.kind in ("int", "float") and not p.multiple:
        if p.minimum is not None:
            extra["ge"] = p.minimum
        if p.maximum is not None:
            extra["le"] = p.maximum
    help_text = p.help
    if p.multiple:
        kind = _annotation(p) if p.required else _annotation(p) | None
        return kind, Field(default, description=help_text + " (repeat the parameter)")
    return _annotation(p), Field(default, description=help_text, **extra)


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
        choices={p.name: p.choices for p in declared.params if p.choices}
        | {p.name: ("true", "false") for p in declared.params if p.kind == "bool"},
    )
