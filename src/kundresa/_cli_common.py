"""Option types and helpers shared by ``kundresa._cli`` and the extensions' commands.

A module of its own so that extensions can import it while ``kundresa._cli`` is still loading
(``kundresa._cli`` imports the extensions while it loads).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from kundresa._results import Result, jsonable

__all__ = [
    "DEFAULT_ENGINE",
    "DbOpt",
    "EngineOpt",
    "JsonOpt",
    "emit",
    "open_workspace",
    "write_out",
]

DEFAULT_ENGINE = "duckdb"

DbOpt = Annotated[
    str | None,
    typer.Option("--db", envvar="KUNDRESA_DB", help="Workspace: DuckDB file or Spark folder."),
]
EngineOpt = Annotated[
    str, typer.Option("--engine", envvar="KUNDRESA_ENGINE", help="duckdb (default) or spark.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def open_workspace(db: str | None, engine: str) -> Any:
    """Open the workspace named by ``--db`` / ``--engine`` (a held lock is one line naming
    the server or process that holds it: :func:`kundresa._beside.open_checked`)."""
    from kundresa._beside import open_checked

    return open_checked(db, engine)


def emit(result: Result | dict[str, Any], as_json: bool) -> None:
    """Print a result as text, or as JSON with ``--json``."""
    if as_json:
        data = result.to_dict() if isinstance(result, Result) else jsonable(result)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        typer.echo(str(result))


def write_out(result: Result, path: str, *, quiet: bool = False) -> None:
    """Write ``result`` to ``path`` (``--out``): the result's own formats first (a discovered
    map as ``.yaml``), else :func:`kundresa._results.write_result` by suffix."""
    from pathlib import Path

    from kundresa._results import write_result

    written = write_result(result, Path(path))
    if not quiet:
        typer.echo(f"wrote {written}", err=True)
