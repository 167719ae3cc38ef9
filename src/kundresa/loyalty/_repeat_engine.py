"""Engine helpers shared by the repeat-purchase and ambassador analyses (Ibis, both engines).

Every function builds an Ibis expression; only aggregates are fetched. Exact quantiles come
from the engine by rank (the rows at positions ``floor``/``ceil`` of ``p (n - 1)``), then
interpolated linearly in Python: numpy's default ``percentile``, identical on DuckDB and
Spark (no engine-specific ``quantile`` function).

>>> quantile_from_ranks({0: 1.0, 1: 3.0}, 2, 0.5)
2.0
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "by_value",
    "group_labels",
    "naive",
    "parse_end",
    "purchases",
    "quantile_from_ranks",
    "ranked_quantiles",
]

_META = set(".^$*+?()[]{}|\\")
#: the value of a breakdown when the first purchase has none
NONE = "(none)"
#: persons a map's persona rules assign to no persona
UNASSIGNED = "(unassigned)"


def _esc(text: str) -> str:
    return "".join("\\" + c if c in _META else c for c in text)


def naive(value: Any) -> Any:
    """A timestamp as naive UTC (Spark returns tz-aware ones).

    >>> naive(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    datetime.datetime(2026, 1, 1, 0, 0)
    """
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_end(end: str | dt.date | None, field: str = "until") -> dt.datetime | None:
    """The exclusive upper bound of an inclusive end date (``None``: no end).

    >>> parse_end("1997-09-30")
    datetime.datetime(1997, 10, 1, 0, 0)
    >>> parse_end("30/9")
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: until: '30/9' is not allowed; write a date, e.g. 1997-09-30
    """
    if end is None or end == "":
        return None
    if isinstance(end, dt.datetime):
        return end
    if isinstance(end, dt.date):
        day = end
    else:
        try:
            day = dt.date.fromisoformat(str(end).strip())
        except ValueError:
            raise InvalidOptionError(field, end, fix="write a date, e.g. 1997-09-30") from None
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(days=1)


def by_value(t: Any, by: str) -> Any:
    """The breakdown value of each row: a column, or ``properties.KEY`` read from the JSON
    text (string, number or boolean), as a string; missing -> null."""
    if by.startswith("properties.") and len(by) > len("properties."):
        key = _esc(by[len("properties.") :])
        return t.properties.re_extract(rf'"{key}"\s*:\s*"?([^",}}]*)', 1).nullif("")
    if by in t.columns and by not in ("properties",):
        return t[by].cast("string")
    allowed = [c for c in t.columns if c != "properties"] + ["properties.KEY"]
    raise InvalidOptionError("by", by, allowed=allowed)


def purchases(
    ws: Workspace,
    purchase_event: str,
    *,
    distinct_days: bool,
    end: dt.datetime | None = None,
) -> Any:
    """One row per purchase: ``person_id, ts, revenue, k`` (0-based order number of the
    person, in time order, ties broken by event id) and ``gap_us`` (microseconds since the
    person's previous purchase; null for the first). With ``distinct_days`` a person's
    purchases on one calendar day (UTC) are one purchase at midnight with their summed
    revenue."""
    import ibis

    ev = ws.events()
    p = ev.filter((ev.event == purchase_event) & ev.person_id.notnull())
    if end is not None:
        p = p.filter(p.ts < end)
    p = p.select("person_id", "ts", "event_id", revenue=p.revenue.fill_null(0.0))
    if distinct_days:
        p = p.mutate(ts=p.ts.truncate("D"))
        p = p.group_by("person_id", "ts").aggregate(
            revenue=p.revenue.sum(), event_id=p.event_id.min()
        )
    w = ibis.window(group_by="person_id", order_by=["ts", "event_id"])
    p = p.mutate(k=ibis.row_number().over(w), prev=p.ts.lag().over(w))
    return p.mutate(gap_us=p.ts.delta(p.prev, unit="microsecond")).drop("prev")


def quantile_from_ranks(values: dict[int, float], n: int, q: float) -> float | None:
    """The ``q`` quantile (linear interpolation, numpy's default) of ``n`` sorted values
    given by rank (only the ranks ``floor``/``ceil`` of ``q (n - 1)`` are needed)."""
    if n <= 0:
        return None
    h = q * (n - 1)
    lo, hi = math.floor(h), math.ceil(h)
    return values[lo] + (h - lo) * (values[hi] - values[lo])


def ranked_quantiles(
    fetch: Any, t: Any, value: str, group: str, qs: Sequence[float]
) -> dict[Any, dict[float, float | None]]:
    """Exact quantiles ``qs`` of ``t[value]`` per ``t[group]``, ranked in the engine; only
    the rows at the needed ranks are fetched."""
    import ibis

    t = t.filter(t[value].notnull())
    w = ibis.window(group_by=group, order_by=[t[value]])
    r = t.mutate(
        rn=ibis.row_number().over(w), cnt=t[value].count().over(ibis.window(group_by=group))
    )
    h = [(r.cnt - 1) * q for q in qs]
    cond = ibis.or_(*[(r.rn == x.floor()) | (r.rn == x.ceil()) for x in h])
    rows = fetch(r.filter(cond).select(group, "rn", "cnt", value)).to_pylist()
    by: dict[Any, tuple[int, dict[int, float]]] = {}
    for row in rows:
        _n, vals = by.setdefault(row[group], (int(row["cnt"]), {}))
        vals[int(row["rn"])] = float(row[value])
    return {g: {q: quantile_from_ranks(vals, n, q) for q in qs} for g, (n, vals) in by.items()}


def group_labels(ws: Workspace, by: str | None, purchase_event: str) -> Any:
    """``person_id, grp``: the ``by`` value on the person's first purchase event (``(none)``
    when it has none); None without ``by``."""
    import ibis

    if by is None:
        return None
    ev = ws.events()
    p = ev.filter((ev.event == purchase_event) & ev.person_id.notnull())
    value = by_value(p, by)
    w = ibis.window(group_by="person_id", order_by=["ts", "event_id"])
    first = p.mutate(grp=value.fill_null(NONE), rn=ibis.row_number().over(w))
    return first.filter(first.rn == 0).select("person_id", "grp")


def persona_labels(ws: Workspace, journey_map: Any) -> tuple[Any, tuple[str, ...]]:
    """``person_id, grp`` with the persona id of each person the map's persona rules assign
    (others absent), and the persona ids in map order."""
    import ibis

    from kundresa.maps._measure import persona_table

    ids = tuple(p.id for p in journey_map.personas)
    pt = persona_table(journey_map, ws.events(touchpoints_only=False))
    if pt is None:
        return None, ids
    cases = ibis.cases(*[(pt.pidx == i, ibis.literal(pid)) for i, pid in enumerate(ids)])
    return pt.select("person_id", grp=cases), ids


def load_map(journey_map: Any) -> Any:
    """A :class:`~kundresa.maps.JourneyMap` from a map or a map file (None stays None)."""
    if journey_map is None:
        return None
    from kundresa.maps import JourneyMap, load_map

    return journey_map if isinstance(journey_map, JourneyMap) else load_map(journey_map)


def share(num: float, den: float) -> float | None:
    """``num / den`` rounded to 6 decimals; None when ``den`` is 0.

    >>> share(1, 3), share(1, 0)
    (0.333333, None)
    """
    return round(num / den, 6) if den else None


def money(value: Any) -> float:
    """A sum of money rounded to 6 decimals (so that summation order does not show)."""
    return round(float(value or 0.0), 6)
