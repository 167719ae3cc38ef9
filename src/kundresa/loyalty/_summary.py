"""The recency-frequency-monetary summary of a workspace's purchases, computed in the engine.

One Ibis query (SQL on DuckDB and Spark) turns the purchase events into one row per customer
(or one row per distinct ``(x, t_x, T)`` with a count, which is all a fit needs), as the
customer-base models want it (Fader, Hardie & Lee 2005, "Counting your customers the easy
way", Marketing Science 24(2); the conventions of their CDNOW calibration):

- times are whole days: an order's UTC date (CDNOW's log has dates only);
- ``distinct_days=True``: orders on the same day count once (their values summed), as in
  CDNOW and lifetimes' ``summary_data_from_transaction_data``;
- ``x`` counts *repeat* purchases (the first purchase starts the clock), ``t_x`` is the time
  of the last one and ``T`` the time from the first purchase to the end of the calibration
  period (``calibration_end``, inclusive: the published ``T = 38.86`` weeks of a customer
  who first bought on 1997-01-01 is 272 days, to 1997-09-30), both from the first purchase,
  in ``time_unit`` (weeks = days / 7);
- ``monetary`` is the mean value of the repeat purchases (the Gamma-Gamma convention, Fader &
  Hardie 2013; 0 when ``x = 0``), ``mean_value`` the mean of all purchases;
- with ``holdout`` (a duration after ``calibration_end``) ``holdout_x`` counts the purchases
  in the holdout period (the "actual" of the calibration table) and ``holdout_revenue`` their
  value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError, NotFoundError
from kundresa._results import Result
from kundresa._util import parse_duration

if TYPE_CHECKING:
    import ibis
    import numpy as np

    from kundresa._workspace import Workspace

__all__ = ["UNITS", "RfmSummary", "rfm_summary", "summary_table"]

#: days per unit of ``t_x`` and ``T``
UNITS = {"day": 1.0, "week": 7.0}

_EPOCH = dt.datetime(1970, 1, 1)
_DAY_US = 86_400_000_000
#: group of a person with no value of ``by`` (or no persona of the map)
NO_GROUP = "(none)"


@dataclass(frozen=True)
class RfmSummary(Result):
    """Per customer: repeat purchases ``x``, recency ``t_x``, age ``T`` (in ``time_unit`` from the
    first purchase), ``monetary`` (mean value of the repeat purchases), ``mean_value`` (of all),
    ``revenue``, ``orders``, ``first_purchase`` and with a holdout ``holdout_x`` and
    ``holdout_revenue``; ``group`` with ``by`` or a map. ``table`` is the per-customer Arrow
    table (``to_frame()`` as pandas); with ``distinct=True`` it has one row per distinct
    ``(x, t_x, T)`` and a ``customers`` count instead (``weights``).

    >>> s = RfmSummary("Order Completed", "week", dt.date(2026, 1, 1), None, True, 0)
    >>> s.to_dict()["customers"], s.to_frame().empty
    (0, True)
    """

    purchase_event: str
    time_unit: str
    calibration_end: dt.date | None
    holdout_end: dt.date | None
    distinct_days: bool
    customers: int
    repeat_customers: int = 0
    purchases: int = 0
    revenue: float = 0.0
    distinct: bool = False
    by: str | None = None
    table: Any = field(default=None, compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The summary's settings and totals (the per-customer rows are in ``to_frame()``)."""
        from kundresa._results import jsonable

        keys = (
            "purchase_event",
            "time_unit",
            "calibration_end",
            "holdout_end",
            "distinct_days",
            "customers",
            "repeat_customers",
            "purchases",
            "revenue",
            "distinct",
            "by",
            "seconds",
        )
        out = jsonable({k: getattr(self, k) for k in keys})
        assert isinstance(out, dict)
        return out

    def to_frame(self) -> Any:
        """One row per customer (or per distinct ``(x, t_x, T)``)."""
        import pandas as pd

        if self.table is None:
            return pd.DataFrame(columns=["person_id", "x", "t_x", "T", "monetary"])
        return self.table.to_pandas()

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (``x``, ``t_x``, ``T``, ``monetary``, ...)."""
        import numpy as np

        if self.table is None:
            return np.zeros(0)
        if name not in self.table.column_names:
            raise InvalidOptionError("column", name, allowed=self.table.column_names)
        return np.asarray(self.table.column(name).to_numpy(zero_copy_only=False))

    @property
    def weights(self) -> np.ndarray:
        """Customers per row (ones per customer; the counts of distinct rows)."""
        import numpy as np

        if self.distinct:
            return self.column("customers").astype(np.float64)
        return np.ones(0 if self.table is None else self.table.num_rows)

    def __str__(self) -> str:
        end = f", holdout to {self.holdout_end}" if self.holdout_end else ""
        return (
            f"RFM summary of {self.purchase_event!r}: {self.customers:,} customers "
            f"({self.repeat_customers:,} repeat), {self.purchases:,} purchases, "
            f"revenue {self.revenue:,.2f}; calibration to {self.calibration_end}{end}; "
            f"t_x and T in {self.time_unit}s"
        )


def _date(value: str | dt.date | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidOptionError(name, value, fix="give a date YYYY-MM-DD") from None


def _day_number(d: dt.date) -> int:
    return (d - _EPOCH.date()).days


def _group_expr(ws: Workspace, orders: ibis.Table, by: str | None) -> Any:
    """The ``by`` value of each order (a column or ``properties.KEY``) as text."""
    import re

    if by is None:
        return None
    if by.startswith("properties."):
        key = by.removeprefix("properties.")
        if not key or not re.fullmatch(r"[A-Za-z0-9_$-]+", key):
            raise InvalidOptionError("by", by, fix="name a property key: letters, digits, _ -")
        pattern = '"' + key + r'"\s*:\s*"?([^",}]*)'
        return orders.properties.re_extract(pattern, 1).nullif("")
    if by not in orders.columns:
        raise InvalidOptionError("by", by, allowed=(*orders.columns, "properties.KEY"))
    return orders[by].cast("string")


def _argmin(ws: Workspace, value: Any, key: Any) -> Any:
    """``value`` at the smallest ``key`` (unique per group here). Ibis writes DuckDB's as
    ``FIRST(value ORDER BY key)``, a sort per group; DuckDB's own ``arg_min`` is a third
    faster on ten million orders (the store declares ``builtin_arg_min``)."""
    if not ws.store.supports("builtin_arg_min"):
        return value.argmin(key)
    import ibis

    if value.type().is_string():

        @ibis.udf.agg.builtin(name="arg_min")  # type: ignore[untyped-decorator]
        def arg_min_s(v: str, k: int) -> str: ...  # type: ignore[empty-body]

        return arg_min_s(value, key)

    @ibis.udf.agg.builtin(name="arg_min")  # type: ignore[untyped-decorator]
    def arg_min_f(v: float, k: int) -> float: ...  # type: ignore[empty-body]

    return arg_min_f(value, key)


def summary_table(
    ws: Workspace,
    purchase_event: str = "Order Completed",
    *,
    calibration_end: str | dt.date | None = None,
    holdout: str | dt.timedelta | None = None,
    time_unit: str = "week",
    distinct_days: bool = True,
    by: str | None = None,
    journey_map: Any = None,
) -> tuple[ibis.Table, dt.date, dt.date | None]:
    """The per-customer summary as an Ibis expression (not run), with the calibration end
    and the holdout end it used. :func:`rfm_summary` runs it; the loyalty analyses build on
    it (RFM scores, CLV) without fetching the orders."""
    import ibis

    if time_unit not in UNITS:
        raise InvalidOptionError("time_unit", time_unit, allowed=tuple(UNITS))
    if not isinstance(purchase_event, str) or not purchase_event.strip():
        raise InvalidOptionError("purchase_event", purchase_event, fix="name the purchase event")
    cal_end = _date(calibration_end, "calibration_end")
    hold_days: int | None = None
    if holdout is not None:
        hold = parse_duration(holdout, "holdout")
        hold_days = max(1, round(hold.total_seconds() / 86400))
    ev = ws.events()
    epoch = ibis.timestamp(_EPOCH)
    orders = ev.filter((ev.event == purchase_event) & ev.person_id.notnull())
    if cal_end is None:  # the last day observed (of any event), less the holdout
        last = ws.store.fetch(ev.aggregate(last=ev.ts.max())).column("last")[0].as_py()
        if last is None:
            raise NotFoundError("event", purchase_event)
        cal_end = last.date() - dt.timedelta(days=hold_days or 0)
    hold_end = cal_end + dt.timedelta(days=hold_days) if hold_days is not None else None
    c_day = _day_number(cal_end)
    h_day = _day_number(hold_end) if hold_end is not None else c_day
    g = _group_expr(ws, orders, by)
    cols: dict[str, Any] = {
        "person_id": orders.person_id,
        "d": (orders.ts.delta(epoch, unit="microsecond") // _DAY_US).cast("int64"),
        "rev": orders.revenue.fill_null(0.0).cast("float64"),
    }
    if g is not None:
        cols["g"] = g
    o = orders.select(**cols)
    o = o.filter(o.d <= h_day)
    if distinct_days:  # one row per person and day, the day's value summed
        aggs: dict[str, Any] = {"rev": o.rev.sum()}
        if g is not None:
            aggs["g"] = o.g.min()
        o = o.group_by(["person_id", "d"]).aggregate(**aggs)
        o = o.mutate(n=ibis.literal(1, "int64"))
    else:
        o = o.mutate(n=ibis.literal(1, "int64"))
    if not distinct_days:  # the first day's orders: their smallest value is the first's
        o = o.mutate(fd=o.d.min().over(ibis.window(group_by=o.person_id)))
    cal = o.d <= c_day
    hold_w = (o.d > c_day) & (o.d <= h_day)
    first = _argmin(ws, o.rev, o.d) if distinct_days else o.rev.min(where=o.d == o.fd)
    per_aggs: dict[str, Any] = {
        "first_d": o.d.min(),
        "last_d": o.d.max(where=cal),
        "orders": o.n.sum(where=cal),
        "revenue": o.rev.sum(where=cal),
        "first_rev": first,
    }
    if hold_end is not None:
        per_aggs["holdout_x"] = o.n.sum(where=hold_w)
        per_aggs["holdout_revenue"] = o.rev.sum(where=hold_w)
    if g is not None:
        per_aggs["g"] = _argmin(ws, o.g, o.d) if distinct_days else o.g.min(where=o.d == o.fd)
    p = o.group_by("person_id").aggregate(**per_aggs)
    p = p.filter(p.first_d <= c_day)
    days = UNITS[time_unit]
    x = (p.orders - 1).cast("int64")
    repeat_rev = p.revenue - p.first_rev
    out: dict[str, Any] = {
        "person_id": p.person_id,
        "x": x,
        "t_x": ((p.last_d - p.first_d).cast("float64") / days),
        "T": ((ibis.literal(c_day, "int64") - p.first_d).cast("float64") / days),
        "monetary": ibis.ifelse(x > 0, repeat_rev / x.cast("float64"), 0.0),
        "mean_value": p.revenue / p.orders.cast("float64"),
        "revenue": p.revenue,
        "orders": p.orders.cast("int64"),
        "first_purchase": (epoch + (p.first_d * 86400).as_interval("s")).date(),
    }
    if hold_end is not None:
        out["holdout_x"] = p.holdout_x.fill_null(0).cast("int64")
        out["holdout_revenue"] = p.holdout_revenue.fill_null(0.0)
    if g is not None:
        out["group"] = p.g.fill_null(NO_GROUP)
    expr = p.select(**out)
    if journey_map is not None:
        expr = _with_persona(ws, expr, journey_map)
    return expr, cal_end, hold_end


def rfm_summary(
    ws: Workspace,
    purchase_event: str = "Order Completed",
    *,
    calibration_end: str | dt.date | None = None,
    holdout: str | dt.timedelta | None = None,
    time_unit: str = "week",
    distinct_days: bool = True,
    by: str | None = None,
    journey_map: Any = None,
    distinct: bool = False,
) -> RfmSummary:
    """The recency-frequency-monetary summary of ``purchase_event``, one row per customer,
    computed in the engine (conventions in :mod:`kundresa.loyalty._summary`).

    ``calibration_end`` (a date, inclusive) ends the calibration period (default: the last
    day observed, less ``holdout``); ``holdout`` (a duration such as ``"39w"``) adds the
    purchases after it (``holdout_x``). ``by`` (a column or ``properties.KEY``: its value on
    the first purchase) or ``journey_map`` (a journey map: the person's persona) adds ``group``.
    ``distinct=True`` returns one row per distinct ``(x, t_x, T)`` with ``customers``: what
    a fit needs (pass ``weights``), so a million customers travel as their distinct rows.

    On the CDNOW log (2,357 customers, calibration 1997-01-01 .. 1997-09-30, 39 weeks) it is
    the summary Fader, Hardie & Lee (2005) fit (``tests/test_loyalty_summary.py``).

    >>> import tempfile, pathlib, datetime as dt
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> days = [(1, "a", 10.0), (1, "a", 5.0), (8, "a", 20.0), (22, "a", 30.0), (15, "b", 7.0)]
    >>> pq.write_table(pa.Table.from_pylist([
    ...     {"event_id": f"e{i}", "ts": dt.datetime(2026, 1, d, 12), "type": "track",
    ...      "event": "Order Completed", "user_id": u, "revenue": v}
    ...     for i, (d, u, v) in enumerate(days)]), folder / "orders.parquet")
    >>> ws = Workspace.open(folder / "w.duckdb")
    >>> _ = ws.ingest([folder / "orders.parquet"])
    >>> s = rfm_summary(ws, calibration_end="2026-01-29")
    >>> s.to_frame().sort_values("x")[["x", "t_x", "T", "monetary", "mean_value"]].values.tolist()
    [[0.0, 0.0, 2.0, 0.0, 7.0], [2.0, 3.0, 4.0, 25.0, 21.666666666666668]]
    >>> d = rfm_summary(ws, calibration_end="2026-01-08", holdout="14d")
    >>> d.to_frame().sort_values("x")[["x", "holdout_x"]].values.tolist()
    [[1, 1]]
    """
    import time

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    t0 = time.perf_counter()
    expr, cal_end, hold_end = summary_table(
        ws,
        purchase_event,
        calibration_end=calibration_end,
        holdout=holdout,
        time_unit=time_unit,
        distinct_days=distinct_days,
        by=by,
        journey_map=journey_map,
    )
    if distinct:
        keys = ["x", "t_x", "T"] + (["group"] if "group" in expr.columns else [])
        expr = expr.group_by(keys).aggregate(customers=expr.count(), revenue=expr.revenue.sum())
        expr = expr.order_by(keys)
    else:
        expr = expr.order_by("person_id")
    table = ws.store.fetch(expr)  # the totals from it: the query runs once
    n = table.column("customers") if distinct else pa.array(np.ones(table.num_rows, np.int64))
    x = table.column("x")
    customers = int(pc.sum(n).as_py() or 0)
    if customers == 0:
        ws.require_event(purchase_event)  # the name's closest matches when it never occurs
    repeat = int(pc.sum(pc.if_else(pc.greater(x, 0), n, 0)).as_py() or 0)
    purchases = int(pc.sum(pc.multiply(pc.add(x, 1), n)).as_py() or 0)
    revenue = float(pc.sum(table.column("revenue")).as_py() or 0.0)
    return RfmSummary(
        purchase_event=purchase_event,
        time_unit=time_unit,
        calibration_end=cal_end,
        holdout_end=hold_end,
        distinct_days=distinct_days,
        customers=customers,
        repeat_customers=repeat,
        purchases=purchases,
        revenue=revenue,
        distinct=distinct,
        by="map" if journey_map is not None else by,
        table=table,
        seconds=time.perf_counter() - t0,
    )


def _with_persona(ws: Workspace, expr: ibis.Table, journey_map: Any) -> ibis.Table:
    """``expr`` with ``group``: the persona of each person under the map's persona rules
    (the first persona, in map order, whose rule any of the person's events matches, as
    ``channels`` and ``map-measure`` assign them)."""
    import ibis

    from kundresa.attribution._stages import NO_PERSONA, load_journey_map
    from kundresa.maps._measure import persona_table

    jm = load_journey_map(journey_map)
    full = ws.events(touchpoints_only=False)
    full = full.select("person_id", "ts", "event", "channel", "touchpoint", "properties")
    personas = persona_table(jm, full)
    if personas is None:
        return expr.mutate(group=ibis.literal(NO_PERSONA))
    name: Any = ibis.literal(NO_PERSONA)
    for i, q in enumerate(jm.personas):
        name = ibis.ifelse(personas.pidx == i, q.id, name)
    lookup = personas.select(pp=personas.person_id, group=name)
    cols = [c for c in expr.columns if c != "group"]
    j = expr.left_join(lookup, expr.person_id == lookup.pp)
    return j.select(*cols, group=j.group.fill_null(NO_PERSONA))


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
