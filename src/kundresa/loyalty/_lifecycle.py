"""Lifecycle (new / returning / resurrecting / dormant, and pulse) and stickiness (days active
per week or month), computed in the engine (:mod:`kundresa.loyalty._lifecycle_engine`) with
the rules of PostHog and of Amplitude as explicit modes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa.loyalty._lifecycle_engine import (
    ALL,
    ANY,
    CREATED,
    MODES,
    STATUSES,
    activity,
    lifecycle_counts,
    stickiness_counts,
)
from kundresa.loyalty._lifecycle_result import LifecycleResult, StickinessResult
from kundresa.loyalty._periods import PERIODS, parse_date, period_of, period_start

if TYPE_CHECKING:
    import datetime as dt

    from kundresa._workspace import Workspace

__all__ = ["STICKY_PERIODS", "lifecycle", "lifecycle_rows", "stickiness", "stickiness_rows"]

#: the periods stickiness counts days in
STICKY_PERIODS = ("week", "month")


def _choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidOptionError(field, value, allowed=allowed)


def _bounds(
    date_from: str | dt.date | None, date_to: str | dt.date | None, period: str
) -> tuple[int | None, int | None]:
    lo, hi = parse_date(date_from, "date_from"), parse_date(date_to, "date_to")
    if lo is not None and hi is not None and hi < lo:
        raise InvalidOptionError("date_to", hi.isoformat(), fix=f"give a date on or after {lo}")
    return (
        None if lo is None else period_of(lo, period),
        None if hi is None else period_of(hi, period),
    )


def _settings(date_from: Any, date_to: Any, journey_map: Any) -> dict[str, Any]:
    """The result's settings: the bounds as given and the map's title (or its file)."""
    name = None if journey_map is None else str(getattr(journey_map, "title", journey_map))
    return {
        "date_from": date_from and str(date_from),
        "date_to": date_to and str(date_to),
        "map": name,
    }


def lifecycle_rows(
    counts: Sequence[Mapping[str, Any]],
    statuses: Sequence[str],
    period: str,
    lo: int | None = None,
    hi: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Rows per period (and per group) from the engine's ``grp, p, status, n`` counts:
    every period from ``lo`` to ``hi`` (default: the first and the last active one; never
    before the first active one nor after the dormant period after the last), dormant
    negated, ``active`` and ``pulse`` added.

    >>> rows, _, _ = lifecycle_rows(
    ...     [{"grp": "*", "p": 0, "status": "new", "n": 2},
    ...      {"grp": "*", "p": 1, "status": "dormant", "n": 1}], STATUSES["posthog"], "day", hi=1)
    >>> [(r["period"], r["new"], r["dormant"], r["pulse"]) for r in rows]
    [('1970-01-01', 2, 0, None), ('1970-01-02', 0, -1, 0.0)]
    >>> len(lifecycle_rows([{"grp": "*", "p": 0, "status": "new", "n": 2}],
    ...                    STATUSES["posthog"], "day", lo=-10**6, hi=10**6)[0])
    1
    """
    active = [c["p"] for c in counts if c["status"] != "dormant"]
    if not active:
        return [], [], []
    # never beyond the data: from the first active period to the dormant one after the last
    # (a far date_to on the REST API cannot ask for millions of empty days)
    lo = min(active) if lo is None else max(lo, min(active))
    hi = max(active) if hi is None else min(hi, max(c["p"] for c in counts))
    groups = sorted({str(c["grp"]) for c in counts})
    cells: dict[tuple[str, int, str], int] = {}
    for c in counts:
        key = (str(c["grp"]), int(c["p"]), str(c["status"]))
        cells[key] = cells.get(key, 0) + int(c["n"])
        total = (ALL, int(c["p"]), str(c["status"]))
        if c["grp"] != ALL:
            cells[total] = cells.get(total, 0) + int(c["n"])

    def row(grp: str, p: int) -> dict[str, Any]:
        out: dict[str, Any] = {"period": period_start(p, period).isoformat()}
        if grp != ALL:
            out["group"] = grp
        for s in statuses:
            n = cells.get((grp, p, s), 0)
            out[s] = -n if s == "dormant" else n
        out["active"] = sum(out[s] for s in statuses[:3])
        dormant = -out["dormant"]
        out["pulse"] = (
            None if dormant == 0 else round((out[statuses[0]] + out[statuses[2]]) / dormant, 6)
        )
        return out

    periods = range(lo, hi + 1)
    rows = [row(ALL, p) for p in periods]
    by_group = [row(g, p) for g in groups if g != ALL for p in periods]
    return rows, by_group, [g for g in groups if g != ALL]


