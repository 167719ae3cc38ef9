"""The CLI commands, derived from the analysis declarations (:mod:`kundresa._contract`).

Every declared analysis becomes ``kundresa <command>`` with one option per parameter (the
parameter's name in kebab-case; old spellings as hidden options that warn), the parameter's
help and allowed values, and the options every analysis shares: ``--db``, ``--engine``,
``--json`` and ``--out FILE`` (``.csv``, ``.parquet``, ``.json``, ``.html``, ``.png``).
Commands are built on first use from the declarations only, so listing them imports no
engine.

>>> from kundresa._contract import get
>>> cmd = analysis_command(get("funnel"))
>>> [p.name for p in cmd.params][:3]
['steps', 'window', 'order']
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Annotated, Any

import typer
import typer.core

from kundresa._cli_common import DEFAULT_ENGINE, DbOpt, JsonOpt
from kundresa._contract import Analysis, Param, _resolve, analyses

__all__ = ["AnalysisGroup", "analysis_command", "commands_under"]

# options every analysis command has besides its parameters: --db, --engine, --json, --out
EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", envvar="KUNDRESA_ENGINE", help="duckdb (default) or spark."),
]
OutOpt = Annotated[
    str | None,
    typer.Option("--out", help="Also write the result: .csv, .parquet, .json, .html or .png."),
]


#: numbers are read as text and parsed by the declaration (one validation, one-line errors)
_METAVAR = {"int": "INTEGER", "float": "FLOAT"}


def _annotation(p: Param) -> Any:
    base: Any = bool if p.kind == "bool" else str
    if p.multiple:
        base = list[base]
    if p.positional:
        meta: Any = typer.Argument(
            help=_help(p),
            metavar=p.name.upper() + ("..." if p.multiple else ""),
            show_default=False,
        )
        return Annotated[base if p.required else base | None, meta]
    flag = p.flag or "--" + p.name.replace("_", "-")
    decls = [f"{flag}/--no-{flag[2:]}"] if p.kind == "bool" else [flag]
    option = typer.Option(*decls, help=_help(p), show_default=False, metavar=_METAVAR.get(p.kind))
    return Annotated[base | None, option]


def _old_annotation(p: Param, old: str) -> Any:
    base: Any = bool if p.kind == "bool" else str
    if p.multiple:
        base = list[base]
    return Annotated[base | None, typer.Option("--" + old.replace("_", "-"), hidden=True)]


def _help(p: Param) -> str:
    text = p.help
    if p.kind == "choice":
        text += f" [{' | '.join(p.choices)}]"
    elif p.kind in ("int", "float"):
        text += f" [{p.minimum:g}..{p.maximum:g}]"
    if p.kind == "bool":
        text += f" (default: {'on' if p.default else 'off'})"
    elif not p.required and p.default not in (None, (), ""):
        default = ",".join(p.default) if isinstance(p.default, tuple) else p.default
        text += f" (default: {default})"
    return text


def _given(a: Analysis, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters the user gave (old spellings renamed, with a warning on stderr)."""
    given: dict[str, Any] = {}
    for p in a.params:
        for old in p.deprecated:
            value = values.pop(f"_old_{old}", None)
            if value not in (None, [], ()):
                typer.echo(
                    f"warning: --{old.replace('_', '-')} is deprecated; use {p.flag}", err=True
                )
                given[p.name] = value
        value = values.get(p.name)
        if value not in (None, [], ()):
            given[p.name] = value
    return given


def _signature(a: Analysis) -> inspect.Signature:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = []
    for p in a.params:
        default = inspect.Parameter.empty if p.positional and p.required else None
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD if p.positional else kw
        params.append(inspect.Parameter(p.name, kind, default=default, annotation=_annotation(p)))
        for old in p.deprecated:
            params.append(
                inspect.Parameter(
                    f"_old_{old}", kw, default=None, annotation=_old_annotation(p, old)
                )
            )
    params.sort(key=lambda q: q.kind)
    params += [
        inspect.Parameter("db", kw, default=None, annotation=DbOpt),
        inspect.Parameter("engine", kw, default=None, annotation=EngineOpt),
        inspect.Parameter("as_json", kw, default=False, annotation=JsonOpt),
        inspect.Parameter("out", kw, default=None, annotation=OutOpt),
    ]
    return inspect.Signature(params)


