"""Pure-Python references of lifecycle and stickiness, written from the vendors' definitions
and independent of kundresa's period arithmetic (calendar dates here, integers there).

An event is ``(user, ts, type, event)``. Periods are named by their first date: a day
itself, the Monday of the week (``date.weekday()``), the first of the month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

Event = tuple[str, dt.datetime, str, str]
TOUCHPOINTS = ("track", "page", "screen")


def start_of(day: dt.date, period: str) -> dt.date:
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def step(start: dt.date, period: str, n: int = 1) -> dt.date:
    """The period ``n`` periods after the one starting on ``start``."""
    if period == "day":
        return start + dt.timedelta(days=n)
    if period == "week":
        return start + dt.timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)


def _active(events: Iterable[Event], period: str, event: str) -> dict[str, set[dt.date]]:
    out: dict[str, set[dt.date]] = defaultdict(set)
    for user, ts, kind, name in events:
        if kind in TOUCHPOINTS and (event == "any" or name == event):
            out[user].add(start_of(ts.date(), period))
    return out


def _created(events: Sequence[Event], period: str, created: str, event: str) -> dict[str, dt.date]:
    first: dict[str, dt.datetime] = {}
    identify: dict[str, dt.datetime] = {}
    activity: dict[str, dt.datetime] = {}
    for user, ts, kind, name in events:
        first[user] = min(first.get(user, ts), ts)
        if kind == "identify":
            identify[user] = min(identify.get(user, ts), ts)
        if kind in TOUCHPOINTS and (event == "any" or name == event):
            activity[user] = min(activity.get(user, ts), ts)
    pick = {"first_event": first, "first_activity": activity, "first_identify": identify}[created]
    return {u: start_of((pick.get(u) or first[u]).date(), period) for u in first}


def lifecycle(
    events: Sequence[Event],
    period: str = "week",
    mode: str = "posthog",
    created: str = "first_event",
    event: str = "any",
) -> dict[tuple[str, str], int]:
    """``(period start ISO, status) -> persons`` (dormant positive), every period with a
    person in it, the dormant period after the last activity included.

    PostHog (https://posthog.com/docs/product-analytics/lifecycle): new when the period is
    the person's creation period, returning when active in the previous period, otherwise
    resurrecting; dormant in the period after an active one without activity. Amplitude
    (https://amplitude.com/docs/analytics/charts/lifecycle/lifecycle-interpret): current when
    active in the previous period, resurrected when active before the previous period,
    otherwise new; dormant alike."""
    active = _active(events, period, event)
    made = _created(events, period, created, event)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for user, periods in active.items():
        for p in sorted(periods):
            prev = step(p, period, -1)
            if mode == "posthog":
                if p == made[user]:
                    status = "new"
                elif prev in periods:
                    status = "returning"
                else:
                    status = "resurrecting"
            elif prev in periods:
                status = "current"
            elif any(q < prev for q in periods):
                status = "resurrected"
            else:
                status = "new"
            out[(p.isoformat(), status)] += 1
            after = step(p, period, 1)
            if after not in periods:
                out[(after.isoformat(), "dormant")] += 1
    return dict(out)


def stickiness(
    events: Sequence[Event], period: str = "week", event: str = "any"
) -> dict[tuple[str, int], int]:
    """``(period start ISO, k) -> persons active on exactly k distinct days of the period``."""
    days: dict[tuple[str, dt.date], set[dt.date]] = defaultdict(set)
    for user, ts, kind, name in events:
        if kind in TOUCHPOINTS and (event == "any" or name == event):
            days[(user, start_of(ts.date(), period))].add(ts.date())
    out: dict[tuple[str, int], int] = defaultdict(int)
    for (_, p), ds in days.items():
        out[(p.isoformat(), len(ds))] += 1
    return dict(out)
