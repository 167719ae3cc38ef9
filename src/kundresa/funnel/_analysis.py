"""``funnel()``: configure, read, run a kernel, summarise into a :class:`FunnelResult`.

>>> import tempfile, pathlib, datetime as dt
>>> import pyarrow as pa
>>> from kundresa import Workspace
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "f.duckdb")
>>> t0 = dt.datetime(2026, 1, 5, 13, 0)
>>> rows = [("p1", "A", 0), ("p1", "B", 15), ("p2", "A", 0)]
>>> ws.store.append("events", pa.table({
...     "event_id": [f"e{i}" for i in range(3)], "person_id": [r[0] for r in rows],
...     "ts": [t0 + dt.timedelta(minutes=r[2]) for r in rows], "type": ["track"] * 3,
...     "event": [r[1] for r in rows]})) if ws.events() is not None else None
>>> funnel(ws, ["A", "B"], window="1h").counts
(2, 1)
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kundresa._errors import InvalidOptionError
from kundresa._util import renamed
from kundresa.funnel import _fastload
from kundresa.funnel._kernel import Outcome, as_coded, fast_best, general
from kundresa.funnel._load import Loaded, load
from kundresa.funnel._result import (
    HIST_EDGES,
    BreakdownRow,
    DropOff,
    FunnelResult,
    FunnelStep,
    TrendRow,
    wilson,
)
from kundresa.funnel._spec import TREND_PERIODS, Exclusion, FunnelSpec, Step

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["funnel", "run_kernel"]

_US = 1_000_000


def run_kernel(loaded: Loaded, spec: FunnelSpec, *, force_general: bool = False) -> Outcome:
    """Run the fast kernel when the semantics allow it, else the general one.

    >>> from kundresa.funnel._kernel import Coded
    >>> c = Coded(np.array([0]), np.array([0]), np.array([1]), np.array([0]), None, 1)
    >>> run_kernel(Loaded(c, ["p"], None, None), FunnelSpec.build(["A", "B"])).filled.tolist()
    [[True, False]]
    """
    if spec.fast and not force_general:
        return fast_best(loaded.coded, k=spec.k, window_us=spec.window_us)
    return general(as_coded(loaded.coded), spec)


def _validate_names(ws: Workspace, spec: FunnelSpec, present: frozenset[str]) -> None:
    """A name absent from the loaded rows is checked against the whole store (one query
    only then): ``require_event`` raises NotFoundError with the closest names."""
    for name in spec.event_names:
        if name not in present:
            ws.require_event(name)


def _prev_required(spec: FunnelSpec, k: int) -> int:
    j = k - 1
    while j > 0 and spec.steps[j].optional:
        j -= 1
    return j


def _period(us: int, period: str) -> str:
    d = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    day = d.date()
    if period == "week":
        day -= dt.timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    return day.isoformat()


def _period_days(us: np.ndarray[Any, Any], period: str) -> np.ndarray[Any, Any]:
    """Vectorised :func:`_period` as days since 1970-01-01 (floor, like ``timedelta``)."""
    days: np.ndarray[Any, Any] = np.floor_divide(us, 86_400 * _US)
    if period == "week":
        days = days - (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    elif period == "month":
        d64 = days.astype("datetime64[D]")
        days = d64.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return days


def _trend(
    entry_t: np.ndarray[Any, Any], converted: np.ndarray[Any, Any], period: str
) -> list[tuple[str, int, int]]:
    """(period label, entered, converted) by entry period, labels ascending.

    >>> us = np.array([0, 86_400 * _US * 10, 86_400 * _US * 11])
    >>> _trend(us, np.array([True, False, True]), "week")
    [('1969-12-29', 1, 1), ('1970-01-05', 1, 0), ('1970-01-12', 1, 1)]
    >>> [_period(int(x), "week") for x in us]
    ['1969-12-29', '1970-01-05', '1970-01-12']
    """
    if len(entry_t) == 0:
        return []
    days = _period_days(np.asarray(entry_t, np.int64), period)
    uniq, inv = np.unique(days, return_inverse=True)
    n = np.bincount(inv, minlength=len(uniq))
    c = np.bincount(inv, weights=np.asarray(converted, bool), minlength=len(uniq))
    epoch = dt.date(1970, 1, 1)
    return [
        ((epoch + dt.timedelta(days=int(d))).isoformat(), int(a), int(b))
        for d, a, b in zip(uniq.tolist(), n.tolist(), c.tolist(), strict=True)
    ]


def _min_by_unit(
    unit: np.ndarray[Any, Any], at: np.ndarray[Any, Any]
) -> tuple[list[int], list[int]]:
    """Distinct units (first-appearance order) and the minimum ``at`` of each.

    >>> _min_by_unit(np.array([5, 2, 5]), np.array([9, 4, 1]))
    ([5, 2], [1, 4])
    """
    if len(unit) == 0:
        return [], []
    uniq, first, inv = np.unique(unit, return_index=True, return_inverse=True)
    lo = np.full(len(uniq), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(lo, inv, at)
    order = np.argsort(first, kind="stable")
    return uniq[order].tolist(), lo[order].tolist()


def _sorted_ids(loaded: Loaded, gs: list[int]) -> tuple[str, ...]:
    """The ids of units ``gs`` as strings, sorted like ``sorted(map(str, ...))``: in Arrow
    when the loader kept the ids as a string array (UTF-8 byte order is code point order),
    else in Python (a big funnel has hundreds of thousands of drop-offs).

    >>> from kundresa.funnel._kernel import Coded
    >>> z = np.zeros(0, np.int64)
    >>> ids = ["b", "ä", "B", "10", "9"]
    >>> import pyarrow as pa
    >>> slow = Loaded(Coded(z, z, z, z, None, 0), ids, None, None)
    >>> fast = Loaded(Coded(z, z, z, z, None, 0), ids, None, None, unit_arrow=pa.array(ids))
    >>> _sorted_ids(slow, [0, 1, 2, 3, 4]) == _sorted_ids(fast, [0, 1, 2, 3, 4])
    True
    >>> _sorted_ids(fast, [0, 1, 2, 3, 4])
    ('10', '9', 'B', 'b', 'ä')
    """
    arr = loaded.unit_arrow
    if arr is None and isinstance(loaded.unit_ids, _fastload.LazyUnitIds):
        arr = loaded.unit_ids.arrow()
    if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        picked = arr.take(pa.array(gs, pa.int64()))
        return tuple(picked.take(pc.sort_indices(picked)).to_pylist())
    return tuple(sorted(str(loaded.unit_ids[g]) for g in gs))


def _attributed(loaded: Loaded, spec: FunnelSpec, attribution: str) -> dict[int, set[str]]:
    """Breakdown value(s) of each unit, by ``attribution`` (see :func:`funnel`)."""
    assert loaded.by_value is not None
    c = as_coded(loaded.coded)
    any_mask = (1 << spec.k) - 1
    if attribution == "first":
        sel = (c.mask & (any_mask if spec.order == "unordered" else 1)) != 0
        rows = np.flatnonzero(sel)
        pick = {}
        for r in rows[::-1].tolist():
            pick[int(c.gid[r])] = r
    elif attribution == "last":
        rows = np.flatnonzero((c.mask & any_mask) != 0)
        pick = {int(c.gid[r]): r for r in rows.tolist()}
    elif attribution == "all":
        out: dict[int, set[str]] = defaultdict(set)
        for r in np.flatnonzero((c.mask & any_mask) != 0).tolist():
            out[int(c.gid[r])].add(_label(loaded.by_value[r]))
        return dict(out)
    else:
        n = int(attribution.split(":", 1)[1])
        rows = np.flatnonzero((c.mask & (1 << (n - 1))) != 0)
        pick = {}
        for r in rows[::-1].tolist():
            pick[int(c.gid[r])] = r
    return {g: {_label(loaded.by_value[r])} for g, r in pick.items()}


def _label(v: str | None) -> str:
    return "(none)" if v is None else v


def _next_events(
    ws: Workspace, spec: FunnelSpec, refs: list[tuple[Any, int, int]], top: int
) -> dict[int, tuple[tuple[str, int], ...]]:
    """Top first events strictly after each drop-off's last reached step (engine query)."""
    if not refs:
        return {}
    import ibis
    import pyarrow as pa

    ucol = spec.unit_column
    mem = ibis.memtable(
        pa.table(
            {
                "__unit": pa.array([str(r[0]) for r in refs], pa.string()),
                "__step": pa.array([r[1] for r in refs], pa.int64()),
                "__ref": pa.array([r[2] for r in refs], pa.int64()).cast(pa.timestamp("us")),
            }
        )
    )
    ev = ws.events()
    j = ev.join(mem, ev[ucol] == mem["__unit"]).filter(lambda t: t.ts > t["__ref"])
    w = ibis.window(group_by=["__unit", "__step"], order_by=["ts", "event_id"])
    ranked = j.select("__step", "event", rn=ibis.row_number().over(w))
    firsts = ranked.filter(ranked.rn == 0)
    agg = firsts.group_by(["__step", "event"]).aggregate(n=firsts.count())
    rows = ws.store.fetch(agg).to_pylist()
    by: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for r in rows:
        by[int(r["__step"])].append((str(r["event"]), int(r["n"])))
    return {s: tuple(sorted(v, key=lambda x: (-x[1], x[0]))[:top]) for s, v in by.items()}


