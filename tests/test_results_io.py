"""Results in notebooks and files: to_pandas / to_arrow / _repr_html_ and ``--out``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kundresa import Workspace
from kundresa._contract import run
from kundresa._errors import InvalidOptionError
from kundresa._results import result_html, write_result
from kundresa.cli import app
from kundresa.synth import synthesize


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("io")
    made = synthesize(persons=300, seed=5, out=root / "synth")
    path = root / "w.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest([made.events_path])
    return path


def test_conversions_and_notebook_html(db: Path, tmp_path: Path) -> None:
    with Workspace.open(db) as ws:
        r = run("funnel", ws, steps=["Product Viewed", "Order Completed"])
    frame = r.to_pandas()
    assert len(frame) == 2
    assert frame.equals(r.to_frame())
    assert r.to_arrow().num_rows == 2
    assert r.to_arrow().column_names == list(frame.columns)
    html = r._repr_html_()
    assert "<table" in html
    assert "plotly" in html.lower()
    page = result_html(r, inline_js=True)
    assert not re.search(r"<script[^>]+src=[\"']https?:", page)  # no CDN
    assert len(page) > 1_000_000  # plotly.js inlined from the installed package
    for suffix in (".csv", ".parquet", ".json", ".html"):
        out = write_result(r, tmp_path / f"f{suffix}")
        assert out.stat().st_size > 0
    assert len(pd.read_csv(tmp_path / "f.csv")) == 2
    assert pq.read_table(tmp_path / "f.parquet").num_rows == 2
    assert json.loads((tmp_path / "f.json").read_text()) == json.loads(r.to_json())
    with pytest.raises(InvalidOptionError, match=r"out: .* use one of: \.csv"):
        write_result(r, tmp_path / "f.xlsx")


def test_cli_out(db: Path, tmp_path: Path) -> None:
    """Every analysis command writes --out; stdout stays the result (JSON with --json)."""
    out = tmp_path / "channels.csv"
    res = CliRunner().invoke(app, ["channels", "--db", str(db), "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "rows" in json.loads(res.stdout)
    assert len(pd.read_csv(out)) == len(json.loads(res.stdout)["rows"])