def analysis_command(a: Analysis) -> Any:
    """The (typer) click command of analysis ``a``."""

    def callback(**values: Any) -> None:
        db, engine = values.pop("db"), values.pop("engine")
        as_json, out = values.pop("as_json"), values.pop("out")
        given = _given(a, values)
        params = a.validate(given)
        from kundresa._beside import forward_analysis

        engine = engine or DEFAULT_ENGINE  # a running server answers (ADR 0012)
        if forward_analysis(a, db, engine, params, given, as_json, out):
            return
        from kundresa._cli_common import emit, open_workspace, write_out
        from kundresa._progress import busy

        if out is not None and out.lower().endswith((".png", ".pdf")):
            from kundresa.maps._browser import require_chromium

            require_chromium()  # before the analysis runs, not after

        # a quick answer from the default engine's file (no workspace opened), when declared
        quick = a.quick and out is None and (engine or DEFAULT_ENGINE) == DEFAULT_ENGINE
        result = _resolve(a.quick)(db, params) if quick and a.quick else None
        own = False
        if result is None:
            # a spinner on stderr while it runs, when stderr is a terminal
            with busy(a.title("en")), open_workspace(db, engine or DEFAULT_ENGINE) as ws:
                result = a.compute(ws, params)
                own = bool(
                    out is not None and a.write and _resolve(a.write)(ws, result, params, out)
                )
        if own and not as_json:
            typer.echo(f"wrote {out}", err=True)
        elif out is not None and not own:
            write_out(result, out, quiet=as_json)
        if out is not None:
            from kundresa._beside import workspace_path
            from kundresa._exports import record_export

            record_export(workspace_path(db), out)  # forget erases it if it holds a person
        text = _resolve(a.text)(result, params) if a.text and not as_json else None
        if text is not None:
            typer.echo(text)
        else:
            emit(result, as_json)

    sig = _signature(a)
    callback.__signature__ = sig  # type: ignore[attr-defined]
    callback.__annotations__ = {q.name: q.annotation for q in sig.parameters.values()}
    callback.__name__ = a.name.replace("-", "_")
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(a.command[-1], help=a.help, short_help=_short_help(a))(callback)
    return typer.main.get_command(app)


def _short_help(a: Analysis) -> str:
    return a.help.split(". ")[0].rstrip(".")


def commands_under(prefix: Sequence[str]) -> dict[str, Analysis]:
    """The analyses whose CLI command is ``prefix`` + one word, by that word.

    >>> sorted(commands_under(("map",)))
    ['conformance', 'discover', 'measure']
    """
    n = len(prefix)
    return {
        a.command[n]: a
        for a in analyses().values()
        if len(a.command) == n + 1 and tuple(a.command[:n]) == tuple(prefix)
    }


class AnalysisGroup(typer.core.TyperGroup):
    """A command group that adds the declared analyses' commands (built on first use).

    A group is made with ``typer.Typer(cls=AnalysisGroup)`` for the root, and
    ``AnalysisGroup.under("map")`` for a sub-group.
    """

    prefix: tuple[str, ...] = ()
    #: while the group's help is written: its list needs each command's name and help only
    _listing: bool = False

    @classmethod
    def under(cls, *prefix: str) -> type[AnalysisGroup]:
        """A subclass for the sub-group ``prefix`` (e.g. ``map``)."""
        return type(f"AnalysisGroup_{'_'.join(prefix)}", (cls,), {"prefix": tuple(prefix)})

    def list_commands(self, ctx: Any) -> list[str]:
        names = set(super().list_commands(ctx)) | set(commands_under(self.prefix))
        return sorted(names)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = commands_under(self.prefix).get(cmd_name)
        if found is not None and self._listing:  # an entry of the list, not a command to run
            return typer.core.TyperCommand(cmd_name, help=found.help, short_help=_short_help(found))
        if found is not None:
            return analysis_command(found)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The group's help; its list of analyses is written without building their commands
        (each one's options are derived only when it runs or shows its own help)."""
        self._listing = True
        try:
            if typer.core.HAS_RICH and self.rich_markup_mode is not None:
                from kundresa._cli_help import print_group_help  # typer's look, rich's core

                print_group_help(self, ctx)
            else:
                super().format_help(ctx, formatter)
        finally:
            self._listing = False
