"""RFM scores (1-5) and segments of a workspace's customers, computed in the engine.

Per customer (the RFM summary of :func:`~kundresa.loyalty.rfm_summary`, to
``calibration_end``): **recency** is the days from the last purchase to the end of the
period, **frequency** the purchases (distinct days by default), **monetary** their total
value. Each becomes a score 1-5 (5 best: most recent, most frequent, highest value):

- ``method="quantile"``: quintiles of the customers, by rank in SQL (a window over all
  customers): score ``1 + floor(5 * rank / n)`` with ``rank`` the number of customers with a
  worse value, so equal values share a score (``NTILE`` would split a tie, e.g. the many
  one-time buyers, across scores by an arbitrary order);
- ``method="fixed"``: thresholds, four ascending numbers per measure. Recency
  ``recency_thresholds`` (default 30, 90, 180, 365: within 30 days scores 5, over 365 days 1),
  frequency ``frequency_thresholds`` (default 2, 3, 5, 10 purchases: 1 purchase scores 1,
  10 or more 5), monetary ``monetary_thresholds`` (default 50, 100, 250, 500: below 50 scores 1,
  500 or more 5).

The segment comes from the recency score ``R`` and ``FM``, the mean of the frequency and
monetary scores rounded down; the first row that matches wins:

| segment | rule |
|---|---|
| champions | R >= 4 and FM >= 4 |
| loyal | R >= 3 and FM >= 3 |
| new | R = 5 and F = 1 |
| promising | R >= 4 |
| need_attention | R = 3 |
| cant_lose | R <= 2 and FM = 5 |
| at_risk | R <= 2 and FM >= 3 |
| hibernating | R = 2 |
| lost | R = 1 |
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa._results import Result, jsonable
from kundresa.loyalty._summary import summary_table

if TYPE_CHECKING:
    import ibis

    from kundresa._workspace import Workspace

__all__ = ["METHODS", "SEGMENTS", "RfmResult", "rfm"]

#: how scores are made
METHODS = ("quantile", "fixed")
#: the segments, best first (the table of the module notes)
SEGMENTS = (
    "champions",
    "loyal",
    "new",
    "promising",
    "need_attention",
    "cant_lose",
    "at_risk",
    "hibernating",
    "lost",
)
#: the English names of the segments (the web page translates them)
SEGMENT_NAMES = {
    "champions": "Champions",
    "loyal": "Loyal",
    "new": "New customers",
    "promising": "Promising",
    "need_attention": "Need attention",
    "cant_lose": "Can't lose them",
    "at_risk": "At risk",
    "hibernating": "Hibernating",
    "lost": "Lost",
}
DEFAULT_RECENCY = (30.0, 90.0, 180.0, 365.0)
DEFAULT_FREQUENCY = (2.0, 3.0, 5.0, 10.0)
DEFAULT_MONETARY = (50.0, 100.0, 250.0, 500.0)


@dataclass(frozen=True)
class RfmResult(Result):
    """Customers and revenue per RFM segment (``segments``, best first), the R x F grid of
    customers (``grid``), per persona with a map (``by_group``), and per customer the
    scores (``to_frame()``: ``person_id, recency_days, frequency, monetary, r, f, m, rfm,
    segment``; what ``--out x.csv`` writes).

    >>> RfmResult("Order Completed", "quantile", None, 0, 0.0).to_frame().columns.tolist()[:3]
    ['person_id', 'recency_days', 'frequency']
    """

    purchase_event: str
    method: str
    calibration_end: dt.date | None
    customers: int
    revenue: float
    segments: tuple[Mapping[str, Any], ...] = ()
    grid: tuple[Mapping[str, Any], ...] = ()
    by_group: tuple[Mapping[str, Any], ...] = ()
    thresholds: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    table: Any = field(default=None, compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-customer rows (those are ``to_frame()``)."""
        import dataclasses

        fields = dataclasses.fields(self)
        return {f.name: jsonable(getattr(self, f.name)) for f in fields if f.name != "table"}

    def to_frame(self) -> Any:
        """One row per customer with the scores and the segment."""
        import pandas as pd

        if self.table is None:
            return pd.DataFrame(
                columns=[
                    "person_id",
                    "recency_days",
                    "frequency",
                    "monetary",
                    "r",
                    "f",
                    "m",
                    "rfm",
                    "segment",
                ]
            )
        return self.table.to_pandas()

    def plot(self) -> Any:
        """Bars of the share of customers and of revenue per segment (Plotly)."""
        return rfm_figure(self, lambda key: _ENGLISH.get(key, SEGMENT_NAMES.get(key, key)))

    def __str__(self) -> str:
        lines = [
            f"RFM of {self.purchase_event!r} ({self.method}): {self.customers:,} customers, "
            f"revenue {self.revenue:,.2f}, to {self.calibration_end}",
            f"{'segment':<16} {'customers':>9} {'share':>6} {'revenue':>12} {'rev %':>6}",
        ]
        for s in self.segments:
            lines.append(
                f"{s['segment']:<16} {s['customers']:>9,} {100 * s['share']:>5.1f}% "
                f"{s['revenue']:>12,.2f} {100 * s['revenue_share']:>5.1f}%"
            )
        return "\n".join(lines)