def lifecycle(
    ws: Workspace,
    event: str = ANY,
    *,
    period: str = "week",
    mode: str = "posthog",
    created: str = "first_event",
    by: str | None = None,
    journey_map: Any = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
) -> LifecycleResult:
    """Persons per ``period`` (``day``/``week``/``month``, calendar periods in UTC, weeks
    from Monday) by lifecycle status, with pulse. Activity is any touchpoint (``event="any"``)
    or one named event.

    ``mode="posthog"`` (PostHog's lifecycle insight) classifies a person active in period t
    as **new** when t is the period of the person's creation, else **returning** when they
    were active in t-1, else **resurrecting**; ``mode="amplitude"`` (Amplitude's lifecycle
    chart) as **current** when active in t-1, **resurrected** when active in some period
    before t-1 (not in t-1), else **new**. In both, a person is **dormant** (counted
    negative) in the one period after an active period that is not followed by activity.
    ``pulse`` = (new + resurrecting) / |dormant| per period (Amplitude's Pulse view).

    ``created`` says when a person was created (PostHog mode only; Amplitude's "new" needs
    no earlier activity instead): ``first_event`` (default) the person's first event of any
    type, identify and other non-touchpoint calls included (PostHog's person ``created_at``
    is when its first event arrived; Amplitude's "first seen" is the same moment);
    ``first_activity`` their first counted activity (then the two modes agree on new);
    ``first_identify`` their first identify call (their first event when never identified).
    A person created in t-1 whose first activity is in t is resurrecting in PostHog mode and
    new in Amplitude mode.

    ``by`` (an events column or ``properties.KEY``) breaks the counts down by the value on
    each person's first activity event; ``journey_map`` by persona (the map's persona rules,
    as :func:`~kundresa.maps.measure_map` assigns them). ``date_from``/``date_to`` (dates,
    PostHog's names) bound the periods shown (default: the first to the last period with
    activity); activity before ``date_from`` still decides the statuses.

    >>> import tempfile, pathlib, datetime as dt
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> day = lambda d: dt.datetime(2026, 1, 5 + d, 12)
    >>> pq.write_table(pa.Table.from_pylist([
    ...     {"event_id": f"e{d}", "ts": day(d), "type": "track", "event": "Page Viewed",
    ...      "user_id": "u1"} for d in (0, 1, 3)]), folder / "e.parquet")
    >>> ws = Workspace.open(folder / "w.duckdb")
    >>> _ = ws.ingest([folder / "e.parquet"])
    >>> r = lifecycle(ws, period="day", date_to="2026-01-09")
    >>> [[s for s in r.statuses if row[s]][0] for row in r.rows]
    ['new', 'returning', 'dormant', 'resurrecting', 'dormant']
    >>> r.pulse()
    (None, None, 0.0, None, 0.0)
    """
    began = time.perf_counter()
    _choice("period", period, PERIODS)
    _choice("mode", mode, MODES)
    _choice("created", created, CREATED)
    lo, hi = _bounds(date_from, date_to, period)
    act = activity(ws, event, period, by=by, journey_map=journey_map)
    counts = lifecycle_counts(ws, act, period, mode, created).to_pylist()
    statuses = STATUSES[mode]
    rows, by_group, groups = lifecycle_rows(counts, statuses, period, lo, hi)
    return LifecycleResult(
        mode=mode,
        period=period,
        event=event,
        created=created,
        statuses=statuses,
        rows=tuple(rows),
        by_group=tuple(by_group),
        groups=tuple(groups),
        by=by,
        settings=_settings(date_from, date_to, journey_map),
        engine=ws.engine,
        seconds=round(time.perf_counter() - began, 4),
    )  # fmt: skip


