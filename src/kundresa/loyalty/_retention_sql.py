"""The retention analysis in the engine: Ibis expressions that run on DuckDB and on Spark.

Only small tables travel back: the cohort sizes per (group, start period) and the returned
counts per (group, start period, period). Times are integers: days since 1900-01-01 (a
Monday, so a week is ``day // 7``), months as ``12 * (year - 1900) + month - 1``, and
microseconds for the rolling clock. Return events are first reduced to one row per
(person, period) (calendar clock) or to each person's last return (``on_or_after``: a
person returned on or after period N exactly when the last return is in period N or
later), so the join with the cohort entries is small.

>>> from kundresa import Workspace
>>> plan = Plan("any", "any", "first_time", "week", (), "on", "calendar", 4, None, None)
>>> fetched = run_plan(Workspace.open(None), plan)
>>> fetched.sizes, fetched.end_day
([], None)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis

    from kundresa._workspace import Workspace
    from kundresa.maps._model import JourneyMap

__all__ = [
    "ANY",
    "BASE",
    "OTHER",
    "Fetched",
    "Plan",
    "period_label",
    "period_start_day",
    "run_plan",
]

#: the event name that means any touchpoint event
ANY = "any"
#: day 0 of the integer calendar (a Monday)
BASE = dt.date(1900, 1, 1)
#: the breakdown value of the groups beyond the largest ones
OTHER = "(other)"
#: the breakdown value of entries without one
NONE = "(none)"
#: the most breakdown groups shown (the rest are summed into OTHER)
MAX_GROUPS = 20
DAY_US = 86_400_000_000
#: the rolling clock's period lengths in days (Amplitude: a week is 7 days, a month 30)
ROLLING_DAYS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class Plan:
    """What to compute, validated (see :func:`kundresa.loyalty.retention`). ``row_period``
    is the period of the cohort rows; ``brackets`` the (first, last) day of each custom
    bracket (empty: periods); ``periods`` the last period number."""

    start_event: str
    return_event: str
    cohort: str
    row_period: str
    brackets: tuple[tuple[int, int], ...]
    mode: str
    clock: str
    periods: int
    from_day: int | None
    to_day: int | None
    by: str | None = None
    journey_map: JourneyMap | None = field(default=None, compare=False)


@dataclass
class Fetched:
    """What came back from the engine: ``sizes`` (group, row, size), ``counts`` (group,
    row, k, n), the group values (largest first), and the day after the last event."""

    sizes: list[tuple[str, int, int]]
    counts: list[tuple[str, int, int, int]]
    groups: list[str]
    end_day: int | None


def period_start_day(period: str, index: int) -> int:
    """The first day (days since 1900-01-01) of period ``index``.

    >>> period_start_day("week", 1), period_start_day("month", 13)
    (7, 396)
    """
    if period == "day":
        return index
    if period == "week":
        return 7 * index
    year, month = divmod(index, 12)
    return (dt.date(1900 + year, month + 1, 1) - BASE).days


def period_label(period: str, index: int) -> str:
    """The first day of period ``index`` as an ISO date.

    >>> period_label("week", 6618)
    '2026-11-02'
    """
    return (BASE + dt.timedelta(days=period_start_day(period, index))).isoformat()


def _day(ts: Any) -> Any:
    import ibis

    return ts.date().delta(ibis.date(BASE.year, BASE.month, BASE.day), unit="day").cast("int64")


def _us(ts: Any) -> Any:
    import ibis

    base = ibis.timestamp(dt.datetime(BASE.year, BASE.month, BASE.day))
    return ts.delta(base, unit="microsecond").cast("int64")


def _period(ts: Any, period: str) -> Any:
    if period == "day":
        return _day(ts)
    if period == "week":
        return (_day(ts) // 7).cast("int64")
    return ((ts.year() - BASE.year) * 12 + ts.month() - 1).cast("int64")


def _events(ev: ibis.Table, name: str) -> ibis.Table:
    return ev if name == ANY else ev.filter(ev.event == name)


def value_of(ev: ibis.Table, by: str) -> Any:
    """The breakdown value of an events column or ``properties.KEY``, as text."""
    import ibis

    if by.startswith("properties."):
        # JSON text of the value: DuckDB quotes a string ('"pro"'), Spark's get_json_object
        # does not; strip the quotes (no Python UDF: Spark's workers may lack pandas)
        text = ev.properties.cast("json")[by.split(".", 1)[1]].cast("string")
        quoted = text.startswith('"') & text.endswith('"') & (text.length() >= 2)
        return ibis.ifelse(quoted, text.substr(1, text.length() - 2), text)
    return ev[by].cast("string")


def _entries(ws: Workspace, ev: ibis.Table, plan: Plan) -> ibis.Table:
    """One row per cohort entry: ``person_id, cp`` (its row period), ``s_ts``, ``grp``."""
    import ibis

    s = _events(ev, plan.start_event)
    cols: dict[str, Any] = {"person_id": s.person_id, "ts": s.ts}
    if plan.by is not None:
        cols["val"] = value_of(s, plan.by)
    keys = ["person_id"]
    if plan.cohort == "recurring":
        cols["cp"] = _period(s.ts, plan.row_period)
        keys.append("cp")
    s = s.select(**cols)
    e = s.group_by(keys).aggregate(s_ts=s.ts.min())
    if plan.by is not None:  # the value of the entry's start event (ties: the smallest)
        j = s.inner_join(e, [*keys, s.ts == e.s_ts])
        e = j.group_by(keys).aggregate(s_ts=j.ts.min(), grp=j.val.min())
        e = e.mutate(grp=e.grp.fill_null(NONE))
    elif plan.journey_map is not None:
        e = _personas(ws, plan.journey_map, e)
    else:
        e = e.mutate(grp=ibis.literal("*"))
    if plan.cohort != "recurring":
        e = e.mutate(cp=_period(e.s_ts, plan.row_period))
    e = e.mutate(sday=_day(e.s_ts))
    if plan.from_day is not None:
        e = e.filter(e.sday >= plan.from_day)
    if plan.to_day is not None:
        e = e.filter(e.sday <= plan.to_day)
    return e.select("person_id", "cp", "s_ts", "sday", "grp")


def _personas(ws: Workspace, jm: JourneyMap, e: ibis.Table) -> ibis.Table:
    import ibis

    from kundresa.maps._measure import persona_table

    pt = persona_table(jm, ws.events(touchpoints_only=False))
    if pt is None:
        return e.mutate(grp=ibis.literal(NONE))
    j = e.left_join(pt, "person_id").select(*e.columns, "pidx")
    persona: Any = ibis.literal(NONE)
    for i, p in enumerate(jm.personas):
        persona = ibis.ifelse(j.pidx == i, p.id, persona)
    return j.mutate(grp=persona).drop("pidx")


def _bracket(d: Any, brackets: tuple[tuple[int, int], ...]) -> Any:
    import ibis

    out: Any = ibis.literal(-1)
    for i, (lo, hi) in reversed(list(enumerate(brackets))):
        out = ibis.ifelse((d >= lo) & (d <= hi), i, out)
    return out.cast("int64")


def _counts_on(ev: ibis.Table, plan: Plan, e: ibis.Table) -> ibis.Table:
    """``grp, cp, k, n``: entries with a return in period (bracket) ``k``."""
    r = _events(ev, plan.return_event)
    if plan.clock == "calendar":
        unit = "day" if plan.brackets else plan.row_period
        rp = r.select("person_id", rp=_period(r.ts, unit), ts=r.ts)
        rp = rp.group_by(["person_id", "rp"]).aggregate(mx=rp.ts.max())
        j = e.inner_join(rp, "person_id")
        if plan.brackets:
            d = j.rp - j.sday
            j = j.mutate(d=d, k=_bracket(d, plan.brackets))
            j = j.filter((j.k >= 0) & ((j.d > 0) | (j.mx > j.s_ts)))
            j = j.select("grp", "cp", "person_id", "k").distinct()
        else:
            j = j.mutate(k=j.rp - j.cp)
            j = j.filter((j.k >= 0) & (j.k <= plan.periods) & ((j.k > 0) | (j.mx > j.s_ts)))
    else:
        rr = r.select("person_id", r_us=_us(r.ts))
        e2 = e.mutate(s_us=_us(e.s_ts))
        j = e2.inner_join(rr, "person_id")
        j = j.mutate(diff=j.r_us - j.s_us)
        if plan.brackets:
            j = j.filter(j.diff > 0)
            j = j.mutate(k=_bracket((j.diff // DAY_US).cast("int64"), plan.brackets))
            j = j.filter(j.k >= 0)
        else:
            length = ROLLING_DAYS[plan.row_period] * DAY_US
            j = j.filter((j.diff > 0) & (j.diff < (plan.periods + 1) * length))
            j = j.mutate(k=(j.diff // length).cast("int64"))
        j = j.select("grp", "cp", "person_id", "k").distinct()
    return j.group_by(["grp", "cp", "k"]).aggregate(n=j.count())


def _counts_after(ev: ibis.Table, plan: Plan, e: ibis.Table) -> ibis.Table:
    """``grp, cp, k, n``: entries whose last return is in period ``k`` (clipped to the last
    period, or for brackets the day of the last return, clipped to the last bracket's first
    day); the caller sums them from the top ("on or after")."""
    import ibis

    r = _events(ev, plan.return_event)
    last = r.group_by("person_id").aggregate(l_ts=r.ts.max())
    j = e.inner_join(last, "person_id")
    j = j.filter(j.l_ts > j.s_ts)
    if plan.brackets:
        top = plan.brackets[-1][0]
        if plan.clock == "calendar":
            k = _day(j.l_ts) - j.sday
        else:
            k = ((_us(j.l_ts) - _us(j.s_ts)) // DAY_US).cast("int64")
    else:
        top = plan.periods
        if plan.clock == "calendar":
            k = _period(j.l_ts, plan.row_period) - j.cp
        else:
            length = ROLLING_DAYS[plan.row_period] * DAY_US
            k = ((_us(j.l_ts) - _us(j.s_ts)) // length).cast("int64")
    j = j.mutate(k=ibis.ifelse(k > top, top, k).cast("int64"))
    return j.group_by(["grp", "cp", "k"]).aggregate(n=j.count())


def run_plan(ws: Workspace, plan: Plan) -> Fetched:
    """Compute the sizes and counts of ``plan`` in the engine of ``ws``: one query (the
    sizes, the counts and the last day with data as one union), plus one for the largest
    breakdown groups when broken down."""
    import ibis

    ev = ws.events()
    ev = ev.filter(ev.person_id.notnull())
    e = _entries(ws, ev, plan)
    groups: list[str] = []
    if plan.by is not None or plan.journey_map is not None:
        totals = ws.store.fetch(e.group_by("grp").aggregate(n=e.count())).to_pylist()
        ranked = sorted(totals, key=lambda t: (-int(t["n"]), str(t["grp"])))
        groups = [str(t["grp"]) for t in ranked[:MAX_GROUPS]]
        if len(ranked) > MAX_GROUPS:
            e = e.mutate(grp=ibis.ifelse(e.grp.isin(groups), e.grp, OTHER))
            groups.append(OTHER)
    sizes = e.group_by(["grp", "cp"]).aggregate(n=e.count())
    counts = _counts_on(ev, plan, e) if plan.mode == "on" else _counts_after(ev, plan, e)
    last = ev.aggregate(n=_day(ev.ts.max()))
    minus = ibis.literal(-1, "int64")
    union = ibis.union(
        sizes.select(part=ibis.literal(0, "int64"), grp="grp", cp="cp", k=minus, n=sizes.n),
        counts.select(part=ibis.literal(1, "int64"), grp="grp", cp="cp", k="k", n=counts.n),
        last.select(part=ibis.literal(2, "int64"), grp=ibis.literal(""), cp=minus, k=minus,
                    n=last.n),
        distinct=False,
    )  # fmt: skip
    union = union.mutate(cp=union.cp.cast("int64"), k=union.k.cast("int64"),
                         n=union.n.cast("int64"))  # fmt: skip
    size_rows: list[tuple[str, int, int]] = []
    count_rows: list[tuple[str, int, int, int]] = []
    end_day: int | None = None
    for r in ws.store.fetch(union).to_pylist():
        if r["part"] == 2:
            end_day = None if r["n"] is None else int(r["n"]) + 1
        elif r["part"] == 0:
            size_rows.append((str(r["grp"]), int(r["cp"]), int(r["n"])))
        else:
            count_rows.append((str(r["grp"]), int(r["cp"]), int(r["k"]), int(r["n"])))
    if end_day is None:
        return Fetched([], [], [], None)
    return Fetched(size_rows, count_rows, groups, end_day)