_ENGLISH = {"customers": "customers", "revenue": "revenue", "share": "share"}


def rfm_figure(result: RfmResult, text: Any) -> Any:
    """The figure of :meth:`RfmResult.plot`, ``text(key)`` naming segments and traces."""
    import plotly.graph_objects as go

    rows = result.segments
    names = [text(s["segment"]) for s in rows]
    fig = go.Figure()
    fig.add_bar(
        x=names, y=[s["share"] for s in rows], name=text("customers"), marker_color="#3b6ea5"
    )
    fig.add_bar(
        x=names, y=[s["revenue_share"] for s in rows], name=text("revenue"), marker_color="#e0a03a"
    )
    fig.update_layout(
        barmode="group",
        yaxis_tickformat=".0%",
        yaxis_title=text("share"),
        legend={"orientation": "h", "y": 1.1},
    )
    return fig


def _thresholds(name: str, values: Sequence[float] | None, default: tuple[float, ...]) -> Any:
    if values is None or len(values) == 0:
        return default
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise InvalidOptionError(name, values, fix="give four ascending numbers") from None
    if len(out) != 4 or any(b <= a for a, b in itertools.pairwise(out)):
        raise InvalidOptionError(
            name,
            ",".join(f"{v:g}" for v in out),
            fix="give four ascending numbers, e.g. 30,90,180,365",
        )
    return out


def _quantile(t: ibis.Table, column: str, better_high: bool) -> Any:
    """``1 + floor(5 * rank / n)``: ``rank`` counts the customers with a worse value."""
    import ibis

    key = t[column] if better_high else -t[column]
    rank = ibis.rank().over(ibis.window(order_by=key))
    n = t[column].count().over(ibis.window())
    return (1 + (5 * rank / n).floor()).cast("int64")


def _fixed(value: Any, cuts: tuple[float, ...], better_high: bool) -> Any:
    """Score 1..5: one plus the thresholds the value reaches (recency: stays within)."""
    import ibis

    score: Any = ibis.literal(1, "int64")
    for c in cuts:
        hit = value >= c if better_high else value <= c
        score = score + ibis.ifelse(hit, 1, 0)
    return score