def stickiness_rows(
    counts: Sequence[Mapping[str, Any]],
    max_days_active: int,
    mode: str,
    cumulative: bool,
    period: str,
    lo: int | None = None,
    hi: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Rows per number of days (pooled over the periods), per period and per group from the
    engine's ``grp, p, k, n`` counts (only periods within ``lo``..``hi``).

    >>> rows, per, _, _ = stickiness_rows(
    ...     [{"grp": "*", "p": 0, "k": 1, "n": 3}, {"grp": "*", "p": 0, "k": 2, "n": 1}],
    ...     7, "amplitude", True, "week")
    >>> [(r["days_active"], r["persons"], r["persons_at_least"], r["value"]) for r in rows[:3]]
    [(1, 3, 4, 1.0), (2, 1, 1, 0.25), (3, 0, 0, 0.0)]
    """
    kept = [
        c for c in counts
        if (lo is None or c["p"] >= lo) and (hi is None or c["p"] <= hi)
    ]  # fmt: skip

    def dist(cells: Mapping[int, int], extra: Mapping[str, Any]) -> list[dict[str, Any]]:
        total = sum(cells.values())
        out = []
        for k in range(1, max_days_active + 1):
            exactly = cells.get(k, 0)
            at_least = sum(n for j, n in cells.items() if j >= k)
            share = exactly / total if total else 0.0
            share_at_least = at_least / total if total else 0.0
            if mode == "posthog":
                value: float = at_least if cumulative else exactly
            else:
                value = round(share_at_least if cumulative else share, 6)
            out.append({**extra, "days_active": k, "persons": exactly, "persons_at_least": at_least,
                        "share": round(share, 6), "share_at_least": round(share_at_least, 6),
                        "value": value})  # fmt: skip
        return out

    pooled: dict[int, int] = {}
    per_period: dict[int, dict[int, int]] = {}
    per_group: dict[str, dict[int, int]] = {}
    for c in kept:
        k, n = int(c["k"]), int(c["n"])
        pooled[k] = pooled.get(k, 0) + n
        cell = per_period.setdefault(int(c["p"]), {})
        cell[k] = cell.get(k, 0) + n
        if c["grp"] != ALL:
            g = per_group.setdefault(str(c["grp"]), {})
            g[k] = g.get(k, 0) + n
    if not pooled:
        return [], [], [], []
    rows = dist(pooled, {})
    by_period = [
        r
        for p in sorted(per_period)
        for r in dist(per_period[p], {"period": period_start(p, period).isoformat()})
    ]
    groups = sorted(per_group)
    by_group = [r for g in groups for r in dist(per_group[g], {"group": g})]
    return rows, by_period, by_group, groups


def stickiness(
    ws: Workspace,
    event: str = ANY,
    *,
    period: str = "week",
    mode: str = "posthog",
    cumulative: bool = False,
    by: str | None = None,
    journey_map: Any = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
) -> StickinessResult:
    """How many days of each ``period`` (``week``: 1..7, ``month``: 1..31; calendar periods
    in UTC) persons were active on: any touchpoint (``event="any"``) or one named event.

    For every period and person active in it the engine counts the distinct days with
    activity, *k*. ``mode="posthog"`` (PostHog's stickiness insight: "how many persons
    performed the event on exactly k intervals of the date range", the interval a day and
    the date range one period) shows persons active on exactly *k* days, ``cumulative=True``
    on at least *k* days. ``mode="amplitude"`` (Amplitude's Stickiness chart) shows the
    *percentage* of the active users active on exactly *k* days of a week (or month), or with
    ``cumulative=True`` on at least *k* days; over several periods a user counts once per
    period they were active in ("a user can appear in more than one bucket ... for each week"),
    which is how ``rows`` pools the periods in both modes; ``by_period`` keeps each period.

    ``by`` (an events column or ``properties.KEY``, the value on the person's first activity
    event) and ``journey_map`` (persona) break it down; ``date_from``/``date_to`` (dates)
    select the periods.

    >>> import tempfile, pathlib, datetime as dt
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.Table.from_pylist([
    ...     {"event_id": f"e{u}{d}", "ts": dt.datetime(2026, 1, 5 + d, 9), "type": "track",
    ...      "event": "Page Viewed", "user_id": u} for u, days in (("a", (0, 1, 2)), ("b", (4,)))
    ...     for d in days]), folder / "e.parquet")
    >>> ws = Workspace.open(folder / "w.duckdb")
    >>> _ = ws.ingest([folder / "e.parquet"])
    >>> [r["value"] for r in stickiness(ws).rows[:4]]
    [1, 0, 1, 0]
    >>> [r["value"] for r in stickiness(ws, mode="amplitude", cumulative=True).rows[:4]]
    [1.0, 0.5, 0.5, 0.0]
    """
    began = time.perf_counter()
    _choice("period", period, STICKY_PERIODS)
    _choice("mode", mode, MODES)
    lo, hi = _bounds(date_from, date_to, period)
    act = activity(ws, event, period, by=by, journey_map=journey_map, days=True)
    counts = stickiness_counts(ws, act).to_pylist()
    max_days_active = 7 if period == "week" else 31
    rows, by_period, by_group, groups = stickiness_rows(
        counts, max_days_active, mode, cumulative, period, lo, hi
    )
    return StickinessResult(
        mode=mode,
        period=period,
        event=event,
        cumulative=cumulative,
        max_days_active=max_days_active,
        rows=tuple(rows),
        by_period=tuple(by_period),
        by_group=tuple(by_group),
        groups=tuple(groups),
        by=by,
        settings=_settings(date_from, date_to, journey_map),
        engine=ws.engine,
        seconds=round(time.perf_counter() - began, 4),
    )


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
