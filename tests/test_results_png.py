"""``--out result.png`` of every analysis (issue 13 point 7): a real PNG of the result's HTML
page (its table and chart, what ``--out result.html`` writes), drawn by Debian's chromium
through Playwright once the chart has drawn; the other formats beside it; and one-line
errors for an unknown suffix and a missing chromium or Playwright.

One chromium serves every render of the module (``with chromium():`` around the in-process
CLI runs), one analysis after another: CI has two cores.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kundresa._contract import analyses
from kundresa._results import WRITE_FORMATS, write_result
from kundresa.cli import app
from kundresa.maps import chromium
from tests import test_contract as contract
from tests._images import require_chromium

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

shop = contract.shop  # the contract test's workspace and journey map (module scope here too)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the whole module: renders inside the block reuse it."""
    require_chromium()
    with chromium() as b:
        yield b


def _args(name: str, plan: Path) -> list[str]:
    a = analyses()[name]
    params = dict(contract.PARITY.get(name, {}))
    if name in contract.MAP_ANALYSES:
        params["map"] = str(plan)
    return contract._cli_args(a, params)


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (the first chunk after the signature)."""
    assert data[:8] == PNG_SIGNATURE, data[:16]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR", kind
    assert length == 13, length
    width, height = struct.unpack(">II", data[16:24])
    crc = struct.unpack(">I", data[29:33])[0]
    assert zlib.crc32(data[12:29]) == crc, "IHDR checksum"
    return width, height


def _colours(path: Path) -> tuple[int, float]:
    """How many colours the image has, and the share of its pixels that are coloured
    (saturated: not white, grey or black; the table is black on white, the chart is not)."""
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    colours = rgb.getcolors(maxcolors=1 << 24) or []
    px = np.asarray(rgb, dtype=np.int16)
    spread = px.max(axis=2) - px.min(axis=2)
    return len(colours), float((spread > 40).mean())


def _result(name: str, db: Path, plan: Path) -> Any:
    """The analysis' result, computed by the library with the same parameters."""
    from kundresa import Workspace

    a = analyses()[name]
    params = dict(contract.PARITY.get(name, {}))
    if name in contract.MAP_ANALYSES:
        params["map"] = str(plan)
    with Workspace.open(db) as ws, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return a.compute(ws, a.validate(params))


def _has_chart(result: Any) -> bool:
    """Whether the result draws a figure (``plot()``) in its HTML page."""
    try:
        result.plot()
    except (NotImplementedError, ImportError):
        return False
    return True


def _check_other(name: str, path: Path, expected_json: Any) -> None:
    """A .csv, .parquet, .json or .html file of ``name``'s result that opens as one."""
    assert path.stat().st_size > 0, path
    if path.suffix == ".json":
        assert contract._strip(json.loads(path.read_text())) == expected_json, name
    elif path.suffix == ".csv":
        pd.read_csv(path)
    elif path.suffix == ".parquet":
        pq.read_table(path)
    else:
        page = path.read_text(encoding="utf-8")
        assert "<table" in page or "<svg" in page, name
        assert not re.search(r"<script[^>]+src=[\"']https?:", page), name  # no CDN


def test_every_analysis_writes_a_png(shop: tuple[Path, Path], browser: Any, tmp_path: Path) -> None:
    """``kundresa <analysis> ... --out r.png``: a PNG at least 600 px wide, not blank, with
    its chart drawn where the result has one (the map's own PNG for map conformance)."""
    db, plan = shop
    runner = CliRunner()
    names = list(analyses())
    assert len(names) >= 19
    for name in names:
        out = tmp_path / f"{name}.png"
        res = runner.invoke(app, [*_args(name, plan), "--db", str(db), "--out", str(out)])
        assert res.exit_code == 0, f"{name}: {res.output}"
        assert f"wrote {out}" in res.stderr, name
        width, height = _png_size(out.read_bytes())
        assert width >= 600, (name, width)
        assert height >= 100, (name, height)
        count, coloured = _colours(out)
        assert count > 1, f"{name}: the PNG is one flat colour"
        if _has_chart(_result(name, db, plan)):
            # the chart has drawn: the screenshot was not taken before Plotly ran
            assert coloured * width * height > 2_000, f"{name}: no chart drawn"