def rfm(
    ws: Workspace,
    purchase_event: str = "Order Completed",
    *,
    method: str = "quantile",
    recency_thresholds: Sequence[float] = (),
    frequency_thresholds: Sequence[float] = (),
    monetary_thresholds: Sequence[float] = (),
    calibration_end: str | dt.date | None = None,
    distinct_days: bool = True,
    journey_map: Any = None,
) -> RfmResult:
    """RFM scores 1-5 and segments of the customers of ``purchase_event``, computed in the
    engine (the module notes give the scores, thresholds and segment rules).

    >>> import tempfile, pathlib, datetime as dt
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> t0 = dt.datetime(2026, 1, 1)
    >>> orders = [(u, d, 40.0 * (u % 4 + 1)) for u in range(20) for d in range(0, 300, 30 + 15 * u)]
    >>> pq.write_table(pa.Table.from_pylist([
    ...     {"event_id": f"e{u}-{d}", "ts": t0 + dt.timedelta(days=d + u), "type": "track",
    ...      "event": "Order Completed", "user_id": f"u{u}", "revenue": v}
    ...     for u, d, v in orders]), folder / "o.parquet")
    >>> ws = Workspace.open(folder / "w.duckdb")
    >>> _ = ws.ingest([folder / "o.parquet"])
    >>> r = rfm(ws, calibration_end="2026-12-31")
    >>> r.customers, sorted(r.to_frame().r.unique().tolist())
    (20, [1, 2, 3, 4, 5])
    >>> f = rfm(ws, method="fixed", calibration_end="2026-12-31",
    ...         recency_thresholds=[60, 90, 120, 180])
    >>> f.segments[0]["segment"], f.thresholds["recency_thresholds"]
    ('loyal', (60.0, 90.0, 120.0, 180.0))
    """
    import ibis

    started = time.perf_counter()
    if method not in METHODS:
        raise InvalidOptionError("method", method, allowed=METHODS)
    cuts = {
        "recency_thresholds": _thresholds(
            "recency_thresholds", recency_thresholds, DEFAULT_RECENCY
        ),
        "frequency_thresholds": _thresholds(
            "frequency_thresholds", frequency_thresholds, DEFAULT_FREQUENCY
        ),
        "monetary_thresholds": _thresholds(
            "monetary_thresholds", monetary_thresholds, DEFAULT_MONETARY
        ),
    }
    expr, cal_end, _ = summary_table(
        ws,
        purchase_event,
        calibration_end=calibration_end,
        time_unit="day",
        distinct_days=distinct_days,
        journey_map=journey_map,
    )
    base = {
        "person_id": expr.person_id,
        "recency_days": (expr["T"] - expr.t_x).cast("int64"),
        "frequency": expr.orders,
        "monetary": expr.revenue,
    }
    if "group" in expr.columns:
        base["group"] = expr.group
    t = expr.select(**base)
    if method == "quantile":
        scored = t.mutate(
            r=_quantile(t, "recency_days", better_high=False),
            f=_quantile(t, "frequency", better_high=True),
            m=_quantile(t, "monetary", better_high=True),
        )
    else:
        scored = t.mutate(
            r=_fixed(t.recency_days, cuts["recency_thresholds"], better_high=False),
            f=_fixed(t.frequency, cuts["frequency_thresholds"], better_high=True),
            m=_fixed(t.monetary, cuts["monetary_thresholds"], better_high=True),
        )
    fm = ((scored.f + scored.m) / 2).floor().cast("int64")
    r, f = scored.r, scored.f
    segment = ibis.cases(
        ((r >= 4) & (fm >= 4), "champions"),
        ((r >= 3) & (fm >= 3), "loyal"),
        ((r == 5) & (f == 1), "new"),
        (r >= 4, "promising"),
        (r == 3, "need_attention"),
        (fm == 5, "cant_lose"),
        (fm >= 3, "at_risk"),
        (r == 2, "hibernating"),
        else_="lost",
    )
    scored = scored.mutate(
        rfm=scored.r.cast("string").concat(scored.f.cast("string"), scored.m.cast("string")),
        segment=segment,
    )
    table = ws.store.fetch(scored.order_by("person_id"))
    seg = scored.group_by("segment").aggregate(
        customers=scored.count(),
        revenue=scored.monetary.sum(),
        recency=scored.recency_days.mean(),
        frequency=scored.frequency.mean(),
    )
    seg_rows = {row["segment"]: row for row in ws.store.fetch(seg).to_pylist()}
    grid_t = scored.group_by(["r", "f"]).aggregate(customers=scored.count()).order_by(["r", "f"])
    grid = tuple(ws.store.fetch(grid_t).to_pylist())
    customers = int(sum(row["customers"] for row in seg_rows.values()))
    if customers == 0:
        ws.require_event(purchase_event)  # the name's closest matches when it never occurs
    revenue = float(sum(row["revenue"] or 0.0 for row in seg_rows.values()))
    segments = []
    for name in SEGMENTS:
        row = seg_rows.get(name)
        if row is None:
            continue
        rev = float(row["revenue"] or 0.0)
        segments.append(
            {
                "segment": name,
                "customers": int(row["customers"]),
                "share": row["customers"] / customers,
                "revenue": rev,
                "revenue_share": rev / revenue if revenue else 0.0,
                "mean_recency_seconds": float(row["recency"]) * 86400.0,
                "mean_frequency": float(row["frequency"]),
            }
        )
    by_group: tuple[dict[str, Any], ...] = ()
    if "group" in scored.columns:
        bg = (
            scored.group_by(["group", "segment"])
            .aggregate(customers=scored.count(), revenue=scored.monetary.sum())
            .order_by(["group", "segment"])
        )
        by_group = tuple(ws.store.fetch(bg).to_pylist())
    return RfmResult(
        purchase_event=purchase_event,
        method=method,
        calibration_end=cal_end,
        customers=customers,
        revenue=revenue,
        segments=tuple(segments),
        grid=grid,
        by_group=by_group,
        thresholds=cuts if method == "fixed" else {},
        table=table,
        seconds=time.perf_counter() - started,
    )


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
