"""``kundresa map discover`` and ``kundresa map conformance``: attached to the ``map`` group of
``kundresa.maps.cli`` (registered through ``cli._EXTENSIONS``, after the maps module)."""

from pathlib import Path
from typing import Annotated

import typer

from kundresa._cli_common import DbOpt, EngineOpt, JsonOpt
from kundresa._cli_common import emit as _emit
from kundresa._cli_common import open_workspace as _open
from kundresa.maps.cli import map_app

__all__ = ["register"]


@map_app.command("discover")
def discover_cmd(
    out: Annotated[Path, typer.Option("--out", help="The draft map to write (.yaml or .json).")],
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    stages: Annotated[int, typer.Option(help="Number of stages to propose.")] = 5,
    min_share: Annotated[
        float, typer.Option(help="Keep events reached by at least this share of persons.")
    ] = 0.05,
    conversion: Annotated[
        str | None, typer.Option(help="The conversion event (closes the journey).")
    ] = None,
    persona_property: Annotated[
        str | None,
        typer.Option(help="Property of --persona-event whose values become personas."),
    ] = None,
    persona_event: Annotated[str, typer.Option(help="Event carrying the property.")] = "Identify",
    lang: Annotated[str, typer.Option("--lang", help="sv, nb or en.")] = "en",
    as_json: JsonOpt = False,
) -> None:
    """Propose a journey map (stages, touchpoints, channels, rules) from the dominant paths."""
    from kundresa.paths.discover import discover_map

    with _open(db, engine) as ws:
        d = discover_map(ws, stages=stages, min_share=min_share, conversion=conversion,
                         persona_property=persona_property, persona_event=persona_event,
                         lang=lang)  # fmt: skip
    d.save(out)
    _emit(d, as_json)
    if not as_json:
        typer.echo(f"wrote {out}; edit it, then: kundresa map validate {out}")


@map_app.command("conformance")
def conformance_cmd(
    file: Annotated[Path, typer.Argument(help="The planned (future or current) map.")],
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also render the map with the result: .html .svg .png .pdf."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Event never counted as unplanned.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Planned vs actual: skipped stages, out of order, loops, unplanned touchpoints."""
    from kundresa.errors import NotFoundError
    from kundresa.maps import load_map, measure_map, render_map
    from kundresa.paths.conformance import conformance

    if not file.exists():
        raise NotFoundError("file", str(file))
    jm = load_map(file)
    with _open(db, engine) as ws:
        result = conformance(ws, jm, ignore=tuple(ignore or ()))
        meas = measure_map(jm, ws) if out is not None else None
    _emit(result, as_json)
    if out is not None:
        path = render_map(jm, out, meas, conformance=result)
        if not as_json:
            typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """The commands attach to ``map_app`` at import; ``kundresa.maps.cli`` adds the group."""
    del app
