"""``kundresa paths`` and ``kundresa flows`` (registered through ``cli._EXTENSIONS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kundresa.errors import InvalidOptionError

if TYPE_CHECKING:
    from kundresa.cli import DbOpt, EngineOpt, JsonOpt

GrainOpt = Annotated[str, typer.Option("--grain", help="session (default) or person.")]
GapOpt = Annotated[str, typer.Option("--session-gap", help="Inactivity that ends a session.")]
RenameOpt = Annotated[
    list[str] | None,
    typer.Option("--rename", help="PATTERN=ALIAS: events matching the regex get ALIAS."),
]
UrlOpt = Annotated[
    list[str] | None,
    typer.Option("--rename-url", help="PATTERN=ALIAS on the page URL, e.g. '^/product/=Product'."),
]
HideOpt = Annotated[list[str] | None, typer.Option("--hide", help="Event to hide, repeatable.")]
GroupOpt = Annotated[
    str | None, typer.Option("--group-by", help="Refine labels by a field, e.g. touchpoint.")
]


def _rules(
    rename: list[str] | None,
    rename_url: list[str] | None,
    hide: list[str] | None,
    group_by: str | None,
) -> Any:
    from kundresa.paths import PathRule, PathRules

    out = []
    for field, pairs in (("event", rename or []), ("url", rename_url or [])):
        for pair in pairs:
            if "=" not in pair:
                raise InvalidOptionError(
                    "--rename", pair, fix="write PATTERN=ALIAS, e.g. --rename '^Email .*=Email'"
                )
            pattern, alias = pair.rsplit("=", 1)
            out.append(PathRule(pattern, alias, field=field))
    return PathRules(rename=tuple(out), hide=tuple(hide or ()), group_by=group_by)


def register(app: typer.Typer) -> None:
    """Add the path commands to the ``kundresa`` app."""
    # imported here: kundresa.cli imports this module while it registers extensions; the
    # option types go into this module's globals because typer resolves the annotations there
    from kundresa import cli

    globals().update(DbOpt=cli.DbOpt, EngineOpt=cli.EngineOpt, JsonOpt=cli.JsonOpt)
    _emit, _open = cli._emit, cli._open

    @app.command("paths")
    def paths_cmd(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        conversion: Annotated[
            str | None,
            typer.Option(
                "--conversion", "--to", help="Conversion event: top paths to it/drop-off."
            ),
        ] = None,
        grain: GrainOpt = "session",
        session_gap: GapOpt = "30m",
        collapse: Annotated[
            bool, typer.Option("--collapse-repeats/--keep-repeats", help="Merge a a -> a.")
        ] = False,
        steps: Annotated[int, typer.Option(help="Steps of a top path.")] = 5,
        top: Annotated[int, typer.Option(help="How many variants / paths.")] = 10,
        rename: RenameOpt = None,
        rename_url: UrlOpt = None,
        hide: HideOpt = None,
        group_by: GroupOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Transition graph (count = transitions, unique persons, median time), variants and
        top paths to conversion and drop-off."""
        from kundresa.paths import paths

        rules = _rules(rename, rename_url, hide, group_by)
        with _open(db, engine) as ws:
            _emit(
                paths(
                    ws,
                    conversion=conversion,
                    grain=grain,
                    session_gap=session_gap,
                    collapse_repeats=collapse,
                    rules=rules,
                    steps=steps,
                    top=top,
                ),
                as_json,
            )

    @app.command("flows")
    def flows_cmd(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        start: Annotated[str | None, typer.Option(help="Paths starting at this event.")] = None,
        end: Annotated[str | None, typer.Option(help="Paths ending at this event.")] = None,
        steps: Annotated[int, typer.Option(help="Number of steps.")] = 5,
        top: Annotated[int, typer.Option(help="Labels per step; the rest is 'other'.")] = 5,
        grain: GrainOpt = "session",
        session_gap: GapOpt = "30m",
        collapse: Annotated[
            bool, typer.Option("--collapse-repeats/--keep-repeats", help="Merge a a -> a.")
        ] = True,
        rename: RenameOpt = None,
        rename_url: UrlOpt = None,
        hide: HideOpt = None,
        group_by: GroupOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Sankey flows from/to/between events: per step the top labels, counted as unique
        persons and as transitions."""
        from kundresa.paths import flows

        rules = _rules(rename, rename_url, hide, group_by)
        with _open(db, engine) as ws:
            _emit(
                flows(
                    ws,
                    start=start,
                    end=end,
                    steps=steps,
                    top=top,
                    grain=grain,
                    session_gap=session_gap,
                    collapse_repeats=collapse,
                    rules=rules,
                ),
                as_json,
            )

    @app.command("journeys")
    def journeys_cmd(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        conversion: Annotated[
            str, typer.Option("--conversion", "--to", help="Conversion event.")
        ] = ("Order Completed"),
        method: Annotated[str, typer.Option(help="threshold or kmeans.")] = "threshold",
        long_after: Annotated[str, typer.Option(help="threshold: long after this.")] = "7d",
        as_json: JsonOpt = False,
    ) -> None:
        """Journey archetypes: long vs short journeys to conversion (touches, days, channels)."""
        from kundresa.paths import journey_archetypes

        with _open(db, engine) as ws:
            _emit(
                journey_archetypes(ws, conversion=conversion, method=method, long_after=long_after),
                as_json,
            )

    @app.command("pages")
    def pages_cmd(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        page_field: Annotated[str, typer.Option(help="Field naming the page.")] = "touchpoint",
        conversion: Annotated[
            str, typer.Option("--conversion", "--to", help="Conversion event.")
        ] = ("Order Completed"),
        session_gap: GapOpt = "30m",
        as_json: JsonOpt = False,
    ) -> None:
        """Web pages and time: time on page, entries, exits, conversion after viewing."""
        from kundresa.paths import page_stats

        with _open(db, engine) as ws:
            _emit(
                page_stats(
                    ws, page_field=page_field, conversion=conversion, session_gap=session_gap
                ),
                as_json,
            )
