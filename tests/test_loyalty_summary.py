"""The engine's RFM summary of the CDNOW purchase log, and the published fits from it.

``tests/data/loyalty/CDNOW_sample.txt`` (the lifetimes 0.11.3 wheel, MIT) is ingested as
``Order Completed`` events into a real workspace on each engine (DuckDB and Spark local);
``kundresa.loyalty.rfm_summary`` must give the published summary
(``cdnow_customers_summary_with_transactions.csv``, Fader, Hardie & Lee 2005, calibration
1997-01-01 .. 1997-09-30, 39 weeks) to its rounding, and the public fits on that summary the
published parameters:

- BG/NBD: r 0.2426, alpha 4.4135, a 0.7929, b 2.4258, LL -9582.43 (Fader, Hardie & Lee 2005,
  "Counting your customers the easy way: an alternative to the Pareto/NBD model", Marketing
  Science 24(2), section 5);
- Gamma-Gamma: p 6.2496, q 3.7442, gamma 15.4435 (Fader & Hardie 2013, "The Gamma-Gamma model
  of monetary value", brucehardie.com/notes/025).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kundresa import InvalidOptionError, NotFoundError, Workspace
from kundresa.loyalty import fit_bg_nbd, fit_gamma_gamma, rfm_summary

DATA = Path(__file__).parent / "data" / "loyalty"


def cdnow_orders(path: Path) -> Path:
    """The CDNOW log (customer id, master id, YYYYMMDD, CDs, dollars) as events; the user
    is the master id (the ``ID`` of the published summary)."""
    rows = []
    for i, line in enumerate((DATA / "CDNOW_sample.txt").read_text().splitlines()):
        _, master, day, _, value = line.split()
        rows.append(
            {
                "event_id": f"o{i:05d}",
                "ts": dt.datetime.strptime(day, "%Y%m%d"),
                "type": "track",
                "event": "Order Completed",
                "user_id": str(int(master)),
                "revenue": float(value),
            }
        )
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.fixture
def cdnow(make_workspace: Callable[..., Workspace], tmp_path: Path) -> Workspace:
    ws = make_workspace("cdnow")
    ws.ingest([cdnow_orders(tmp_path / "cdnow.parquet")])
    return ws


def _published() -> dict[int, tuple[int, float, float, float]]:
    lines = (DATA / "cdnow_customers_summary_with_transactions.csv").read_text().splitlines()
    out = {}
    for line in lines[1:]:
        i, x, t_x, T, zbar = line.split(",")
        out[int(i)] = (int(x), float(t_x), float(T), float(zbar))
    return out


def _users(ws: Workspace) -> dict[str, int]:
    rows = ws.sql("select person_id, identifier from identities where id_type = 'user_id'")
    return {r["person_id"]: int(r["identifier"]) for r in rows.to_pylist()}


def test_cdnow_summary_is_the_published_one_and_so_are_the_fits(cdnow: Workspace) -> None:
    s = rfm_summary(cdnow, calibration_end="1997-09-30", holdout="39w")
    assert (s.customers, s.repeat_customers) == (2357, 946)
    assert s.holdout_end == dt.date(1998, 6, 30)
    frame = s.to_frame()
    users = _users(cdnow)
    published = _published()
    got = {users[r.person_id]: (r.x, r.t_x, r.T, r.monetary) for r in frame.itertuples(index=False)}
    assert set(got) == set(published)
    for i, (x, t_x, T, zbar) in published.items():
        gx, gt, gT, gm = got[i]
        assert (gx, round(gt, 2), round(gT, 2)) == (x, t_x, T), i
        assert abs(gm - zbar) <= 0.005 + 1e-9, i  # zbar is rounded to cents
    # the same summary with the holdout derived from the end of the data (1998-06-30)
    assert rfm_summary(cdnow, holdout="39w").calibration_end == dt.date(1997, 9, 30)
    # BG/NBD from the distinct rows and their counts (what travels back for a fit)
    d = rfm_summary(cdnow, calibration_end="1997-09-30", distinct=True)
    assert d.weights.sum() == 2357
    assert len(d.weights) < 2357
    bg = fit_bg_nbd(d.column("x"), d.column("t_x"), d.column("T"), weights=d.weights)
    for name, want in {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}.items():
        assert abs(bg[name] - want) < 1e-3, (name, bg[name])
    assert abs(bg.log_likelihood - -9582.43) < 0.01
    repeat = s.column("x") > 0
    gg = fit_gamma_gamma(s.column("x")[repeat], s.column("monetary")[repeat])
    for name, want in {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}.items():
        assert abs(gg[name] - want) < 1e-3, (name, gg[name])
    # 2457 repeat purchases in the calibration (FHL 2005); holdout purchases: the distinct
    # customer-days of the log in the 39 weeks after it (1997-10-01 .. 1998-06-30)
    assert int(s.column("x").sum()) == 2457
    days = set()
    for line in (DATA / "CDNOW_sample.txt").read_text().splitlines():
        _, master, day, _, _ = line.split()
        if "19971001" <= day <= "19980630":
            days.add((master, day))
    assert int(s.column("holdout_x").sum()) == len(days) == 1882


def test_summary_conventions_on_a_tie_heavy_log(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """Same-day orders once (values summed) or each; days as the unit; the group of the
    first purchase; a brute-force reference."""
    t0 = dt.datetime(2026, 3, 2)
    # (user, day, hour, revenue, channel)
    orders = [
        ("a", 0, 9, 10.0, "web"),
        ("a", 0, 9, 5.0, "store"),
        ("a", 3, 1, 20.0, "web"),
        ("a", 10, 23, 30.0, "app"),
        ("a", 30, 0, 8.0, "web"),
        ("b", 2, 12, 7.0, "store"),
        ("b", 2, 12, 7.0, "web"),
        ("c", 12, 0, None, "web"),
        ("c", 19, 0, 4.0, "web"),
        ("d", 25, 0, 3.0, "app"),  # first purchase after the calibration: not a customer
    ]
    rows = [
        {
            "event_id": f"e{k:02d}",
            "ts": t0 + dt.timedelta(days=d, hours=h),
            "type": "track",
            "event": "Order Completed",
            "user_id": u,
            "revenue": v,
            "channel": ch,
        }
        for k, (u, d, h, v, ch) in enumerate(orders)
    ] + [
        {
            "event_id": "z",
            "ts": t0 + dt.timedelta(days=40),
            "type": "track",
            "event": "Page Viewed",
            "user_id": "a",
            "revenue": None,
            "channel": "web",
        }
    ]
    path = tmp_path / "o.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    ws = make_workspace("ties")
    ws.ingest([path])
    users = _users_any(ws)
    once = rfm_summary(
        ws, calibration_end="2026-03-22", holdout="20d", time_unit="day", by="channel"
    )
    each = rfm_summary(
        ws, calibration_end="2026-03-22", holdout="20d", time_unit="day", distinct_days=False
    )

    def by_user(s: object) -> dict[str, dict[str, object]]:
        f = s.to_frame()  # type: ignore[attr-defined]
        return {users[r["person_id"]]: r for r in f.to_dict("records")}

    o, e = by_user(once), by_user(each)
    assert set(o) == {"a", "b", "c"}  # d first bought after 2026-03-22
    a = o["a"]
    assert (a["x"], a["t_x"], a["T"], a["monetary"], a["orders"]) == (2, 10.0, 20.0, 25.0, 3)
    assert (a["holdout_x"], a["holdout_revenue"], a["group"]) == (1, 8.0, "store")
    assert a["mean_value"] == pytest.approx(65 / 3)
    assert (o["b"]["x"], o["b"]["T"], o["b"]["mean_value"], o["b"]["group"]) == (
        0,
        18.0,
        14.0,
        "store",
    )
    assert (o["c"]["x"], o["c"]["t_x"], o["c"]["monetary"], o["c"]["revenue"]) == (1, 7.0, 4.0, 4.0)
    # each order counts: a's first day has two orders (the first's value: the smaller)
    assert (e["a"]["x"], e["a"]["orders"], e["a"]["monetary"]) == (3, 4, 60 / 3)
    assert (e["b"]["x"], e["b"]["t_x"], e["b"]["monetary"]) == (1, 0.0, 7.0)
    weeks = rfm_summary(ws, calibration_end="2026-03-22")
    assert sorted(weeks.column("T").round(6).tolist()) == [round(d / 7, 6) for d in (8, 18, 20)]


def _users_any(ws: Workspace) -> dict[str, str]:
    rows = ws.sql("select person_id, identifier from identities where id_type = 'user_id'")
    return {r["person_id"]: r["identifier"] for r in rows.to_pylist()}


def test_summary_errors_are_one_line(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "e.duckdb")
    ws.ingest([cdnow_orders(tmp_path / "c.parquet")])
    with pytest.raises(NotFoundError, match="event: 'Purchase' not found"):
        rfm_summary(ws, "Purchase")
    with pytest.raises(InvalidOptionError, match="time_unit: 'month'"):
        rfm_summary(ws, time_unit="month")
    with pytest.raises(InvalidOptionError, match=r"calibration_end: '1997-13-01'.*YYYY-MM-DD"):
        rfm_summary(ws, calibration_end="1997-13-01")
    with pytest.raises(InvalidOptionError, match="holdout"):
        rfm_summary(ws, holdout="39 weeks")
    with pytest.raises(InvalidOptionError, match="by: 'colour'"):
        rfm_summary(ws, by="colour")
    early = rfm_summary(ws, calibration_end="1996-01-01")
    assert early.customers == 0
    assert np.asarray(early.weights).size == 0
