"""Retention: of the persons who did a start event, how many came back (did the return
event) in each later period, by cohort of start period, with PostHog, Amplitude and
Mixpanel semantics as explicit parameters (see ``docs/loyalty-retention.md``).

>>> parse_brackets("0-7d,8-30d,31-90d")
((0, 7), (8, 30), (31, 90))
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa.funnel import Rate
from kundresa.loyalty._retention_result import (
    CohortRow,
    MeanRow,
    RetentionResult,
    mean_row,
    rate_of,
)
from kundresa.loyalty._retention_sql import (
    ANY,
    BASE,
    ROLLING_DAYS,
    Fetched,
    Plan,
    period_label,
    period_start_day,
    run_plan,
)

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "CLOCKS",
    "COHORTS",
    "MODES",
    "PERIODS",
    "REFERENCES",
    "parse_brackets",
    "retention",
]

#: first_time: a person's cohort is the period of their first start event (PostHog "first
#: time", Mixpanel "birth"); recurring: every period with a start event is an entry
#: (PostHog "recurring", Mixpanel "compounded")
COHORTS = ("first_time", "recurring")
PERIODS = ("day", "week", "month")
#: on: returned in period N (Amplitude "N-day"); on_or_after: in N or any later period
#: (Amplitude "unbounded", Mixpanel "on or after")
MODES = ("on", "on_or_after")
#: calendar periods (PostHog; Amplitude/Mixpanel "calendar") or rolling 24-hour periods
#: from each person's start (Amplitude's and Mixpanel's default)
CLOCKS = ("calendar", "rolling")
#: the percentage of the cohort's size, or of the previous period's count
REFERENCES = ("cohort", "previous")
#: the most periods (columns after period 0) and brackets
MAX_PERIODS = 400
MAX_BRACKETS = 50
MAX_DAYS = 3650

_BRACKET = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*([dw]?)\s*$")
_BRACKET_FIX = (
    "write increasing, non-overlapping day ranges such as '0-7d,8-30d,31-90d' "
    "(a unit d or w; '1w' is days 7 to 13)"
)


def parse_brackets(text: str) -> tuple[tuple[int, int], ...]:
    """Custom brackets (Amplitude's bracket retention) as (first day, last day) after the
    start, both inclusive: ``"0-7d,8-30d"``; ``w`` counts weeks (``"1-2w"``: days 7 to 20).

    >>> parse_brackets("0d, 1-6d, 1-3w")
    ((0, 0), (1, 6), (7, 27))
    >>> parse_brackets("8-30d,0-7d")
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: brackets: '8-30d,0-7d' is not allowed; write increasing, ...
    """
    items = str(text).split(",")
    if not 0 < len(items) <= MAX_BRACKETS:
        raise InvalidOptionError("brackets", text, fix=_BRACKET_FIX)
    out: list[tuple[int, int]] = []
    for item in items:
        m = _BRACKET.match(item)
        if not m:
            raise InvalidOptionError("brackets", text, fix=_BRACKET_FIX)
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if m.group(3) == "w":
            lo, hi = 7 * lo, 7 * hi + 6
        if hi < lo or hi > MAX_DAYS or (out and lo <= out[-1][1]):
            raise InvalidOptionError("brackets", text, fix=_BRACKET_FIX)
        out.append((lo, hi))
    return tuple(out)


def _bracket_label(lo: int, hi: int) -> str:
    return f"{lo}d" if lo == hi else f"{lo}-{hi}d"


def _day_of(value: str | dt.date | None, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidOptionError(
                field, value, fix="write a date YYYY-MM-DD, e.g. 2026-01-31"
            ) from None
    return (value - BASE).days


def _choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidOptionError(field, value, allowed=allowed)
    return str(value)


def retention(
    ws: Workspace,
    start_event: str = "any",
    return_event: str = "any",
    *,
    cohort: str = "first_time",
    period: str | None = None,
    brackets: str | None = None,
    mode: str = "on",
    clock: str = "calendar",
    reference: str = "cohort",
    periods: int = 10,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    by: str | None = None,
    journey_map: Any = None,
) -> RetentionResult:
    """The retention table: cohorts of persons by start period, and per later period how
    many came back, computed in the engine (DuckDB or Spark; only the small cohort table
    travels back). Times are UTC.

    - ``start_event`` / ``return_event``: event names, ``"any"`` for any touchpoint event
      (PostHog's "starting/returning event", Amplitude's "starting/return event",
      Mixpanel's "born event"/"event").
    - ``cohort``: ``"first_time"`` groups a person by the period of their first start
      event ever (PostHog "first time", Mixpanel "birth"/"first time");
      ``"recurring"`` makes every period with a start event an entry of its own (PostHog
      "recurring", Mixpanel "compounded"/"recurring"); an entry starts at its first start
      event in that period.
    - ``period``: ``"day"``, ``"week"`` (ISO weeks, Monday) or ``"month"`` (default week),
      or ``brackets``: custom day ranges ``"0-7d,8-30d,31-90d"`` (Amplitude "bracket"
      retention; the cohort rows are then weeks). Not both.
    - ``mode``: ``"on"`` counts a return in period N (Amplitude "N-day", PostHog's
      default); ``"on_or_after"`` in N or any later period, also beyond the last period
      shown (Amplitude "unbounded", Mixpanel "on or after").
    - ``clock``: ``"calendar"`` periods (PostHog; Amplitude/Mixpanel "calendar" mode) or
      ``"rolling"`` periods from each entry's start time: 24 hours, 7 days or 30 days
      (Amplitude's 24-hour windows, Mixpanel's rolling default). A return exactly 24 h
      after the start is in day 1 (Amplitude: "day 1 runs from hour 24 to hour 48").
    - ``reference``: the percentage of the cohort's size (``"cohort"``: every vendor's
      default) or of the previous period's count (``"previous"``; period 1 of the cohort's
      size: the start period is the cohort, as PostHog's period 0).
    - ``periods``: the last period number shown (columns 0..periods).
    - ``date_from`` / ``date_to``: only entries starting on these days (inclusive).
    - ``by``: a breakdown by an events column or ``properties.KEY`` of the entry's start
      event; ``journey_map``: a breakdown by persona (the map's persona rules). The 20
      largest groups are shown, the rest summed as ``(other)``.

    A return is a return event strictly after the entry's start (an event at the very
    instant of the start is part of it). Each cell has the count, the rate with its 95%
    Wilson interval (the funnel's), and a status: ``complete``, ``incomplete`` (the period
    is still running at the last day with data: the count so far) or ``future`` (not
    begun: no count, never 0). The weighted mean row sums counts over sizes of the cohorts
    whose period is complete only (a cohort that cannot have reached a period yet does not
    pull the mean down).

    >>> import tempfile, pathlib, datetime as dt
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t0 = dt.datetime(2026, 1, 5, 9)
    >>> rows = [{"event_id": f"e{i}", "user_id": u, "ts": t0 + dt.timedelta(days=day),
    ...          "type": "track", "event": "Order Completed"}
    ...         for i, (u, day) in enumerate([("a", 0), ("a", 7), ("b", 0), ("b", 14),
    ...                                       ("c", 7)])]
    >>> pq.write_table(pa.Table.from_pylist(rows), d / "e.parquet")
    >>> ws = Workspace.open(d / "w.duckdb")
    >>> _ = ws.ingest([d / "e.parquet"])
    >>> r = retention(ws, "Order Completed", "Order Completed", periods=2)
    >>> [(row.cohort, row.size, [c.count for c in row.cells]) for row in r.rows()]
    [('2026-01-05', 2, [0, 1, 1]), ('2026-01-12', 1, [0, 0, None])]
    >>> [c.rate.value for c in r.mean_row().cells]
    [0.0, 0.5, None]
    """
    started = time.perf_counter()
    cohort = _choice("cohort", cohort, COHORTS)
    mode = _choice("mode", mode, MODES)
    clock = _choice("clock", clock, CLOCKS)
    reference = _choice("reference", reference, REFERENCES)
    if period is not None and brackets is not None:
        raise InvalidOptionError(
            "brackets", brackets, fix="give period or brackets, not both (brackets: rows by week)"
        )
    row_period = _choice("period", period or "week", PERIODS)
    bounds = parse_brackets(brackets) if brackets is not None else ()
    if isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= MAX_PERIODS:
        raise InvalidOptionError(
            "periods", periods, fix=f"use a whole number from 1 to {MAX_PERIODS}"
        )
    from_day, to_day = _day_of(date_from, "date_from"), _day_of(date_to, "date_to")
    if from_day is not None and to_day is not None and to_day < from_day:
        raise InvalidOptionError("date_to", date_to, fix="give a day on or after date_from")
    if by is not None and journey_map is not None:
        raise InvalidOptionError("by", by, fix="give by or map, not both")
    jm = None
    if journey_map is not None:
        from kundresa.attribution._stages import load_journey_map

        jm = load_journey_map(journey_map)
    if by is not None:
        _check_by(ws, by)
    for field_name, name in (("start_event", start_event), ("return_event", return_event)):
        if not isinstance(name, str) or not name.strip():
            raise InvalidOptionError(field_name, name, fix="name an event, or 'any'")
        if name != ANY:
            try:
                ws.require_event(name)
            except Exception as exc:
                from kundresa._errors import NotFoundError

                if isinstance(exc, NotFoundError):
                    raise NotFoundError(field_name, name, candidates=ws.event_names()) from None
                raise
    plan = Plan(
        start_event, return_event, cohort, row_period, bounds, mode, clock, periods,
        from_day, to_day, by, jm,
    )  # fmt: skip
    fetched = run_plan(ws, plan)
    labels = (
        tuple(_bracket_label(lo, hi) for lo, hi in bounds)
        if bounds
        else tuple(str(k) for k in range(periods + 1))
    )
    parameters = {
        "start_event": start_event,
        "return_event": return_event,
        "cohort": cohort,
        "period": row_period,
        "brackets": [list(b) for b in bounds] or None,
        "mode": mode,
        "clock": clock,
        "reference": reference,
        "periods": periods,
        "date_from": None if from_day is None else _iso(from_day),
        "date_to": None if to_day is None else _iso(to_day),
        "by": by,
        "journey_map": None if jm is None else jm.title,
    }
    cohorts, means = _assemble(plan, fetched, reference, len(labels))
    notes: tuple[str, ...] = ()
    if not fetched.sizes:
        notes = ("no cohort entries: no start event in the date range",)
    return RetentionResult(
        parameters=parameters,
        labels=labels,
        cohorts=cohorts,
        mean=means,
        groups=tuple(fetched.groups),
        as_of=None if fetched.end_day is None else _iso(fetched.end_day - 1),
        notes=notes,
        engine=ws.engine,
        seconds=time.perf_counter() - started,
    )


def _iso(day: int) -> str:
    return (BASE + dt.timedelta(days=day)).isoformat()


def _check_by(ws: Workspace, by: str) -> None:
    columns = ws.events().columns
    if by.startswith("properties.") and len(by) > len("properties."):
        return
    if by not in columns or by == "properties":
        raise InvalidOptionError("by", by, allowed=(*columns, "properties.KEY"))


def _status(plan: Plan, row: int, k: int, end_day: int) -> str:
    """Whether period (bracket) ``k`` of the cohort row ``row`` is over, running or not
    begun at ``end_day`` (the day after the last day with data)."""
    p = plan.row_period
    first, after = period_start_day(p, row), period_start_day(p, row + 1)
    if plan.brackets:
        lo, hi = plan.brackets[k]
        begin = first + lo
        end = after + hi + (1 if plan.clock == "rolling" else 0)
    elif plan.clock == "calendar":
        begin, end = period_start_day(p, row + k), period_start_day(p, row + k + 1)
    else:
        length = ROLLING_DAYS[p]
        begin, end = first + k * length, after + (k + 1) * length
    if end <= end_day:
        return "complete"
    return "future" if begin >= end_day else "incomplete"


def _assemble(
    plan: Plan, fetched: Fetched, reference: str, width: int
) -> tuple[tuple[CohortRow, ...], tuple[MeanRow, ...]]:
    """The cohort rows (all persons first, then per group) and their mean rows."""
    end_day = fetched.end_day or 0
    size: dict[str | None, dict[int, int]] = {None: {}}
    raw: dict[str | None, dict[int, dict[int, int]]] = {None: {}}
    for g, cp, n in fetched.sizes:
        for key in (None, g):
            by_cp = size.setdefault(key, {})
            by_cp[cp] = by_cp.get(cp, 0) + n
    for g, cp, k, n in fetched.counts:
        for key in (None, g):
            by_k = raw.setdefault(key, {}).setdefault(cp, {})
            by_k[k] = by_k.get(k, 0) + n
    keys: list[str | None] = [None, *fetched.groups]
    status = {cp: [_status(plan, cp, k, end_day) for k in range(width)] for cp in size[None]}
    cohorts: list[CohortRow] = []
    means: list[MeanRow] = []
    for group in keys:
        out: list[CohortRow] = []
        for cp, n in sorted(size.get(group, {}).items()):
            counts = _column_counts(plan, raw.get(group, {}).get(cp, {}), width)
            states = status[cp]
            shown: list[int | None] = []
            rates: list[Rate] = []
            for k in range(width):
                count = None if states[k] == "future" else counts[k]
                shown.append(count)
                if count is None:
                    rates.append(Rate(None, None, None))
                elif reference == "previous" and k > 1:
                    prev = shown[k - 1]
                    rates.append(
                        rate_of(count, prev) if prev is not None else Rate(None, None, None)
                    )
                else:
                    rates.append(rate_of(count, n))
            out.append(
                CohortRow(
                    group,
                    period_label(plan.row_period, cp),
                    n,
                    tuple(shown),
                    tuple(r.value for r in rates),
                    tuple(r.low for r in rates),
                    tuple(r.high for r in rates),
                    tuple(states),
                )
            )
        cohorts += out
        means.append(mean_row(group, out, width, reference))
    return tuple(cohorts), tuple(means)


def _column_counts(plan: Plan, ks: dict[int, int], width: int) -> list[int]:
    """The count of each column from the engine's counts: as they are ("on"), or summed
    from the top ("on or after": the last return's period is N or later)."""
    if plan.mode == "on":
        return [ks.get(k, 0) for k in range(width)]
    if plan.brackets:
        return [sum(v for d, v in ks.items() if d >= lo) for lo, _ in plan.brackets]
    return [sum(v for k2, v in ks.items() if k2 >= k) for k in range(width)]


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
