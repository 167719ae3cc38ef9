"""The ``kundresa`` command: a thin layer over the library.

Every command takes ``--db`` / ``--engine`` where it reads data and ``--json`` to print the
result object as JSON instead of a table. User mistakes print one line ``error: ...`` with
the fix and exit with status 2; never a traceback.
"""

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from kundresa._cli_common import DbOpt as DbOpt
from kundresa._cli_common import EngineOpt as EngineOpt
from kundresa._cli_common import JsonOpt as JsonOpt
from kundresa._cli_common import emit, open_workspace
from kundresa._contract_cli import AnalysisGroup
from kundresa._errors import InvalidOptionError, KundresaError, NotFoundError
from kundresa._progress import progress_bar as _progress
from kundresa._results import jsonable

app = typer.Typer(
    name="kundresa",
    help="Map, measure and improve the customer journey.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=AnalysisGroup,
)

# Shared with the extensions' commands (see kundresa._cli_common).
_open = open_workspace
_emit = emit


def _engine_message(exc: BaseException) -> str:
    """The first line of an engine error, its class prefix kept (``Catalog Error: Table
    with name nowhere does not exist!``), without DuckDB's ``LINE 1:`` context.

    >>> _engine_message(ValueError("Binder Error: column x not found\\nLINE 1: select x"))
    'Binder Error: column x not found'
    """
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _new_workspace(db: str | None, engine: str) -> str | None:
    """The DuckDB workspace file the command names when it does not exist yet, else None
    (a command that must not create one checks this before opening)."""
    if engine != "duckdb":
        return None
    from kundresa._beside import workspace_path

    where = workspace_path(db)
    return None if where == ":memory:" or Path(where).exists() else where