def test_every_analysis_writes_the_other_formats(shop: tuple[Path, Path], tmp_path: Path) -> None:
    """.csv, .parquet, .json and .html of every analysis' result (what ``--out`` writes);
    through the CLI for the funnel and for map conformance (which draws .html itself)."""
    db, plan = shop
    for name in analyses():
        result = _result(name, db, plan)
        expected = contract._strip(result.to_dict())
        for suffix in (".csv", ".parquet", ".json", ".html"):
            _check_other(name, write_result(result, tmp_path / f"{name}{suffix}"), expected)
    runner = CliRunner()
    for name in ("funnel", "map-conformance"):
        for suffix in (".csv", ".parquet", ".json", ".html"):
            out = tmp_path / f"cli-{name}{suffix}"
            res = runner.invoke(
                app, [*_args(name, plan), "--db", str(db), "--out", str(out), "--json"]
            )
            assert res.exit_code == 0, f"{name} {suffix}: {res.output}"
            _check_other(name, out, contract._strip(json.loads(res.stdout)))


def test_result_to_png_reuses_the_open_browser(
    shop: tuple[Path, Path], browser: Any, tmp_path: Path
) -> None:
    """``Result.to_png`` writes the page ``--out x.html`` writes, drawn; inside an open
    ``chromium()`` no second browser starts (the nested block yields the open one)."""
    from kundresa import Workspace
    from kundresa._contract import run

    db, _ = shop
    with Workspace.open(db) as ws:
        r = run("funnel", ws, steps=["Product Viewed", "Order Completed"])
    with chromium() as inner:
        assert inner is browser
    png = r.to_png(tmp_path / "deep" / "funnel.png")
    assert png == tmp_path / "deep" / "funnel.png"
    width, _ = _png_size(png.read_bytes())
    assert width == 1200
    count, coloured = _colours(png)
    assert count > 100
    assert coloured > 0.01  # the funnel's bars


def _kundresa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _one_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), res.stderr
    return lines[0]


def test_an_unknown_suffix_is_one_line_naming_the_formats(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = shop
    out = tmp_path / "r.xlsx"
    line = _one_line(_kundresa("channels", "--conversion", "Order Completed", "--db", str(db),
                               "--out", str(out)))  # fmt: skip
    assert f"out: '{out}' is not allowed" in line
    assert "use one of: " + ", ".join(WRITE_FORMATS) in line
    assert ".png" in line
    assert not out.exists()


def test_no_chromium_or_no_playwright_is_one_line_naming_the_install(
    shop: tuple[Path, Path], tmp_path: Path
) -> None:
    """Exit 2 and one line naming what to install; no file, no traceback."""
    db, _ = shop
    out = tmp_path / "r.png"
    args = ("channels", "--db", str(db), "--out", str(out))
    line = _one_line(_kundresa(*args, env={"KUNDRESA_CHROMIUM": str(tmp_path / "no-chromium")}))
    assert "engine 'chromium' cannot start" in line
    assert "apt-get install chromium" in line
    # Playwright missing: importing it fails as it does when it is not installed
    code = (
        "import sys; sys.modules['playwright'] = None; from kundresa.cli import main; "
        f"main({list(args)!r})"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    line = _one_line(res)
    assert "playwright is not installed" in line
    assert "pip install 'kundresa[map]'" in line
    # neither: one line naming both installs
    env = {**os.environ, "KUNDRESA_CHROMIUM": str(tmp_path / "no-chromium")}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False,
        env=env,
    )  # fmt: skip
    line = _one_line(res)
    assert "apt-get install chromium and pip install 'kundresa[map]'" in line
    assert not out.exists()