@renamed(exclusions="exclude")
def funnel(
    ws: Workspace,
    steps: Sequence[str | Step],
    *,
    window: str | dt.timedelta = "7d",
    order: str = "ordered",
    entry: str = "best",
    exclude: Sequence[Exclusion] = (),
    hold_constant: Sequence[str] = (),
    unit: str = "person",
    tie: str | dt.timedelta | None = None,
    tie_order: str = "event_id",
    denominator: str = "entered",
    by: str | None = None,
    attribution: str = "first",
    trend: str = "week",
    next_events: int = 5,
) -> FunnelResult:
    """Count how units move through ``steps``; every semantic choice is a parameter.

    * ``order``: ``ordered`` (other events may come between steps; default), ``strict`` (no
      other event of the unit between consecutive steps), ``unordered`` (all steps in the
      window, any order). Per step: ``Step(..., directly_followed=True)``.
    * ``window``: conversion window from the entry, inclusive (``"7d"``, ``"30m"``); per
      step ``Step(..., within="1h")`` from the previous step.
    * ``entry``: ``best`` (furthest step of any attempt; ClickHouse windowFunnel, PostHog,
      Amplitude; default), ``first`` (only the first entry, never reset; Mixpanel),
      ``totals`` (every attempt counts; re-entry after conversion or time-out).
    * ``exclude``: :class:`Exclusion` events between two steps, ``drop`` or ``stop``.
    * ``Step(events=(...), where={...}, optional=True)``: OR of events, predicates, optional.
    * ``hold_constant``: columns or properties equal on every step (same product, order).
    * ``unit``: ``person``, ``session`` or any id column of the events.
    * ``tie``: tolerance for near-simultaneous events (``"1s"`` Amplitude, ``"2s"``
      Mixpanel); ``tie_order``: identical timestamps ordered by ``event_id`` or in
      ``funnel`` step order.
    * ``denominator``: ``entered`` (units at step 1) or ``all`` (every unit with events).
    * ``by`` a column or property, ``attribution`` ``first`` | ``last`` | ``step:N`` |
      ``all``; ``trend`` ``day`` | ``week`` | ``month`` by entry date.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "e.duckdb")
    >>> funnel(ws, ["A", "B"])
    Traceback (most recent call last):
    ...
    kundresa.NotFoundError: event: 'A' not found
    """
    t_start = time.perf_counter()
    spec = FunnelSpec.build(
        steps,
        window=window,
        order=order,
        entry=entry,
        exclusions=exclude,
        hold_constant=hold_constant,
        unit=unit,
        tie=tie,
        tie_order=tie_order,
        denominator=denominator,
    )
    if trend not in TREND_PERIODS:
        raise InvalidOptionError("trend", trend, allowed=TREND_PERIODS)
    if not (
        attribution in ("first", "last", "all")
        or (
            attribution.startswith("step:")
            and attribution[5:].isdigit()
            and 1 <= int(attribution[5:]) <= spec.k
        )
    ):
        raise InvalidOptionError(
            "attribution", attribution, fix=f"use first, last, all or step:N (1..{spec.k})"
        )
    loaded = load(ws, spec, by)
    if isinstance(loaded.unit_ids, _fastload.LazyUnitIds):
        try:
            loaded.unit_ids.arrow()  # the drop-off lists need the ids; checks the stream's units
        except _fastload.StreamInvalidError:  # pragma: no cover - a 64-bit collision, or the
            loaded = load(ws, spec, by, stream=False)  # events replaced meanwhile
    _validate_names(ws, spec, loaded.names_present)
    out = run_kernel(loaded, spec)
    units_all = out_entered = int(out.filled[:, 0].sum())
    if spec.denominator == "all":
        ev = ws.events()
        ucol = spec.unit_column
        units_all = int(
            ws.store.fetch(ev.filter(ev[ucol].notnull()).aggregate(n=ev[ucol].nunique()))
            .column("n")[0]
            .as_py()
        )
    result = summarise(
        ws,
        spec,
        loaded,
        out,
        units=units_all,
        by=by,
        attribution=attribution,
        trend=trend,
        next_events=next_events,
    )
    del out_entered
    return FunnelResult(**{**result, "seconds": round(time.perf_counter() - t_start, 4)})


