"""CLI: ``kundresa channels``, ``kundresa attribution`` and ``kundresa ropo``.

No ``from __future__ import annotations`` here: Typer reads the option annotations, which
are local names of :func:`register`, so they must be evaluated when the commands are defined.
"""

from typing import Annotated

import typer

from kundresa.errors import InvalidOptionError

__all__ = ["register"]

_CLI_MODELS = ("first", "last", "linear", "time_decay", "position", "markov", "shapley", "all")


def register(app: typer.Typer) -> None:
    """Add the attribution commands to the ``kundresa`` app."""
    # imported here: ``kundresa.cli`` imports this module while it is being built
    from kundresa.cli import DbOpt, EngineOpt, JsonOpt, _emit, _open

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
        as_json: JsonOpt = False,
    ) -> None:
        """Per channel: persons reached, sessions, first touches, conversions, revenue."""
        from kundresa.attribution import channel_report

        with _open(db, engine) as ws:
            _emit(channel_report(ws, conversion, column=by, lookback=lookback), as_json)

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
            )
        _emit(result, as_json)

    @app.command()
    def ropo(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        conversion: Annotated[str, typer.Option(help="Purchase event.")] = "Order Completed",
        research_event: Annotated[
            str | None, typer.Option(help="Only this online event counts as research.")
        ] = None,
        lookback: Annotated[str, typer.Option(help="Lookback before a purchase.")] = "30d",
        as_json: JsonOpt = False,
    ) -> None:
        """Research online, purchase offline (and showrooming) shares."""
        from kundresa.attribution import ropo_report

        with _open(db, engine) as ws:
            _emit(
                ropo_report(ws, conversion, lookback=lookback, research_event=research_event),
                as_json,
            )
