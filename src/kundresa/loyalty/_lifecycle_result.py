"""The results of :func:`kundresa.loyalty.lifecycle` and :func:`kundresa.loyalty.stickiness`:
tables per period, a readable ``str()``, ``to_frame()`` and the Plotly charts the web page and
notebooks share (lifecycle bars with dormant below zero, PostHog style; stickiness bars).

>>> from kundresa.loyalty._lifecycle_engine import STATUSES
>>> r = LifecycleResult("posthog", "day", "any", "first_event", STATUSES["posthog"],
...     rows=({"period": "2026-01-05", "new": 1, "returning": 0, "resurrecting": 0,
...            "dormant": 0, "active": 1, "pulse": None},))
>>> r.to_frame().loc[0, "new"]
np.int64(1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundresa._results import Result
from kundresa.loyalty._lifecycle_engine import ALL

__all__ = ["COLORS", "LifecycleResult", "StickinessResult"]

#: bar colours per status position (new, returning/current, resurrecting/resurrected,
#: dormant): PostHog's blue, green, purple and red
COLORS = ("#1d4aff", "#2bb673", "#a742f5", "#f04f58")


def _pulse(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class LifecycleResult(Result):
    """Persons per period and lifecycle status (see :func:`~kundresa.loyalty.lifecycle`).

    ``rows`` has one row per period (``period`` is the first date of the period, ISO), a
    count per status of ``statuses`` (``dormant`` negative), ``active`` (the sum of the
    active statuses) and ``pulse`` = (new + resurrecting) / |dormant| (``None`` without
    dormant persons). ``by_group`` holds the same rows per breakdown group (a ``group``
    key; ``groups`` gives their order) when ``by`` or a journey map was given.
    """

    mode: str
    period: str
    event: str
    created: str
    statuses: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]
    by_group: tuple[Mapping[str, Any], ...] = ()
    groups: tuple[str, ...] = ()
    by: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    engine: str = field(default="", compare=False)
    seconds: float = field(default=0.0, compare=False)

    def to_frame(self, by: str | None = None) -> Any:
        """One row per period; ``by="group"``: one row per group x period.

        >>> LifecycleResult("posthog", "week", "any", "first_event", ("new",), ()).to_frame().empty
        True
        """
        import pandas as pd

        if by is None:
            return pd.DataFrame(list(self.rows))
        from kundresa._errors import InvalidOptionError

        if by != "group":
            raise InvalidOptionError("by", by, allowed=("group",))
        return pd.DataFrame(list(self.by_group))

    def pulse(self) -> tuple[float | None, ...]:
        """Pulse per period: (new + resurrecting) / |dormant| (Amplitude's "Pulse" view).

        >>> LifecycleResult("posthog", "week", "any", "first_event", ("new",), ()).pulse()
        ()
        """
        return tuple(r["pulse"] for r in self.rows)

    def plot(self, by: str | None = None) -> Any:
        """Stacked bars per period: the active statuses above zero, dormant below (PostHog's
        lifecycle chart); ``by="group"``: one panel per group (at most 8)."""
        from plotly.subplots import make_subplots

        groups = list(self.groups[:8]) if by == "group" else [ALL]
        fig = make_subplots(
            rows=len(groups), cols=1, shared_xaxes=True,
            subplot_titles=groups if by == "group" else None,
        )  # fmt: skip
        for i, g in enumerate(groups):
            rows = self.rows if g == ALL else [r for r in self.by_group if r["group"] == g]
            x = [r["period"] for r in rows]
            for status, color in zip(self.statuses, COLORS, strict=True):
                fig.add_bar(
                    name=status, x=x, y=[r[status] for r in rows], marker_color=color,
                    showlegend=i == 0, legendgroup=status, row=i + 1, col=1,
                )  # fmt: skip
        fig.add_hline(y=0, line_width=1, line_color="#1f2933")
        fig.update_layout(
            barmode="relative",
            bargap=0.15,
            title=f"Lifecycle per {self.period} ({self.mode})",
            height=max(420, 260 * len(groups)),
            legend={"orientation": "h", "y": -0.15},
        )
        return fig

    def __str__(self) -> str:
        if not self.rows:
            return "no activity"
        heads = [*self.statuses, "pulse"]
        widths = [max(len(h), 7) for h in heads]
        lines = [
            f"lifecycle per {self.period} ({self.mode}; event {self.event}; created "
            f"{self.created})",
            f"{self.period:<11}"
            + "".join(f" {h:>{w}}" for h, w in zip(heads, widths, strict=True)),
        ]
        for r in self.rows:
            cells = [f"{r[s]:,}" for s in self.statuses] + [_pulse(r["pulse"])]
            lines.append(
                f"{r['period']:<11}"
                + "".join(f" {c:>{w}}" for c, w in zip(cells, widths, strict=True))
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class StickinessResult(Result):
    """Days active per week or month (see :func:`~kundresa.loyalty.stickiness`).

    ``rows`` has one row per ``days_active`` = 1..``max_days_active`` over every period of the range
    (a person counted once per period they were active in): ``persons`` active on exactly
    that many days, ``persons_at_least`` on at least that many, ``share`` and
    ``share_at_least`` of the active person-periods, and ``value``: what the mode's chart
    shows (``posthog``: persons, ``amplitude``: the share; ``cumulative``: "at least").
    ``by_period`` is the same per period (``period`` key), ``by_group`` per breakdown
    group (``group`` key).

    >>> StickinessResult("posthog", "week", "any", False, 7, ()).to_frame().empty
    True
    """

    mode: str
    period: str
    event: str
    cumulative: bool
    max_days_active: int
    rows: tuple[Mapping[str, Any], ...]
    by_period: tuple[Mapping[str, Any], ...] = ()
    by_group: tuple[Mapping[str, Any], ...] = ()
    groups: tuple[str, ...] = ()
    by: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    engine: str = field(default="", compare=False)
    seconds: float = field(default=0.0, compare=False)

    def to_frame(self, by: str | None = None) -> Any:
        """One row per number of days; ``by="period"`` / ``"group"``: per period or group."""
        import pandas as pd

        if by is None:
            return pd.DataFrame(list(self.rows))
        from kundresa._errors import InvalidOptionError

        if by not in ("period", "group"):
            raise InvalidOptionError("by", by, allowed=("period", "group"))
        return pd.DataFrame(list(self.by_period if by == "period" else self.by_group))

    def plot(self) -> Any:
        """Bars of the mode's value per number of days active (one series per group)."""
        import plotly.graph_objects as go

        fig = go.Figure()
        series = [(ALL, self.rows)] if not self.groups else [
            (g, [r for r in self.by_group if r["group"] == g]) for g in self.groups[:8]
        ]  # fmt: skip
        for i, (name, rows) in enumerate(series):
            fig.add_bar(
                name="persons" if name == ALL else name,
                x=[r["days_active"] for r in rows],
                y=[r["value"] for r in rows],
                marker_color=COLORS[0] if name == ALL else None,
                showlegend=name != ALL or i > 0,
            )
        share = self.mode == "amplitude"
        fig.update_layout(
            barmode="group",
            title=f"Stickiness: days active per {self.period} ({self.mode})",
            xaxis={"title": {"text": "days active"}, "dtick": 1},
            yaxis={"title": {"text": "share" if share else "persons"},
                   "tickformat": ".0%" if share else ""},
        )  # fmt: skip
        return fig

    def __str__(self) -> str:
        if not self.rows:
            return "no activity"
        what = "at least" if self.cumulative else "exactly"
        lines = [
            f"stickiness per {self.period} ({self.mode}; event {self.event}; {what} k days)",
            f"{'days':>4} {'persons':>9} {'at least':>9} {'share':>7} {'share >=':>8}",
        ]
        for r in self.rows:
            lines.append(
                f"{r['days_active']:>4} {r['persons']:>9,} {r['persons_at_least']:>9,} "
                f"{100 * r['share']:>6.1f}% {100 * r['share_at_least']:>7.1f}%"
            )
        return "\n".join(lines)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
