"""The ``clv`` and ``rfm`` analyses on real workspaces, both engines.

CDNOW (``tests/data/loyalty/CDNOW_sample.txt``, ingested as ``Order Completed``): through
``kundresa.loyalty.clv`` the published parameters come out of the engine's summary, BG/NBD
r 0.2426, alpha 4.4135, a 0.7929, b 2.4258, LL -9582.43 (Fader, Hardie & Lee 2005, Marketing
Science 24(2)) and Gamma-Gamma p 6.2496, q 3.7442, gamma 15.4435 (Fader & Hardie 2013,
brucehardie.com/notes/025); the holdout table is the library's ``calibration_table`` on the
same summary; the per-customer scores are the library's predictions. RFM scores and
segments come out the same on DuckDB and Spark (fixed counts below) and agree with a
pure-Python scoring of the per-customer values.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kundresa import InvalidOptionError, NotFoundError, Workspace
from kundresa.cli import app as cli_app
from kundresa.loyalty import (
    calibration_table,
    clv,
    customer_lifetime_value,
    p_alive,
    rfm,
    rfm_summary,
)
from tests.test_loyalty_summary import cdnow_orders

SRC = str(Path(__file__).resolve().parents[1] / "src")
BG = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
GG = {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}
#: RFM segments of CDNOW to 1997-09-30 by quintiles (both engines must give exactly these)
CDNOW_SEGMENTS = {"champions": 508, "loyal": 313, "promising": 187, "need_attention": 391,
                  "cant_lose": 5, "at_risk": 106, "hibernating": 405, "lost": 442}  # fmt: skip


@pytest.fixture
def cdnow(make_workspace: Callable[..., Workspace], tmp_path: Path) -> Workspace:
    ws = make_workspace("cdnow")
    ws.ingest([cdnow_orders(tmp_path / "cdnow.parquet")])
    return ws


def test_clv_on_cdnow_is_the_published_fit_and_the_library_predictions(cdnow: Workspace) -> None:
    r = clv(cdnow, holdout="39w", horizon="52w", discount_rate=0.1)
    assert r.calibration_end == dt.date(1997, 9, 30)
    assert (r.customers, r.repeat_customers) == (2357, 946)
    got = {(p["model"], p["parameter"]): p for p in r.params}
    for name, want in BG.items():
        assert abs(got["bg_nbd", name]["estimate"] - want) < 1e-3
        assert got["bg_nbd", name]["standard_error"] > 0
    for name, want in GG.items():
        assert abs(got["gamma_gamma", name]["estimate"] - want) < 1e-3
    assert r.fit is not None
    assert abs(r.fit.log_likelihood - -9582.43) < 0.01
    assert r.warnings == ()
    frame = r.to_frame()
    assert len(frame) == 2357
    assert set(frame.columns) >= {"person_id", "p_alive", "expected_purchases", "clv", "holdout_x"}
    # the scores are the library's predictions on the engine's summary
    s = rfm_summary(cdnow, calibration_end="1997-09-30", holdout="39w")
    ref = s.to_frame().set_index("person_id").loc[frame.person_id]
    x, t_x, T = ref.x.to_numpy(), ref.t_x.to_numpy(), ref["T"].to_numpy()
    np.testing.assert_allclose(frame.p_alive, p_alive(r.fit, x, t_x, T), rtol=1e-9)
    assert r.spend_fit is not None
    want_clv = customer_lifetime_value(
        r.fit, r.spend_fit, x, t_x, T, ref.monetary.to_numpy(), periods=12,
        period_length=52 / 12, discount_rate=1.1 ** (364 / 12 / 365.25) - 1,
    )  # fmt: skip
    np.testing.assert_allclose(frame.clv, want_clv, rtol=1e-9)
    assert r.top[0]["clv"] == pytest.approx(frame.clv.max(), rel=1e-6)
    assert sum(d["customers"] for d in r.deciles) == 2357
    assert sum(h["customers"] for h in r.p_alive_histogram) == 2357
    assert sum(d["share"] for d in r.deciles) == pytest.approx(1.0)
    # the holdout table: the library's on the same summary (FHL 2005's 39-week holdout)
    table = calibration_table(r.fit, x, t_x, T, ref.holdout_x.to_numpy(), holdout=39.0)
    assert r.calibration is not None
    assert r.calibration.rows == table.rows
    assert r.calibration.rows[0]["customers"] == 1411
    assert r.calibration.rows[0]["actual"] == pytest.approx(0.237, abs=1e-3)


def test_rfm_on_cdnow_is_the_same_on_both_engines(cdnow: Workspace) -> None:
    r = rfm(cdnow, calibration_end="1997-09-30")
    assert {s["segment"]: s["customers"] for s in r.segments} == CDNOW_SEGMENTS
    assert r.revenue == pytest.approx(173115.55)
    frame = r.to_frame()
    assert len(frame) == 2357
    assert frame.r.between(1, 5).all()
    # quintiles by rank, ties together: a pure-Python reference on the fetched values
    n = len(frame)
    for col, key, sign in (("r", "recency_days", -1), ("f", "frequency", 1),
                           ("m", "monetary", 1)):  # fmt: skip
        v = sign * frame[key].to_numpy(dtype=float)
        worse = np.searchsorted(np.sort(v), v, side="left")
        assert (frame[col].to_numpy() == 1 + np.floor(5 * worse / n)).all(), col
    assert sum(g["customers"] for g in r.grid) == 2357
    fixed = rfm(cdnow, method="fixed", calibration_end="1997-09-30",
                frequency_thresholds=[2, 3, 4, 6])  # fmt: skip
    f = fixed.to_frame()
    freq = f.frequency.to_numpy()
    assert (f.f.to_numpy() == 1 + (freq >= 2) + (freq >= 3) + (freq >= 4) + (freq >= 6)).all()
    rec = f.recency_days.to_numpy()
    assert (f.r.to_numpy() == 1 + (rec <= 30) + (rec <= 90) + (rec <= 180) + (rec <= 365)).all()
    assert fixed.thresholds["frequency_thresholds"] == (2.0, 3.0, 4.0, 6.0)


def test_clv_errors_are_one_line(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "e.duckdb")
    ws.ingest([cdnow_orders(tmp_path / "c.parquet")])
    with pytest.raises(NotFoundError, match="event: 'Purchase' not found"):
        clv(ws, "Purchase")
    with pytest.raises(InvalidOptionError, match=r"purchase_event: .*bought once"):
        clv(ws, calibration_end="1997-01-01")  # the first day: nobody has bought again
    with pytest.raises(InvalidOptionError, match="calibration_end: '1996-12-01'"):
        clv(ws, calibration_end="1996-12-01")
    with pytest.raises(InvalidOptionError, match="model: 'gamma'"):
        clv(ws, model="gamma")
    with pytest.raises(InvalidOptionError, match="recency_thresholds: '90,30,180,365'"):
        rfm(ws, method="fixed", recency_thresholds=[90, 30, 180, 365])
    none = clv(ws, spend_model="none", model="pareto_nbd", calibration_end="1997-09-30")
    assert none.spend_fit is None
    assert math.isnan(none.to_frame().clv.iloc[0])
    assert {p["parameter"] for p in none.params} == {"r", "alpha", "s", "beta"}
    ws.close()
    res = subprocess.run(
        [sys.executable, "-m", "kundresa", "clv", "--db", str(tmp_path / "e.duckdb"),
         "--calibration-end", "1997-01-01"],
        capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": SRC},
    )  # fmt: skip
    assert res.returncode == 2
    assert res.stderr.startswith("error: purchase_event: 'Order Completed' is not allowed;")
    assert "bought once" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_cli_out_has_a_row_per_customer(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest([cdnow_orders(tmp_path / "c.parquet")])
    runner = CliRunner()
    for name in ("clv", "rfm"):
        out = tmp_path / f"{name}.csv"
        res = runner.invoke(cli_app, [name, "--db", str(db), "--calibration-end", "1997-09-30",
                                      "--out", str(out)])  # fmt: skip
        assert res.exit_code == 0, res.output
        lines = out.read_text().splitlines()
        assert len(lines) == 2358
        assert lines[0].startswith("person_id,")


def test_clv_and_rfm_per_persona(tmp_path: Path) -> None:
    """With a journey map: the persona of each customer from the map's rules."""
    from kundresa.maps import new_map
    from kundresa.synth import synthesize

    made = synthesize(persons=400, seed=5, out=tmp_path / "synth", days=56)
    with Workspace.open(tmp_path / "s.duckdb") as ws:
        ws.ingest([made.events_path])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a short shop: the fit may be at a boundary
            r = clv(ws, journey_map=new_map("shop"))
        groups = {g["group"]: g for g in r.by_group}
        assert sum(g["customers"] for g in r.by_group) == r.customers
        assert set(groups) <= {"wheel_kicker", "impulse", "loyal", "trial_churner", "(none)"}
        assert len(groups) >= 2
        frame = r.to_frame()
        for g, row in groups.items():
            sub = frame[frame.group == g]
            assert row["mean_p_alive"] == pytest.approx(sub.p_alive.mean())
        seg = rfm(ws, journey_map=new_map("shop"))
        assert sum(g["customers"] for g in seg.by_group) == seg.customers
        # the map's loyalty stage (its last) carries the same P(alive) and CLV per persona
        from kundresa.maps import measure_map

        jm = new_map("shop")
        m = measure_map(jm, ws)
        last = jm.stages[-1].id
        checked = 0
        for g, sub in [("*", frame), *((g, frame[frame.group == g]) for g in groups)]:
            s = m.stage(last, g)
            if s is None or s.loyalty is None:
                continue
            checked += 1
            assert s.loyalty.p_alive is not None
            assert s.loyalty.p_alive["median"] == pytest.approx(sub.p_alive.median())
            assert s.loyalty.clv == pytest.approx(sub.clv.mean())
        assert checked >= 2
        assert "P(alive) median" in str(m)


def test_declarations_copy_the_library() -> None:
    from kundresa._catalog import clv as declared
    from kundresa.loyalty import _clv_analysis, _rfm, _summary

    assert declared.PURCHASE_MODELS == _clv_analysis.PURCHASE_MODELS
    assert declared.SPEND_MODELS == _clv_analysis.SPEND_MODELS
    assert declared.RFM_METHODS == _rfm.METHODS
    assert tuple(_summary.UNITS) == declared.UNITS