def summarise(
    ws: Workspace,
    spec: FunnelSpec,
    loaded: Loaded,
    out: Outcome,
    *,
    units: int,
    by: str | None,
    attribution: str,
    trend: str,
    next_events: int,
) -> dict[str, Any]:
    """The outputs of a kernel run as the fields of a :class:`FunnelResult`."""
    k = spec.k
    f = out.filled
    counts = [int(f[:, s].sum()) for s in range(k)]
    entered = counts[0]
    den = entered if spec.denominator == "entered" else units
    steps = []
    drop_offs = []
    refs: list[tuple[Any, int, int]] = []
    for s, st in enumerate(spec.steps):
        prev = _prev_required(spec, s) if s else 0
        secs = out.ttc[f[:, s], s] / _US if s else np.zeros(0)
        hist: tuple[tuple[str, int], ...] = ()
        med = p90 = None
        if s and len(secs):
            med = float(np.median(secs))
            p90 = float(np.quantile(secs, 0.9))
            edges = [e for _, e in HIST_EDGES]
            idx = np.searchsorted(np.asarray(edges), secs, side="left")
            hc = np.bincount(idx, minlength=len(edges))
            hist = tuple((lbl, int(n)) for (lbl, _), n in zip(HIST_EDGES, hc, strict=True))
        steps.append(
            FunnelStep(
                number=s + 1,
                label=st.label,
                events=st.names,
                optional=st.optional,
                count=counts[s],
                from_start=wilson(counts[s], den),
                from_previous=wilson(counts[s], counts[prev] if s else den),
                drop_off=(counts[prev] - counts[s]) if s else 0,
                median_seconds=med,
                p90_seconds=p90,
                histogram=hist,
            )
        )
        if s and not st.optional:
            lost = f[:, prev] & ~f[:, s]
            gs, first_at = _min_by_unit(out.unit[lost], out.at[lost, prev])
            ids = _sorted_ids(loaded, gs)
            if next_events > 0:
                refs.extend(
                    (loaded.unit_ids[g], s + 1, a) for g, a in zip(gs, first_at, strict=True)
                )
            drop_offs.append((s + 1, len(ids), ids))
    nxt = _next_events(ws, spec, refs, next_events) if next_events > 0 else {}
    drops = tuple(DropOff(s, n, ids, nxt.get(s, ())) for s, n, ids in drop_offs)
    # trend by entry period
    trend_rows = tuple(
        TrendRow(p, n, c, wilson(c, n)) for p, n, c in _trend(out.entry_t, f[:, k - 1], trend)
    )
    breakdown: tuple[BreakdownRow, ...] = ()
    if by is not None:
        vals = _attributed(loaded, spec, attribution)
        per: dict[str, np.ndarray[Any, Any]] = {}
        for i, g in enumerate(out.unit.tolist()):
            for v in vals.get(g, {"(none)"}):
                if v not in per:
                    per[v] = np.zeros(k, np.int64)
                per[v] += f[i]
        breakdown = tuple(
            BreakdownRow(v, tuple(int(x) for x in c), wilson(int(c[-1]), int(c[0])))
            for v, c in sorted(per.items(), key=lambda kv: (-int(kv[1][0]), kv[0]))
        )
    notes: list[str] = []
    if len(loaded.unit_ids) > 0 and entered == 0:
        notes.append("no unit entered the funnel (no step-1 event matched)")
    return {
        "parameters": spec.describe(),
        "steps": tuple(steps),
        "units": units,
        "entered": entered,
        "excluded": out.excluded,
        "trend_period": trend,
        "trend": trend_rows,
        "breakdown_by": by,
        "attribution": attribution,
        "breakdown": breakdown,
        "drop_offs": drops,
        "engine": ws.engine,
        "kernel": "fast" if spec.fast else "general",
        "notes": tuple(notes),
    }
