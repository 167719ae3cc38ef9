"""The funnel's result object, its statistics and its renderings (table, bars, Plotly).

>>> wilson(45, 100).low < 0.45 < wilson(45, 100).high
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundresa._results import Result
from kundresa._util import humanize_seconds

__all__ = [
    "BreakdownRow",
    "DropOff",
    "FunnelResult",
    "FunnelStep",
    "Rate",
    "TrendRow",
    "wilson",
]

#: time-to-convert histogram edges in seconds (upper bounds, inclusive)
HIST_EDGES: tuple[tuple[str, float], ...] = (
    ("<=1m", 60),
    ("<=5m", 300),
    ("<=30m", 1800),
    ("<=1h", 3600),
    ("<=6h", 21600),
    ("<=1d", 86400),
    ("<=3d", 259200),
    ("<=7d", 604800),
    ("<=30d", 2592000),
    (">30d", math.inf),
)


@dataclass(frozen=True)
class Rate:
    """A proportion with its 95% Wilson score interval.

    >>> Rate(0.5, 0.4, 0.6).value
    0.5
    """

    value: float | None
    low: float | None
    high: float | None


def wilson(successes: int, trials: int, z: float = 1.959963984540054) -> Rate:
    """The proportion ``successes / trials`` with its Wilson score interval (95% default).

    >>> r = wilson(0, 10); (r.value, r.low, round(r.high, 3))
    (0.0, 0.0, 0.278)
    """
    if trials <= 0:
        return Rate(None, None, None)
    p = successes / trials
    den = 1 + z * z / trials
    mid = (p + z * z / (2 * trials)) / den
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    low = 0.0 if successes == 0 else max(0.0, mid - half)
    high = 1.0 if successes == trials else min(1.0, mid + half)
    return Rate(p, low, high)


@dataclass(frozen=True)
class FunnelStep:
    """One step's numbers: count, conversions, drop-off and time to convert.

    >>> FunnelStep(1, "A", ("A",), False, 10, wilson(10, 10), wilson(10, 10), 0,
    ...            None, None, ()).count
    10
    """

    number: int
    label: str
    events: tuple[str, ...]
    optional: bool
    count: int
    from_start: Rate
    from_previous: Rate
    drop_off: int
    median_seconds: float | None
    p90_seconds: float | None
    histogram: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class TrendRow:
    """Conversion of the units that entered in one period.

    >>> TrendRow("2026-01-05", 10, 4, wilson(4, 10)).converted
    4
    """

    period: str
    entered: int
    converted: int
    conversion: Rate


@dataclass(frozen=True)
class BreakdownRow:
    """Step counts of the units whose attributed breakdown value is ``value``.

    >>> BreakdownRow("web", (10, 5), wilson(5, 10)).counts
    (10, 5)
    """

    value: str
    counts: tuple[int, ...]
    conversion: Rate


@dataclass(frozen=True)
class DropOff:
    """Who reached the step before ``step`` but not ``step``, and what they did next.

    >>> DropOff(2, 1, ("p1",), (("Page Viewed", 1),)).ids
    ('p1',)
    """

    step: int
    count: int
    ids: tuple[str, ...]
    next_events: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class FunnelResult(Result):
    """Everything a funnel computes; see :func:`kundresa.funnel` for the semantics.

    >>> r = FunnelResult(parameters={}, steps=(), units=0, entered=0, excluded=0,
    ...                  trend_period="week", trend=(), breakdown_by=None,
    ...                  attribution="first", breakdown=(), drop_offs=(), engine="duckdb",
    ...                  kernel="fast", seconds=0.0)
    >>> r.counts
    ()
    """

    _renamed = {"dropoffs": "drop_offs", "dropoff_ids": "drop_off_ids"}  # noqa: RUF012

    parameters: Mapping[str, Any]
    steps: tuple[FunnelStep, ...]
    units: int
    entered: int
    excluded: int
    trend_period: str
    trend: tuple[TrendRow, ...]
    breakdown_by: str | None
    attribution: str
    breakdown: tuple[BreakdownRow, ...]
    drop_offs: tuple[DropOff, ...]
    #: run metadata (how it was computed, not what it is): never compared nor hashed
    engine: str = field(compare=False)
    kernel: str = field(compare=False)
    seconds: float = field(compare=False)
    notes: tuple[str, ...] = field(default=())

    @property
    def counts(self) -> tuple[int, ...]:
        """Units (or attempts with ``entry="totals"``) per step."""
        return tuple(s.count for s in self.steps)

    def drop_off_ids(self, step: int) -> tuple[str, ...]:
        """Ids of the units that reached the step before ``step`` (1-based) but not it."""
        for d in self.drop_offs:
            if d.step == step:
                return d.ids
        return ()

    def to_frame(self) -> Any:
        """One row per step."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "step": s.number,
                    "label": s.label,
                    "count": s.count,
                    "from_start": s.from_start.value,
                    "from_start_low": s.from_start.low,
                    "from_start_high": s.from_start.high,
                    "from_previous": s.from_previous.value,
                    "drop_off": s.drop_off,
                    "median_seconds": s.median_seconds,
                    "p90_seconds": s.p90_seconds,
                }
                for s in self.steps
            ]
        )

    def plot(self) -> Any:
        """A Plotly funnel chart (one trace per breakdown value when broken down)."""
        import plotly.graph_objects as go

        labels = [f"{s.number}. {s.label}" for s in self.steps]
        fig = go.Figure()
        if self.breakdown:
            for row in self.breakdown[:10]:
                fig.add_trace(go.Funnel(name=row.value, y=labels, x=list(row.counts)))
        else:
            fig.add_trace(
                go.Funnel(y=labels, x=list(self.counts), textinfo="value+percent initial")
            )
        fig.update_layout(
            title=f"Funnel ({self.parameters.get('entry')}, {self.parameters.get('order')})"
        )
        return fig

    def __str__(self) -> str:
        p = self.parameters
        head = (
            f"funnel  order={p.get('order')}  entry={p.get('entry')}  "
            f"window={_dur(p.get('window_seconds'))}  unit={p.get('unit')}  "
            f"({self.engine}, {self.kernel} kernel, {self.seconds:.2f} s)"
        )
        lines = [head]
        if self.excluded:
            lines.append(f"excluded by 'drop' exclusions: {self.excluded:,}")
        width = max((len(s.label) for s in self.steps), default=4) + 4
        top = max(self.counts, default=0) or 1
        lines.append(
            f"{'step':<{width}} {'count':>9} {'of start':>9} {'95% CI':>13} {'of prev':>8} "
            f"{'drop':>8} {'median':>7} {'p90':>7}"
        )
        for s in self.steps:
            ci = (
                f"{s.from_start.low:.0%}-{s.from_start.high:.0%}"
                if s.from_start.low is not None and s.from_start.high is not None
                else "-"
            )
            lines.append(
                f"{f'{s.number}. {s.label}' + (' (opt)' if s.optional else ''):<{width}} "
                f"{s.count:>9,} {_pct(s.from_start.value):>9} {ci:>13} "
                f"{_pct(s.from_previous.value):>8} {s.drop_off:>8,} "
                f"{_dur(s.median_seconds):>7} {_dur(s.p90_seconds):>7}"
            )
        lines.append("")
        for s in self.steps:
            bar = "█" * max(0 if s.count == 0 else 1, round(40 * s.count / top))
            lines.append(f"{s.number:>2} {bar} {s.count:,}")
        if self.breakdown:
            lines.append("")
            lines.append(f"by {self.breakdown_by} ({self.attribution}):")
            for b in self.breakdown[:15]:
                counts = " → ".join(f"{c:,}" for c in b.counts)
                lines.append(f"  {b.value:<20} {counts}   {_pct(b.conversion.value)}")
        for d in self.drop_offs:
            if d.count and d.next_events:
                nxt = ", ".join(f"{e} ({n:,})" for e, n in d.next_events[:3])
                lines.append(f"dropped before step {d.step}: {d.count:,}; next: {nxt}")
        lines.extend(self.notes)
        return "\n".join(lines)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _dur(seconds: Any) -> str:
    return humanize_seconds(seconds, "-")