def _parse_pairs(pairs: list[str], option: str, fix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidOptionError(option, pair, fix=fix)
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    return _parse_pairs(pairs, "--column", "write CANONICAL=COLUMN, e.g. --column ts=event_time")


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, Parquet, JSON Lines or Segment JSON.")],
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv|parquet|jsonl|json|txt|ga4 (default: suffix)."),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", help="Column mapping CANONICAL=COLUMN, repeatable."),
    ] = None,
    old_map: Annotated[
        list[str] | None, typer.Option("--map", hidden=True, help="Old spelling of --column.")
    ] = None,
    no_stitch: Annotated[bool, typer.Option("--no-stitch", help="Skip stitching.")] = False,
    timestamp_format: Annotated[
        str | None,
        typer.Option("--timestamp-format", help="strptime codes for text times, e.g. %Y%m%d."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="Zone of times without an offset (default UTC)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A constant field FIELD=VALUE (or properties.KEY=VALUE)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Load event files; bad rows go to quarantine with the reason."""
    if old_map:
        typer.echo(
            "warning: ingest --map is deprecated, use --column (--map is only ever a "
            "journey-map file; the old spelling goes in the next release)",
            err=True,
        )
    from kundresa._ingest_read import check_files, check_read_options

    constants = _parse_pairs(
        set_ or [], "--set", "write FIELD=VALUE, e.g. --set 'event=Order Completed'"
    )
    check_read_options(timestamp_format, timezone)  # before the workspace file is opened
    if _new_workspace(db, engine) is not None:
        check_files(files)  # a failed ingest creates no workspace file
    with _open(db, engine) as ws:  # (an existing one held elsewhere: that error first)
        bar, update = _progress()
        with bar:
            report = ws.ingest(
                files,
                format=fmt,
                mapping=_parse_mapping([*(column or []), *(old_map or [])]),
                stitch=not no_stitch,
                progress=update,
                timestamp_format=timestamp_format,
                timezone=timezone,
                constants=constants,
            )
    _emit(report, as_json)


@app.command()
def stitch(
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    session_gap: Annotated[str, typer.Option(help="Inactivity gap that ends a session.")] = "30m",
    session_start: Annotated[
        list[str] | None, typer.Option(help="Event that always starts a session, repeatable.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute persons (identity graph) and sessions for all events."""
    from kundresa._stitch import SessionConfig
    from kundresa._util import parse_duration

    parse_duration(session_gap, "--session-gap")
    with _open(db, engine) as ws:
        cfg = SessionConfig(session_gap=session_gap, start_events=tuple(session_start or ()))
        bar, update = _progress()
        with bar:
            update("stitch", 0, 0)
            report = ws.stitch(cfg)
        _emit(report, as_json)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL in the engine's dialect.")],
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    limit: Annotated[int, typer.Option(help="Rows to print at most.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Run a SQL query on the workspace (tables: events, identities, quarantine, ...)."""
    from kundresa._beside import forward_sql, sql_text

    if forward_sql(db, engine, query, limit, as_json):  # one SELECT via a running server
        return
    missing = _new_workspace(db, engine)
    if missing is not None:  # a query reads: it never creates a workspace
        raise NotFoundError("workspace", missing)
    with _open(db, engine) as ws:
        try:
            table = ws.sql(query)
        except KundresaError:
            raise
        except Exception as exc:  # the engine's own message says what is wrong
            raise KundresaError(f"query: {_engine_message(exc)}") from None
    rows = table.slice(0, limit).to_pylist()
    if as_json:
        typer.echo(json.dumps(jsonable(rows), indent=2, default=str))
        return
    typer.echo(sql_text(table, limit))


@app.command()
def forget(
    identifier: Annotated[str, typer.Argument(help="One of the person's identifiers.")],
    id_type: Annotated[
        str, typer.Option("--id-type", help="user_id, anonymous_id, email, loyalty_card, ...")
    ] = "user_id",
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    as_json: JsonOpt = False,
) -> None:
    """Delete one person everywhere: events, identities, links, quarantined rows.

    The DuckDB file is rewritten so no deleted byte remains, and salted-hash tombstones drop
    later arrivals of the person's identifiers. Works while ``kundresa serve`` holds the
    workspace (through the server, which also erases its inbox), and covers the inbox of a
    server that is not running (e.g. killed with calls still waiting in it).
    """
    from kundresa._beside import forward_forget

    if forward_forget(db, engine, identifier, id_type, as_json):
        return
    from kundresa.server._forget import forget_offline

    with _open(db, engine) as ws:
        _emit(forget_offline(ws, identifier, id_type), as_json)


@app.command()
def synth(
    persons: Annotated[int, typer.Option(help="How many persons.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    days: Annotated[int, typer.Option(help="Length of the period in days.")] = 56,
    loyalty: Annotated[
        bool,
        typer.Option(
            "--loyalty",
            help="Plant the loyalty stage: repeat purchase and drop-out (BG/NBD), spend "
            "(Gamma-Gamma), referrals and reviews per persona (use a long period, --days 730).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for events.parquet and truth.json (default: beside the workspace, "
            "<workspace>-synth/)."
        ),
    ] = None,
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Only write the files.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate synthetic journeys with planted truth and load them into the workspace.

    With --loyalty (and e.g. --days 730) every customer repurchases, drops out, spends and
    recommends under planted per-persona parameters (truth.json: loyalty, ambassadors)."""
    import os

    from kundresa._beside import refuse_if_served
    from kundresa._workspace import DEFAULT_DB
    from kundresa.synth import synthesize

    where = Path(db or os.environ.get("KUNDRESA_DB") or DEFAULT_DB)
    if not no_ingest:
        refuse_if_served(db, engine)
    if out is None:  # beside the workspace it names, never ./synth of whatever folder
        out = where.with_name(f"{where.stem}-synth")
    t0 = time.perf_counter()
    bar, update = _progress()
    with bar:
        result = synthesize(
            persons=persons, seed=seed, out=out, days=days, loyalty=loyalty, progress=update
        )
    payload: dict[str, Any] = {
        "synth": result.to_dict(),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if not no_ingest:
        with _open(db, engine) as ws:
            bar, update = _progress()
            with bar:
                report = ws.ingest([result.events_path], progress=update)
            payload["ingest"] = report.to_dict()
            summary = ws.info()
            payload["info"] = summary.to_dict()
    if as_json:
        _emit(payload, True)
        return
    typer.echo(str(result))
    if not no_ingest:
        typer.echo(str(report))
        typer.echo(str(summary))
        typer.echo("")
        typer.echo(_next_steps(str(where)))


@app.command()
def demo(
    persons: Annotated[int, typer.Option(help="How many synthetic persons.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    db: DbOpt = None,
    engine: EngineOpt = "duckdb",
    out: Annotated[Path, typer.Option(help="Folder for the demo's files.")] = Path("demo"),
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after writing the files (no web app).")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the web app on 127.0.0.1.")] = 8000,
) -> None:
    """The main job: synthesise a shop's journeys, load them, measure and render the journey
    map, then serve the web app on 127.0.0.1 (unless --no-serve)."""
    from kundresa.synth import synthesize

    out.mkdir(parents=True, exist_ok=True)
    where = db or str(out / ("kundresa.duckdb" if engine == "duckdb" else "kundresa_spark"))
    from kundresa._beside import refuse_if_served

    refuse_if_served(where, engine)
    t0 = time.perf_counter()
    bar, update = _progress()
    with bar:
        result = synthesize(persons=persons, seed=seed, out=out, progress=update)
    typer.echo(f"[1/2] {result}  ({time.perf_counter() - t0:.1f} s)")
    t1 = time.perf_counter()
    with _open(where, engine) as ws:
        bar, update = _progress()
        with bar:
            report = ws.ingest([result.events_path], progress=update)
        typer.echo(f"[2/2] loaded into {where}  ({time.perf_counter() - t1:.1f} s)")
        typer.echo(str(report))
        typer.echo("")
        typer.echo(str(ws.info()))
        typer.echo("")
        from kundresa.maps._demo import demo_map

        for line in demo_map(ws, out):
            typer.echo(line)
    typer.echo("")
    typer.echo(_next_steps(where))
    if no_serve:
        return
    try:
        from kundresa.server import serve
    except ImportError:  # pragma: no cover - depends on the install
        typer.echo("(web app not installed: pip install 'kundresa[server]')")
        return
    typer.echo("")
    typer.echo("Web app (Ctrl-C to stop):")
    serve(
        where,
        engine=engine,
        port=port,
        block=True,
        echo=typer.echo,
        maps=[out / "journey-map.yaml"],
        reset_login="admin",
    )


def _next_steps(where: str) -> str:
    """What to run next on the workspace ``where`` (printed by ``demo`` and ``synth``)."""
    return (
        f"Next: kundresa info --db {where}   |   kundresa sql --db {where} "
        '"select channel, count(*) from events group by 1"'
    )


# The analyses' commands come from their declarations (kundresa._contract, AnalysisGroup);
# other command groups add themselves here, one line each: a module with
# ``register(app: typer.Typer) -> None`` that imports its heavy dependencies lazily.
_EXTENSIONS: tuple[str, ...] = (
    "kundresa.maps._cli",
    "kundresa.server._cli",
    "kundresa._retention_cli",
)


def _register_extensions() -> None:
    import importlib

    for name in _EXTENSIONS:
        importlib.import_module(name).register(app)


_register_extensions()


def owner_only() -> None:
    """Make files this process creates from now on readable and writable by their owner only
    (adds 077 to the umask; DuckDB and SQLite create their WAL files with it)."""
    import os

    os.umask(os.umask(0o077) | 0o077)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one clear line and exit code 2.
    Files the commands write are their owner's only (umask 077: workspaces, their WAL, the
    server's state, exports)."""
    owner_only()
    try:
        app(args=argv)
    except KundresaError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
