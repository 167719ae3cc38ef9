"""The server's view of the analyses: each declared analysis (:mod:`kundresa._contract`)
becomes an :class:`Analysis` here, with a pydantic query model derived from its parameters.

An :class:`Analysis` names a function ``run(ws, params) -> Result`` and, optionally, a
pydantic model of its query parameters. The server then serves

- ``GET /api/v1/<name>?<params>``: ``result.to_dict()`` as JSON (OpenAPI documents the
  parameters from the model), and
- ``GET /<name>?<params>``: a page with a form for the parameters, the result's ``plot()``
  (Plotly, served locally), its ``str()`` and a link to the JSON twin; or ``render(result,
  lang)``'s HTML instead when given.

To add an analysis, declare it once (``kundresa._contract.declare``, see the modules of
:mod:`kundresa._catalog`): the CLI command, this registration, the OpenAPI entry and the
docs table all follow. ``register_analysis`` remains for server-only views.

>>> from kundresa.server._registry import ANALYSES
>>> "overview" in ANALYSES
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kundresa._results import Result
    from kundresa._workspace import Workspace

__all__ = ["ANALYSES", "Analysis", "register_analysis"]


@dataclass(frozen=True)
class Analysis:
    """One analysis served as ``/api/v1/<name>`` (JSON) and ``/<name>`` (page).

    ``titles`` per language (en, sv, nb); ``params`` a pydantic model of the query
    parameters (or None); ``run(ws, params)`` returns a :class:`~kundresa._results.Result`;
    ``render(result, lang)`` optional HTML for the page (default: figure + text).
    A page of its own (a builder form instead of one text box per parameter) names its
    ``template`` and a ``form(ws)`` that returns the form's choices (e.g. the event names)
    and, under ``"example"``, the parameters to show when the page is opened without any.
    """

    name: str
    titles: Mapping[str, str]
    run: Callable[[Workspace, Any], Result]
    params: type[BaseModel] | None = None
    render: Callable[[Result, str], str] | None = None
    description: str = ""
    nav: bool = field(default=True)
    template: str = "analysis.html"
    form: Callable[[Workspace], dict[str, Any]] | None = None
    #: parameters naming a journey map: the server resolves the name of a map it loaded
    map_params: tuple[str, ...] = ()
    #: of those, the ones that must name a map (the first map when not given)
    maps_required: tuple[str, ...] = ()
    #: the page's path when it is not ``/<name>`` (the measured map is ``/map``)
    web_path: str | None = None
    #: ``text(result, params)``: the CLI's text output (``Accept: text/plain``; default
    #: ``str(result)``) and ``export(ws, result, params, path)``: its ``--out`` (default
    #: :func:`kundresa._results.write_result`); see ADR 0012
    text: Callable[[Result, Any], str] | None = None
    export: Callable[[Workspace, Result, Any, str], None] | None = None
    #: ``figure(result, lang)``: the page's chart (default ``result.plot()``)
    figure: Callable[[Result, str], Any] | None = None
    #: ``explain(query)``: the declared validation's one-line message for a query string
    #: (name -> values) the query model refused, None when it has none to add
    explain: Callable[[Mapping[str, Sequence[str]]], str | None] | None = None
    #: the form's choices per parameter (a select, or checkboxes for a list)
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        """The title in ``lang`` (English when missing)."""
        return self.titles.get(lang) or self.titles.get("en") or self.name


#: name -> analysis, in registration order (the web app's navigation order)
ANALYSES: dict[str, Analysis] = {}

_RESERVED = {
    "map",
    "api",
    "static",
    "login",
    "logout",
    "keys",
    "v1",
    "healthz",
    "docs",
    "openapi.json",
}


def register_analysis(analysis: Analysis) -> Analysis:
    """Register ``analysis`` (replacing one of the same name); apps created afterwards
    serve it.

    >>> from kundresa.server._registry import Analysis, register_analysis, ANALYSES
    >>> from kundresa._results import Result
    >>> a = register_analysis(Analysis("hello", {"en": "Hello"}, run=lambda ws, p: Result()))
    >>> ANALYSES.pop("hello").name
    'hello'
    """
    if analysis.name in _RESERVED or not analysis.name.replace("-", "").isalnum():
        from kundresa._errors import InvalidOptionError

        raise InvalidOptionError(
            "name", analysis.name, fix="use a lower-case word that is not a reserved path"
        )
    ANALYSES[analysis.name] = analysis
    return analysis


def _load_builtin() -> None:
    from kundresa._contract import analyses
    from kundresa.server._derive import server_analysis

    for declared in analyses().values():
        register_analysis(server_analysis(declared))


_load_builtin()
