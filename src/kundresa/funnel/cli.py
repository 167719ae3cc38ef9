"""``kundresa funnel STEP...``: the funnel on the command line (every parameter a flag).

Registered through ``kundresa.cli._EXTENSIONS``; heavy imports happen inside the command.

>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> [c.name for c in app.registered_commands]
['funnel']
"""

from typing import Annotated

import typer

__all__ = ["register"]


def _exclusion(text: str) -> tuple[str, int, int, str]:
    from kundresa.errors import InvalidOptionError

    parts = text.rsplit(":", 3)
    try:
        event, after, before = parts[0], int(parts[1]), int(parts[2])
        mode = parts[3] if len(parts) > 3 else "drop"
    except (IndexError, ValueError):
        raise InvalidOptionError(
            "--exclude",
            text,
            fix="write EVENT:AFTER:BEFORE[:drop|stop], e.g. 'Cart Emptied:2:3:stop'",
        ) from None
    return event, after, before, mode


def register(app: typer.Typer) -> None:
    """Add the ``funnel`` command to ``app``."""
    from kundresa.cli import DbOpt, EngineOpt, JsonOpt, _emit, _open

    @app.command("funnel")
    def funnel_cmd(
        steps: Annotated[
            list[str],
            typer.Argument(
                help="Event names in order; 'A|B' = either event; suffix '?' = optional."
            ),
        ],
        window: Annotated[
            str, typer.Option(help="Conversion window from entry, e.g. 7d, 30m.")
        ] = "7d",
        order: Annotated[str, typer.Option(help="ordered | strict | unordered.")] = "ordered",
        entry: Annotated[str, typer.Option(help="best | first | totals.")] = "best",
        exclude: Annotated[
            list[str] | None,
            typer.Option(
                help="Exclusion EVENT:AFTER:BEFORE[:drop|stop] (step numbers), repeatable."
            ),
        ] = None,
        within: Annotated[
            list[str] | None,
            typer.Option(help="Per-step limit from the previous step, STEP=DURATION (e.g. 3=1h)."),
        ] = None,
        directly_followed: Annotated[
            list[int] | None,
            typer.Option(help="Step number that must directly follow its previous step."),
        ] = None,
        hold_constant: Annotated[
            list[str] | None,
            typer.Option(help="Column or property equal on every step, repeatable."),
        ] = None,
        unit: Annotated[str, typer.Option(help="person | session | an id column.")] = "person",
        tie: Annotated[
            str, typer.Option(help="Tolerance for near-simultaneous events, e.g. 1s.")
        ] = "0s",
        tie_order: Annotated[
            str, typer.Option(help="event_id | funnel (order of identical times).")
        ] = "event_id",
        denominator: Annotated[str, typer.Option(help="entered | all.")] = "entered",
        by: Annotated[str | None, typer.Option(help="Break down by a column or property.")] = None,
        attribution: Annotated[str, typer.Option(help="first | last | all | step:N.")] = "first",
        trend: Annotated[str, typer.Option(help="day | week | month.")] = "week",
        dropoff_ids: Annotated[
            int | None,
            typer.Option(help="Print the ids of units dropping before this step number."),
        ] = None,
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        as_json: JsonOpt = False,
    ) -> None:
        """Where units drop off between STEPs: counts, conversion with CIs, times, drop-offs."""
        from kundresa._util import parse_duration
        from kundresa.errors import InvalidOptionError
        from kundresa.funnel import Exclusion, Step, funnel

        limits: dict[int, str] = {}
        for w in within or []:
            num, _, dur = w.partition("=")
            if not num.strip().isdigit():
                raise InvalidOptionError("--within", w, fix="write STEP=DURATION, e.g. 3=1h")
            parse_duration(dur, "--within")
            limits[int(num)] = dur
        direct = set(directly_followed or [])
        parsed = []
        for i, raw in enumerate(steps, start=1):
            optional = raw.endswith("?")
            names = tuple(n.strip() for n in raw.rstrip("?").split("|"))
            parsed.append(
                Step(
                    names if len(names) > 1 else names[0],
                    optional=optional,
                    within=limits.get(i),
                    directly_followed=i in direct,
                )
            )
        excl = [Exclusion(*_exclusion(x)) for x in exclude or []]
        with _open(db, engine) as ws:
            result = funnel(
                ws,
                parsed,
                window=window,
                order=order,
                entry=entry,
                exclusions=excl,
                hold_constant=hold_constant or (),
                unit=unit,
                tie=tie,
                tie_order=tie_order,
                denominator=denominator,
                by=by,
                attribution=attribution,
                trend=trend,
            )
        if dropoff_ids is not None and not as_json:
            for unit_id in result.dropoff_ids(dropoff_ids):
                typer.echo(unit_id)
            return
        _emit(result, as_json)
