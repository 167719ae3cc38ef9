"""Repeat purchase, computed in the engine (DuckDB or Spark through Ibis).

A *purchase* is an event named ``purchase_event`` of a stitched person; with
``distinct_days`` (the default, CDNOW's convention) a person's purchases on one calendar day
(UTC) count once, with their revenue summed. Everything below is aggregated in the engine
and only aggregates are fetched: per-person order counts, first and second purchase times
and revenues are grouped there; quantiles are exact, taken by rank in the engine
(:mod:`kundresa.loyalty._repeat_engine`), so DuckDB and Spark give identical numbers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa._util import parse_duration
from kundresa.loyalty._repeat_engine import (
    UNASSIGNED,
    group_labels,
    load_map,
    money,
    naive,
    parse_end,
    persona_labels,
    purchases,
    ranked_quantiles,
    share,
)
from kundresa.loyalty._repeat_result import RepeatPurchaseResult

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["GAP_BINS", "repeat_purchase"]

_US_DAY = 86_400_000_000
#: the time-between-orders histogram: bin edges in days (the last bin is open)
GAP_BINS = (0, 7, 14, 30, 60, 90, 180, 365)
_PERIODS = ("week", "month")


def _bin_label(i: int) -> str:
    lo = GAP_BINS[i]
    return f"{lo}+ d" if i == len(GAP_BINS) - 1 else f"{lo}-{GAP_BINS[i + 1]} d"


def _per_person(p: Any) -> Any:
    """One row per buyer: orders, first/second purchase time, revenue (all, first order)."""
    return p.group_by("person_id").aggregate(
        n=p.count(),
        first_ts=p.ts.min(),
        second_ts=p.ts.min(where=p.k == 1),
        rev=p.revenue.sum(),
        first_rev=p.revenue.sum(where=p.k == 0),
    )


def _repeat_flag(per: Any, within_us: int | None) -> Any:
    if within_us is None:
        return (per.n >= 2).cast("int64")
    gap = per.second_ts.delta(per.first_ts, unit="microsecond")
    return (per.second_ts.notnull() & (gap <= within_us)).cast("int64")


def _group_rows(
    fetch: Any, p: Any, per: Any, labels: Any, within_us: int | None, order: Sequence[str]
) -> list[dict[str, Any]]:
    """The summary row of every group of ``labels`` (``person_id, grp``)."""
    pg = per.join(labels, "person_id").select(*per.columns, "grp")
    pg = pg.mutate(rep=_repeat_flag(pg, within_us))
    agg = pg.group_by("grp").aggregate(
        buyers=pg.count(),
        repeat=pg.rep.sum(),
        orders=pg.n.sum(),
        rev=pg.rev.sum(),
        first_rev=pg.first_rev.sum(),
    )
    got = {r["grp"]: r for r in fetch(agg).to_pylist()}
    med_rev = ranked_quantiles(fetch, pg, "rev", "grp", (0.5,))
    gp = p.filter(p.k >= 1).join(labels, "person_id")
    gp = gp.select("grp", secs=gp.gap_us / 1_000_000)
    med_gap = ranked_quantiles(fetch, gp, "secs", "grp", (0.5,))
    names = [g for g in order if g in got] + sorted(g for g in got if g not in order)
    rows = []
    for g in names:
        r = got[g]
        buyers, total = int(r["buyers"]), money(r["rev"])
        gap = med_gap.get(g, {}).get(0.5)
        rows.append(
            {
                "group": g,
                "buyers": buyers,
                "repeat_buyers": int(r["repeat"]),
                "repeat_rate": share(int(r["repeat"]), buyers),
                "orders_mean": share(int(r["orders"]), buyers),
                "revenue_total": total,
                "revenue_mean": share(total, buyers),
                "revenue_median": med_rev.get(g, {}).get(0.5),
                "first_revenue": money(r["first_rev"]),
                "repeat_revenue": money(total - money(r["first_rev"])),
                "median_gap_seconds": None if gap is None else round(gap, 3),
            }
        )
    return rows


def _gaps(fetch: Any, p: Any) -> dict[str, Any]:
    import ibis

    g = p.filter(p.k >= 1).mutate(one=ibis.literal("*"))
    g = g.mutate(secs=g.gap_us / 1_000_000)
    b = ibis.literal(0)
    for edge in GAP_BINS[1:]:
        b = b + (g.gap_us >= edge * _US_DAY).cast("int64")
    gb = g.mutate(b=b)
    counts = {
        int(r["b"]): int(r["n"])
        for r in fetch(gb.group_by("b").aggregate(n=gb.count())).to_pylist()
    }
    stats = fetch(g.aggregate(n=g.count(), total=g.secs.sum())).to_pylist()[0]
    n = int(stats["n"] or 0)
    q = ranked_quantiles(fetch, g, "secs", "one", (0.25, 0.5, 0.75)).get("*", {})
    hist = [
        {
            "bin": _bin_label(i),
            "low_seconds": lo * 86400,
            "high_seconds": GAP_BINS[i + 1] * 86400 if i + 1 < len(GAP_BINS) else None,
            "gaps": counts.get(i, 0),
            "share": share(counts.get(i, 0), n),
        }
        for i, lo in enumerate(GAP_BINS)
    ]

    def rnd(x: float | None) -> float | None:
        return None if x is None else round(x, 3)

    return {
        "count": n,
        "mean_seconds": rnd(float(stats["total"]) / n) if n else None,
        "q1_seconds": rnd(q.get(0.25)),
        "median_seconds": rnd(q.get(0.5)),
        "q3_seconds": rnd(q.get(0.75)),
        "histogram": hist,
    }


def _cohorts(
    fetch: Any,
    per: Any,
    period: str,
    windows: Sequence[tuple[str, dt.timedelta]],
    obs_end: dt.datetime | None,
) -> list[dict[str, Any]]:
    c = per.mutate(cohort=per.first_ts.truncate("W" if period == "week" else "M"))
    gap = c.second_ts.delta(c.first_ts, unit="microsecond")
    aggs = {
        f"w{i}": (c.second_ts.notnull() & (gap <= int(w.total_seconds() * 1e6))).cast("int64").sum()
        for i, (_, w) in enumerate(windows)
    }
    agg = c.group_by("cohort").aggregate(buyers=c.count(), last_first=c.first_ts.max(), **aggs)
    rows = sorted(fetch(agg).to_pylist(), key=lambda r: naive(r["cohort"]))
    out = []
    for r in rows:
        start, last = naive(r["cohort"]), naive(r["last_first"])
        name = start.strftime("%G-W%V" if period == "week" else "%Y-%m")
        cells = [
            {
                "window": label,
                "window_seconds": w.total_seconds(),
                "second": int(r[f"w{i}"]),
                "share": share(int(r[f"w{i}"]), int(r["buyers"])),
                "complete": obs_end is not None and last + w < obs_end,
            }
            for i, (label, w) in enumerate(windows)
        ]
        out.append({"cohort": name, "start": start.date(), "buyers": int(r["buyers"]),
                    "cells": cells})  # fmt: skip
    return out


def repeat_purchase(
    ws: Workspace,
    purchase_event: str = "Order Completed",
    *,
    distinct_days: bool = True,
    within: str | dt.timedelta | None = None,
    period: str = "month",
    windows: Sequence[str | dt.timedelta] = ("30d", "60d", "90d"),
    max_orders: int = 10,
    until: str | dt.date | None = None,
    by: str | None = None,
    journey_map: Any = None,
) -> RepeatPurchaseResult:
    """Repeat purchase of ``purchase_event`` (see :class:`RepeatPurchaseResult`).

    - ``distinct_days``: purchases of a person on the same day (UTC) count once (CDNOW's
      convention, the default); False counts every event.
    - ``within``: a repeat buyer's second purchase must come within this duration of the
      first (e.g. ``"90d"``); default: any time.
    - ``period``: cohorts by ``month`` or ``week`` (ISO, Monday) of the first purchase;
      ``windows``: the second-order windows of the cohort table.
    - ``max_orders``: the orders-per-customer distribution stops at ``max_orders+``.
    - ``until``: count only purchases up to this date (inclusive); it is also the end of the
      data for incomplete cohorts (default: the latest event of the workspace).
    - ``by``: a breakdown by a column (``channel``, ``campaign``, ...) or ``properties.KEY``,
      its value on the person's first purchase; ``journey_map``: a breakdown by the map's
      personas (assigned as :func:`~kundresa.maps.measure_map` does).

    >>> import datetime as dt, tempfile, pathlib
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> day = lambda d: dt.datetime(2026, 1, d, 12)
    >>> rows = [("a", 1, 10.0), ("a", 1, 5.0), ("a", 11, 20.0), ("b", 3, 8.0)]
    >>> pq.write_table(pa.Table.from_pylist([{"event_id": f"e{i}", "user_id": u, "ts": day(d),
    ...     "type": "track", "event": "Order Completed", "revenue": r}
    ...     for i, (u, d, r) in enumerate(rows)]), folder / "orders.parquet")
    >>> ws = Workspace.open(folder / "shop.duckdb")
    >>> _ = ws.ingest([folder / "orders.parquet"])
    >>> r = repeat_purchase(ws)
    >>> r.buyers, r.repeat_buyers, r.gaps["median_seconds"] / 86400, r.revenue["repeat"]
    (2, 1, 10.0, 20.0)
    >>> [(r["orders"], r["customers"]) for r in repeat_purchase(ws, distinct_days=False,
    ...     max_orders=3).orders_per_customer]
    [('1', 1), ('2', 0), ('3+', 1)]
    """
    started = time.perf_counter()
    if period not in _PERIODS:
        raise InvalidOptionError("period", period, allowed=_PERIODS)
    if (
        isinstance(max_orders, bool)
        or not isinstance(max_orders, int)
        or not 2 <= max_orders <= 100
    ):
        raise InvalidOptionError("max_orders", max_orders, fix="give a whole number from 2 to 100")
    within_us = None
    if within is not None:
        within_us = int(parse_duration(within, "within").total_seconds() * 1e6)
    if isinstance(windows, str | dt.timedelta):
        windows = (windows,)
    if not windows:
        raise InvalidOptionError("windows", windows, fix="give at least one window, e.g. 30d")
    wins = [
        (w if isinstance(w, str) else f"{w.total_seconds() / 86400:g}d",
         parse_duration(w, "windows"))
        for w in windows
    ]  # fmt: skip
    end_at = parse_end(until)
    jm = load_map(journey_map)
    ws.require_event(purchase_event)
    fetch = ws.store.fetch
    p = purchases(ws, purchase_event, distinct_days=distinct_days, end=end_at)
    per = _per_person(p)
    per = per.mutate(rep=_repeat_flag(per, within_us))
    tot = fetch(
        per.aggregate(
            buyers=per.count(),
            repeat=per.rep.sum(),
            orders=per.n.sum(),
            rev=per.rev.sum(),
            first_rev=per.first_rev.sum(),
        )
    ).to_pylist()[0]
    buyers = int(tot["buyers"] or 0)
    counted = fetch(per.group_by("n").aggregate(c=per.count())).to_pylist()
    dist = {int(r["n"]): int(r["c"]) for r in counted}
    opc = []
    for k in range(1, max_orders + 1):
        c = dist.get(k, 0) if k < max_orders else sum(v for n, v in dist.items() if n >= k)
        name = f"{k}+" if k == max_orders else str(k)
        opc.append({"orders": name, "customers": c, "share": share(c, buyers)})
    if end_at is not None:
        obs_end: dt.datetime | None = end_at
    else:
        ev = ws.events()
        last = naive(fetch(ev.aggregate(m=ev.ts.max())).to_pylist()[0]["m"])
        obs_end = None if last is None else last + dt.timedelta(microseconds=1)
        if obs_end is not None and distinct_days:
            obs_end = dt.datetime.combine(last.date(), dt.time()) + dt.timedelta(days=1)
    total, first = money(tot["rev"]), money(tot["first_rev"])
    med = ranked_quantiles(fetch, per.mutate(one=per.n * 0), "rev", "one", (0.5,))
    revenue = {
        "total": total,
        "mean": share(total, buyers),
        "median": med.get(0, {}).get(0.5),
        "first": first,
        "repeat": money(total - first),
        "repeat_share": share(money(total - first), total),
    }
    groups: list[dict[str, Any]] = []
    if by is not None:
        groups = _group_rows(fetch, p, per, group_labels(ws, by, purchase_event), within_us, ())
    personas: list[dict[str, Any]] = []
    if jm is not None:
        labels, ids = persona_labels(ws, jm)
        if labels is not None:
            everyone = per.select("person_id").left_join(labels, "person_id")
            everyone = everyone.select("person_id", grp=everyone.grp.fill_null(UNASSIGNED))
            personas = _group_rows(fetch, p, per, everyone, within_us, (*ids, UNASSIGNED))
    return RepeatPurchaseResult(
        purchase_event=purchase_event,
        distinct_days=distinct_days,
        buyers=buyers,
        repeat_buyers=int(tot["repeat"] or 0),
        orders=int(tot["orders"] or 0),
        within_seconds=None if within_us is None else within_us / 1e6,
        orders_per_customer=tuple(opc),
        gaps=_gaps(fetch, p),
        cohorts=tuple(_cohorts(fetch, per, period, wins, obs_end)),
        revenue=revenue if buyers else {},
        by=by,
        groups=tuple(groups),
        personas=tuple(personas),
        settings={
            "period": period,
            "windows": [w for w, _ in wins],
            "max_orders": max_orders,
            "until": None if end_at is None else (end_at - dt.timedelta(days=1)).date(),
            "observed_before": obs_end,
            "map": None if jm is None else jm.title,
        },
        seconds=round(time.perf_counter() - started, 3),
        engine=ws.engine,
    )


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
