"""Shared fixtures: the ``engine`` fixture runs a test on DuckDB and on Spark (local mode).

Spark is never skipped silently: without Java the Spark half fails with the reason,
unless ``KUNDRESA_SKIP_SPARK=1`` is set explicitly (and never in CI).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from kundresa import Workspace

ENGINES = ["duckdb", "spark"]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    if os.environ.get("KUNDRESA_SKIP_SPARK") == "1" and os.environ.get("CI") != "true":
        pytest.skip("KUNDRESA_SKIP_SPARK=1 (never honoured in CI)")
    from kundresa._store import spark_session as start

    session = start("local[2]")
    yield session
    session.stop()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_workspace(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Workspace]]:
    """Open fresh workspaces on the parametrised engine."""
    opened: list[Workspace] = []

    def make(name: str = "ws", **kwargs: Any) -> Workspace:
        if engine == "spark":
            session = request.getfixturevalue("spark_session")
            ws = Workspace.open(tmp_path / f"{name}_spark", engine="spark", spark=session, **kwargs)
        else:
            ws = Workspace.open(tmp_path / f"{name}.duckdb", engine="duckdb", **kwargs)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        if ws.engine == "duckdb":
            ws.close()
        else:  # keep the shared session; drop this workspace's views
            for name in ws.store.names():
                ws.store.drop(name)


@pytest.fixture(scope="session")
def synthetic_shop(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    """`kundresa synth --persons 20000 --seed 7` loaded into one DuckDB workspace, shared by
    every planted-truth test of the session (read-only: do not ingest or stitch into it)."""
    import json

    from kundresa.synth import synthesize

    folder = tmp_path_factory.mktemp("synthetic_shop")
    result = synthesize(persons=20_000, seed=7, out=folder)
    truth = json.loads(result.truth_path.read_text())
    ws = Workspace.open(folder / "shop.duckdb")
    report = ws.ingest([result.events_path])
    assert report.quarantined == 0
    yield ws, truth
    ws.close()


def normalise(table: pa.Table, sort_by: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts, sorted, with timestamps made naive UTC (Spark returns them tz-aware)."""
    rows = table.to_pylist()
    for r in rows:
        for k, v in r.items():
            if hasattr(v, "tzinfo") and v.tzinfo is not None:
                r[k] = v.replace(tzinfo=None)
            if isinstance(v, float) and v != v:  # NaN -> None
                r[k] = None
    return sorted(rows, key=lambda r: tuple(str(r[c]) for c in sort_by))
