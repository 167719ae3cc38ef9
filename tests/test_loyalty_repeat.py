"""Repeat purchase (kundresa.loyalty.repeat_purchase): a hand-computed vector on tie-heavy
data on both engines (DuckDB == Spark), an independent pure-Python reference under
hypothesis (derandomised), the real CDNOW log against the published CDNOW summary, and the
one-line errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundresa import InvalidOptionError, NotFoundError, Workspace
from kundresa.loyalty import RepeatPurchaseResult, repeat_purchase
from kundresa.maps import JourneyMap

DATA = Path(__file__).parent / "data" / "loyalty"
T0 = dt.datetime(2026, 1, 5)  # a Monday
DAY = dt.timedelta(days=1)
Row = tuple[str, dt.datetime, float | None, str]

# (user, time, revenue, channel): ties on purpose (same day, same second)
VECTOR: list[Row] = [
    ("a", T0 + dt.timedelta(hours=9), 10.0, "web"),
    ("a", T0 + dt.timedelta(hours=9), 5.0, "web"),  # same second as the first
    ("a", T0 + 10 * DAY, 20.0, "app"),
    ("a", T0 + 40 * DAY, None, "app"),  # no revenue: counts 0
    ("b", T0 + 2 * DAY, 8.0, "store"),
    ("c", T0 + 3 * DAY, 4.0, "web"),
    ("c", T0 + 3 * DAY + dt.timedelta(hours=5), 6.0, "web"),  # same day
    ("c", T0 + 100 * DAY, 30.0, "web"),
    ("d", T0 + 35 * DAY, 12.0, "store"),
]


def write(rows: Sequence[Row], folder: Path, extra: Sequence[dict[str, Any]] = ()) -> Path:
    path = folder / "orders.parquet"
    out = [
        {
            "event_id": f"e{i:04d}",
            "user_id": u,
            "ts": ts,
            "type": "track",
            "event": "Order Completed",
            "revenue": rev,
            "channel": ch,
            "properties": f'{{"tier": "{"gold" if u in "ac" else "basic"}"}}',
        }
        for i, (u, ts, rev, ch) in enumerate(rows)
    ]
    for j, r in enumerate(extra):
        out.append({"event_id": f"x{j:04d}", "type": "track", "revenue": None, **r})
    pq.write_table(pa.Table.from_pylist(out), path)
    return path


@pytest.fixture
def vector_ws(make_workspace: Callable[..., Workspace], tmp_path: Path) -> Workspace:
    ws = make_workspace("repeat")
    ws.ingest([write(VECTOR, tmp_path)])
    return ws


def test_hand_computed_vector(vector_ws: Workspace) -> None:
    """Distinct days: a has days 0, 10, 40 (revenues 15, 20, 0), b day 2, c days 3, 100
    (10, 30), d day 35. Buyers 4, repeat a and c; orders 3 + 1 + 2 + 1 = 7; gaps 10, 30
    (a), 97 (c): median 30, quartiles 20 and 63.5 (linear), mean 137/3."""
    r = repeat_purchase(vector_ws, max_orders=3)
    assert (r.buyers, r.repeat_buyers, r.orders, r.repeat_rate) == (4, 2, 7, 0.5)
    assert [(o["orders"], o["customers"]) for o in r.orders_per_customer] == [
        ("1", 2),
        ("2", 1),
        ("3+", 1),
    ]
    g = r.gaps
    days = {k: g[f"{k}_seconds"] / 86400 for k in ("q1", "median", "q3", "mean")}
    assert (g["count"], days["q1"], days["median"], days["q3"]) == (3, 20.0, 30.0, 63.5)
    assert days["mean"] == pytest.approx(137 / 3)
    hist = {h["bin"]: h["gaps"] for h in g["histogram"]}
    assert (hist["7-14 d"], hist["30-60 d"], hist["90-180 d"], sum(hist.values())) == (1, 1, 1, 3)
    # revenue: a 35, b 8, c 40, d 12 -> total 95, median (12 + 35) / 2; first orders 15+8+10+12
    rv = r.revenue
    assert (rv["total"], rv["mean"], rv["median"], rv["first"], rv["repeat"]) == (
        95.0,
        23.75,
        23.5,
        45.0,
        50.0,
    )
    # cohorts (month of the first purchase): 2026-01 = a, b, c; 2026-02 = d (day 35)
    # second order within 30 d: a (10 d); within 60 d: a; within 90 d: a; c at 97 d: never
    jan, feb = r.cohorts
    assert (jan["cohort"], jan["buyers"], feb["cohort"], feb["buyers"]) == (
        "2026-01",
        3,
        "2026-02",
        1,
    )
    assert [c["second"] for c in jan["cells"]] == [1, 1, 1]
    # the data end on day 100: Jan's last first purchase (day 3) + 90 d < day 101 -> complete;
    # Feb's (day 35) + 90 d = day 125 -> incomplete; + 60 d = day 95 -> complete
    assert [c["complete"] for c in jan["cells"]] == [True, True, True]
    assert [c["complete"] for c in feb["cells"]] == [True, True, False]
    # within 20 days of the first purchase: only a
    assert repeat_purchase(vector_ws, within="20d").repeat_buyers == 1
    # every event counts: a 4 orders (gap 0 between the tied ones), c 3
    every = repeat_purchase(vector_ws, distinct_days=False)
    assert (every.orders, every.repeat_buyers, every.gaps["count"]) == (9, 2, 5)
    # gaps 0, 5 h, 9 d 15 h, 30 d, 97 d - 5 h
    assert every.gaps["q1_seconds"] == 5 * 3600
    # until: only purchases up to day 35 (inclusive) -> c's second on day 100 drops
    ended = repeat_purchase(vector_ws, until=(T0 + 35 * DAY).date())
    assert (ended.buyers, ended.repeat_buyers, ended.orders) == (4, 1, 5)
    # breakdown by the first purchase's channel / property
    by = {g["group"]: g for g in repeat_purchase(vector_ws, by="channel").groups}
    assert {k: (v["buyers"], v["repeat_buyers"]) for k, v in by.items()} == {
        "store": (2, 0),
        "web": (2, 2),
    }
    assert by["web"]["revenue_median"] == 37.5
    assert by["web"]["median_gap_seconds"] == 30 * 86400
    tier = {
        g["group"]: g["buyers"] for g in repeat_purchase(vector_ws, by="properties.tier").groups
    }
    assert tier == {"basic": 2, "gold": 2}
    weekly = repeat_purchase(vector_ws, period="week", windows=("7d",))
    assert [c["cohort"] for c in weekly.cohorts] == ["2026-W02", "2026-W07"]
    assert [c["cells"][0]["window"] for c in weekly.cohorts] == ["7d", "7d"]


def test_personas_of_a_map(vector_ws: Workspace) -> None:
    """Personas by the map's rule (first match in map order): gold = a, c; the rest
    unassigned."""
    jm = JourneyMap.from_dict(
        {"kundresa_map": 2, "title": "T", "goal": "G", "type": "current", "owner": "",
         "language": "en",
         "personas": [{"id": "gold", "name": "Gold", "select": {"where": {"tier": "gold"}}}],
         "stages": [{"id": "buy", "name": "Buy", "match": {"events": ["Order Completed"]}}]}
    )  # fmt: skip
    r = repeat_purchase(vector_ws, journey_map=jm)
    rows = {p["group"]: (p["buyers"], p["repeat_buyers"], p["revenue_total"]) for p in r.personas}
    assert rows == {"gold": (2, 2, 75.0), "(unassigned)": (2, 0, 20.0)}


# -- an independent reference ----------------------------------------------------------------


def reference(
    rows: Sequence[Row], *, distinct_days: bool, within_days: float | None = None
) -> dict[str, Any]:
    """Pure Python: per person the purchase list (merged per day with ``distinct_days``)."""
    by: dict[str, list[tuple[dt.datetime, int, float]]] = {}
    for i, (u, ts, rev, _) in enumerate(rows):
        by.setdefault(u, []).append((ts, i, rev or 0.0))
    buys: dict[str, list[tuple[dt.datetime, float]]] = {}
    for u, evs in by.items():
        evs.sort()
        if distinct_days:
            days: dict[dt.date, float] = {}
            for ts, _, rev in evs:
                days[ts.date()] = days.get(ts.date(), 0.0) + rev
            buys[u] = [(dt.datetime.combine(d, dt.time()), v) for d, v in sorted(days.items())]
        else:
            buys[u] = [(ts, rev) for ts, _, rev in evs]
    gaps = [
        (b[k][0] - b[k - 1][0]).total_seconds() / 86400
        for b in buys.values()
        for k in range(1, len(b))
    ]
    repeat = 0
    for b in buys.values():
        if len(b) >= 2 and (
            within_days is None or (b[1][0] - b[0][0]).total_seconds() <= within_days * 86400
        ):
            repeat += 1
    totals = [sum(v for _, v in b) for b in buys.values()]
    firsts = [b[0][1] for b in buys.values()]
    return {
        "buyers": len(buys),
        "repeat": repeat,
        "orders": sum(len(b) for b in buys.values()),
        "counts": sorted(len(b) for b in buys.values()),
        "gaps": gaps,
        "total": sum(totals),
        "first": sum(firsts),
        "median_revenue": float(np.median(totals)) if totals else None,
    }


def check_against_reference(r: RepeatPurchaseResult, ref: dict[str, Any]) -> None:
    assert (r.buyers, r.repeat_buyers, r.orders) == (ref["buyers"], ref["repeat"], ref["orders"])
    want = [sum(1 for c in ref["counts"] if c == k) for k in range(1, 5)]
    want.append(sum(1 for c in ref["counts"] if c >= 5))
    assert [o["customers"] for o in r.orders_per_customer] == want
    g = r.gaps
    assert g["count"] == len(ref["gaps"])
    if ref["gaps"]:
        q1, med, q3 = np.percentile(ref["gaps"], [25, 50, 75])
        got = (g["q1_seconds"], g["median_seconds"], g["q3_seconds"])
        assert got == pytest.approx((86400 * q1, 86400 * med, 86400 * q3), abs=1e-3)
        assert g["mean_seconds"] == pytest.approx(86400 * float(np.mean(ref["gaps"])), abs=1e-3)
        assert sum(h["gaps"] for h in g["histogram"]) == len(ref["gaps"])
    if ref["buyers"]:
        assert r.revenue["total"] == pytest.approx(ref["total"], abs=1e-6)
        assert r.revenue["first"] == pytest.approx(ref["first"], abs=1e-6)
        assert r.revenue["median"] == pytest.approx(ref["median_revenue"], abs=1e-6)


_ROW = st.tuples(
    st.sampled_from("pqrstu"),
    st.integers(0, 60 * 24).map(lambda m: T0 + dt.timedelta(minutes=m * 30)),  # ties likely
    st.one_of(st.none(), st.integers(0, 500).map(float)),
    st.just("web"),
)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(_ROW, min_size=1, max_size=25),
    distinct_days=st.booleans(),
    within=st.one_of(st.none(), st.integers(1, 20)),
)
def test_matches_reference(
    rows: list[Row], distinct_days: bool, within: int | None, tmp_path_factory: Any
) -> None:
    """Any purchase log (tie-heavy: half-hour grid, few persons): the engine equals the
    pure-Python reference (DuckDB; both engines are compared on the vector above)."""
    folder = tmp_path_factory.mktemp("hyp")
    ws = Workspace.open(folder / "h.duckdb")
    try:
        ws.ingest([write(rows, folder)])
        r = repeat_purchase(
            ws, distinct_days=distinct_days, within=None if within is None else f"{within}d",
            max_orders=5,
        )  # fmt: skip
        check_against_reference(r, reference(rows, distinct_days=distinct_days, within_days=within))
    finally:
        ws.close()


def test_engines_identical(make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    """The same log on DuckDB and Spark: identical results (run metadata aside)."""
    rng = np.random.default_rng(3)
    rows: list[Row] = [
        (f"u{rng.integers(0, 15)}", T0 + dt.timedelta(hours=int(rng.integers(0, 24 * 120))),
         float(rng.integers(1, 90)), str(rng.choice(["web", "app"])))
        for _ in range(80)
    ]  # fmt: skip
    here = make_workspace("eng")
    here.ingest([write(rows, tmp_path)])
    got = repeat_purchase(here, by="channel", windows=("14d", "30d")).to_dict()
    check_against_reference(
        repeat_purchase(here, max_orders=5), reference(rows, distinct_days=True)
    )
    other_dir = tmp_path / "duck"
    other_dir.mkdir()
    duck = Workspace.open(other_dir / "d.duckdb")
    duck.ingest([write(rows, other_dir)])
    want = repeat_purchase(duck, by="channel", windows=("14d", "30d")).to_dict()
    duck.close()
    for key in ("seconds", "engine"):
        got.pop(key)
        want.pop(key)
    assert got == want


# -- CDNOW -----------------------------------------------------------------------------------


def cdnow_orders(folder: Path) -> Path:
    """CDNOW_sample.txt as ``Order Completed`` events (revenue = dollars), one per line."""
    rows = []
    for i, line in enumerate((DATA / "CDNOW_sample.txt").read_text().splitlines()):
        cid, _, day, _, dollars = line.split()
        rows.append(
            {
                "event_id": f"o{i:05d}",
                "user_id": f"c{int(cid):05d}",
                "ts": dt.datetime.strptime(day, "%Y%m%d"),
                "type": "track",
                "event": "Order Completed",
                "revenue": float(dollars),
            }
        )
    path = folder / "cdnow.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("cdnow")
    ws = Workspace.open(folder / "cdnow.duckdb")
    ws.ingest([cdnow_orders(folder)])
    yield ws
    ws.close()


def _summary() -> list[dict[str, float]]:
    lines = (DATA / "cdnow_customers_summary_with_transactions.csv").read_text().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, map(float, ln.split(",")), strict=True)) for ln in lines[1:]]


def test_cdnow_calibration_matches_the_published_summary(cdnow: Workspace) -> None:
    """The 39-week calibration of Fader, Hardie & Lee (2005) ends 1997-09-30 (lifetimes'
    ``calibration_period_end``; T = 38.86 weeks for a first purchase on 1997-01-01), counting
    purchases on distinct days. Its summary (tests/data/loyalty/cdnow_customers_summary_
    with_transactions.csv): 2357 customers, 946 with x > 0 repeat purchases, sum(x) repeat
    purchases = the gaps between orders, the distribution of x + 1 orders, and the repeat
    revenue sum(x * zbar) (zbar rounded to cents, so within half a cent per customer)."""
    s = _summary()
    r = repeat_purchase(cdnow, until="1997-09-30", max_orders=10)
    assert (r.buyers, r.repeat_buyers) == (2357, 946) == (len(s), sum(c["x"] > 0 for c in s))
    assert r.gaps["count"] == sum(int(c["x"]) for c in s)
    assert r.orders == len(s) + sum(int(c["x"]) for c in s)
    want = [sum(1 for c in s if int(c["x"]) + 1 == k) for k in range(1, 10)]
    want.append(sum(1 for c in s if int(c["x"]) + 1 >= 10))
    assert [o["customers"] for o in r.orders_per_customer] == want
    repeat_revenue = sum(c["x"] * c["zbar"] for c in s)
    assert r.revenue["repeat"] == pytest.approx(repeat_revenue, abs=0.005 * sum(c["x"] for c in s))
    # the cohort is the customers' first purchase in the first quarter of 1997
    assert [c["cohort"] for c in r.cohorts] == ["1997-01", "1997-02", "1997-03"]
    assert sum(c["buyers"] for c in r.cohorts) == 2357


def test_cdnow_whole_log_matches_an_independent_count(cdnow: Workspace) -> None:
    """The whole log (to 1998-06-30) against a count straight from the text file."""
    rows: list[Row] = []
    for line in (DATA / "CDNOW_sample.txt").read_text().splitlines():
        cid, _, day, _, dollars = line.split()
        rows.append((cid, dt.datetime.strptime(day, "%Y%m%d"), float(dollars), "web"))
    r = repeat_purchase(cdnow, max_orders=5)
    check_against_reference(r, reference(rows, distinct_days=True))
    assert r.buyers == 2357
    # second order within 90 days of the first, per month cohort, by hand from the file
    firsts: dict[str, list[dt.date]] = {}
    for cid, ts, _, _ in rows:
        firsts.setdefault(cid, []).append(ts.date())
    per_cohort: dict[str, list[int]] = {}
    for days in firsts.values():
        d = sorted(set(days))
        hit = int(len(d) > 1 and (d[1] - d[0]).days <= 90)
        per_cohort.setdefault(d[0].strftime("%Y-%m"), []).append(hit)
    got = {c["cohort"]: c["cells"][2]["second"] for c in r.cohorts}
    assert got == {k: sum(v) for k, v in per_cohort.items()}
    assert all(cell["complete"] for c in r.cohorts for cell in c["cells"])


# -- errors ----------------------------------------------------------------------------------


def test_errors_are_one_line(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "e.duckdb")
    ws.ingest([write(VECTOR, tmp_path)])
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"purchase_event": "Purchase"}, NotFoundError, "event"),
        ({"by": "colour"}, InvalidOptionError, "by"),
        ({"until": "30/9"}, InvalidOptionError, "until"),
        ({"period": "year"}, InvalidOptionError, "period"),
        ({"within": "soon"}, InvalidOptionError, "within"),
        ({"windows": ()}, InvalidOptionError, "windows"),
        ({"max_orders": 1}, InvalidOptionError, "max_orders"),
    ]
    for kwargs, exc, field in cases:
        with pytest.raises(exc) as info:
            repeat_purchase(ws, **kwargs)
        message = str(info.value)
        assert "\n" not in message, message
        assert message.startswith(field), message
    ws.close()
