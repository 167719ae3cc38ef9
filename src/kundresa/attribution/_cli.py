"""CLI: ``kundresa channels``, ``kundresa attribution`` and ``kundresa ropo``.

No ``from __future__ import annotations`` here: Typer reads the option annotations, which
are local names of :func:`register`, so they must be evaluated when the commands are defined.
"""

from pathlib import Path
from typing import Annotated

import typer

from kundresa._cli_common import DbOpt, EngineOpt, JsonOpt
from kundresa._cli_common import emit as _emit
from kundresa._cli_common import open_workspace as _open
from kundresa.errors import InvalidOptionError

__all__ = ["register"]

_CLI_MODELS = ("first", "last", "linear", "time_decay", "position", "markov", "shapley", "all")


def register(app: typer.Typer) -> None:
    """Add the attribution commands to the ``kundresa`` app."""
    map_opt = typer.Option(
        "--map",
        help="Journey map file: break down by its stages (and personas) via its rules.",
    )
    MapOpt = Annotated[Path | None, map_opt]  # noqa: N806 (a type alias, Typer style)

    @app.command()
    def channels(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        conversion: Annotated[
            str | None, typer.Option(help="Conversion event for conversions touched.")
        ] = None,
        by: Annotated[
            str, typer.Option(help="Column: channel, campaign, utm_source, touchpoint, ...")
        ] = "channel",
        lookback: Annotated[str, typer.Option(help="Lookback before a conversion.")] = "30d",
        journey_map: MapOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Per channel: persons reached, sessions, first touches, conversions, revenue;
        with --map also per journey stage and per persona."""
        from kundresa.attribution import channel_report

        with _open(db, engine) as ws:
            rep = channel_report(
                ws, conversion, column=by, lookback=lookback, journey_map=journey_map
            )
        _emit(rep, as_json)

    @app.command()
    def attribution(
        conversion: Annotated[str, typer.Option(help="Conversion event, e.g. 'Order Completed'.")],
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        model: Annotated[
            str, typer.Option(help="first|last|linear|time_decay|position|markov|shapley|all")
        ] = "all",
        lookback: Annotated[str, typer.Option(help="Lookback before a conversion.")] = "30d",
        order: Annotated[int, typer.Option(help="Markov order.")] = 1,
        first_only: Annotated[
            bool, typer.Option("--first-only", help="Only each person's first conversion.")
        ] = False,
        exclude: Annotated[
            list[str] | None, typer.Option(help="Channel to drop from paths, repeatable.")
        ] = None,
        journey_map: MapOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Attribute conversions to channels with rule, Markov and Shapley models."""
        from kundresa.attribution import attribute

        if model not in _CLI_MODELS:
            raise InvalidOptionError("--model", model, allowed=_CLI_MODELS)
        with _open(db, engine) as ws:
            result = attribute(
                ws,
                conversion,
                model=model,
                lookback=lookback,
                order=order,
                first_only=first_only,
                exclude_channels=tuple(exclude or ()),
                journey_map=journey_map,
            )
        _emit(result, as_json)

    @app.command()
    def ropo(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        conversion: Annotated[str, typer.Option(help="Purchase event.")] = "Order Completed",
        research_event: Annotated[
            str,
            typer.Option(help="Online event that counts as research; 'any': every online touch."),
        ] = "Product Viewed",
        lookback: Annotated[str, typer.Option(help="Lookback before a purchase.")] = "30d",
        as_json: JsonOpt = False,
    ) -> None:
        """Research online, purchase offline (and showrooming) shares."""
        from kundresa.attribution import ropo_report

        research = None if research_event == "any" else research_event
        with _open(db, engine) as ws:
            rep = ropo_report(ws, conversion, lookback=lookback, research_event=research)
        _emit(rep, as_json)
