"""``kundresa map ...``: new, validate, render, measure, export, import."""

from pathlib import Path
from typing import Annotated

import typer

from kundresa._cli_common import DbOpt, EngineOpt, JsonOpt
from kundresa._cli_common import emit as _emit
from kundresa._cli_common import open_workspace as _open
from kundresa._contract_cli import AnalysisGroup

__all__ = ["register"]

map_app = typer.Typer(
    name="map",
    help="Journey maps as code: create, validate, measure, render.",
    no_args_is_help=True,
    cls=AnalysisGroup.under("map"),  # measure, conformance, discover: from their declarations
)


@map_app.command("new")
def new(
    out: Annotated[Path, typer.Option("--out", help="The map file to write (.yaml or .json).")],
    template: Annotated[str, typer.Option(help="Stage model or map template.")] = (
        "awareness-to-post-purchase"
    ),
    lang: Annotated[str, typer.Option("--lang", help="sv, nb or en.")] = "en",
    map_type: Annotated[
        str | None, typer.Option("--map-type", help="current, future or day_in_the_life.")
    ] = None,
    old_type: Annotated[
        str | None, typer.Option("--type", hidden=True, help="Old spelling of --map-type.")
    ] = None,
) -> None:
    """Write a starting map from a template."""
    from kundresa.maps import new_map, save_map

    if old_type is not None:
        typer.echo("warning: map new --type is deprecated, use --map-type", err=True)
    save_map(new_map(template, lang=lang, type=map_type or old_type), out)
    typer.echo(f"wrote {out} (template {template}, {lang}); next: kundresa map validate {out}")


@map_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The map file.")],
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Report every problem with file, line, path and fix (exit 2 on errors)."""
    from kundresa.maps import validate_file

    if db:
        with _open(db, engine) as ws:
            report = validate_file(file, ws=ws)
    else:
        report = validate_file(file)
    _emit(report, as_json)
    if not report.ok:
        raise typer.Exit(2)


@map_app.command("render")
def render(
    file: Annotated[Path, typer.Argument(help="The map file.")],
    out: Annotated[Path, typer.Option("--out", help="Output: .html, .svg, .png or .pdf.")],
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    compare: Annotated[
        Path | None, typer.Option(help="The current map to overlay (for a future map).")
    ] = None,
    measured: Annotated[bool, typer.Option(help="Measure on --db and show the numbers.")] = True,
) -> None:
    """Render the map (measured when --db is given) to HTML, SVG, PNG or PDF."""
    from kundresa.maps import load_map, measure_map, render_map

    jm = load_map(file)
    other = load_map(compare) if compare else None
    if other is None and jm.compare_to:
        other = load_map(file.parent / jm.compare_to)
    meas = None
    if db and measured:
        with _open(db, engine) as ws:
            meas = measure_map(jm, ws)
    path = render_map(jm, out, meas, compare=other)
    typer.echo(f"wrote {path}")


@map_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="The map file.")],
    to: Annotated[str, typer.Option("--to", help="mermaid, timeline or cjml.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (default: stdout).")
    ] = None,
) -> None:
    """Export to Mermaid journey, Mermaid timeline or CJML 2.0 XML."""
    from kundresa._errors import InvalidOptionError
    from kundresa.maps import load_map, to_cjml, to_mermaid, to_timeline

    writers = {"mermaid": to_mermaid, "timeline": to_timeline, "cjml": to_cjml}
    if to not in writers:
        raise InvalidOptionError("--to", to, allowed=tuple(writers))
    text = writers[to](load_map(file))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


@map_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A Mermaid journey (.mmd).")],
    out: Annotated[Path, typer.Option("--out", help="The map file to write (.yaml or .json).")],
) -> None:
    """Import a Mermaid journey diagram as a map file."""
    from kundresa._errors import NotFoundError
    from kundresa.maps import from_mermaid, save_map

    if not file.exists():
        raise NotFoundError("file", str(file))
    save_map(from_mermaid(file.read_text(encoding="utf-8"), source=str(file)), out)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``kundresa map ...`` to the main CLI."""
    app.add_typer(map_app, name="map")
