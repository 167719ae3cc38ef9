"""The result of :func:`kundresa.loyalty.repeat_purchase`.

>>> r = RepeatPurchaseResult("Order Completed", True, buyers=4, repeat_buyers=1)
>>> r.repeat_rate, r.to_dict()["buyers"]
(0.25, 4)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundresa._errors import InvalidOptionError
from kundresa._results import Result

__all__ = ["RepeatPurchaseResult"]


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: Any, digits: int = 1) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


@dataclass(frozen=True)
class RepeatPurchaseResult(Result):
    """Repeat purchase: rate, orders per customer, time between orders, second-order
    conversion by cohort, revenue per customer, and breakdowns.

    - ``buyers`` persons with a purchase; ``repeat_buyers`` those with a second one (within
      ``within_seconds`` of the first when given); ``repeat_rate`` their share.
    - ``orders_per_customer``: rows ``{orders: "1" .. "N+", customers, share}``.
    - ``gaps``: time between a customer's consecutive orders (``count``, ``mean_seconds``,
      ``q1_seconds``, ``median_seconds``, ``q3_seconds``) and ``histogram`` rows ``{bin,
      low_seconds, high_seconds, gaps, share}``.
    - ``cohorts``: per cohort (``cohort_period`` of the first purchase) ``{cohort, buyers,
      cells: ({window, window_seconds, second, share, complete}, ...)}``: ``complete`` is False when
      some of the cohort's first purchases are less than the window before the end of the
      data (the share may still grow).
    - ``revenue``: ``total, mean, median`` per customer, ``first`` (first orders),
      ``repeat`` (later orders), ``repeat_share``.
    - ``groups`` (``by``) and ``personas`` (``map``): rows ``{group, buyers, repeat_buyers,
      repeat_rate, orders_mean, revenue_total, revenue_mean, revenue_median, first_revenue,
      repeat_revenue, median_gap_seconds}``.
    """

    purchase_event: str
    distinct_days: bool
    buyers: int = 0
    repeat_buyers: int = 0
    orders: int = 0
    within_seconds: float | None = None
    orders_per_customer: tuple[Mapping[str, Any], ...] = ()
    gaps: Mapping[str, Any] = field(default_factory=dict)
    cohorts: tuple[Mapping[str, Any], ...] = ()
    revenue: Mapping[str, Any] = field(default_factory=dict)
    by: str | None = None
    groups: tuple[Mapping[str, Any], ...] = ()
    personas: tuple[Mapping[str, Any], ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = field(default=0.0, compare=False)
    engine: str = field(default="", compare=False)

    @property
    def repeat_rate(self) -> float | None:
        """Share of buyers with a second purchase (None without buyers)."""
        return round(self.repeat_buyers / self.buyers, 6) if self.buyers else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived ``repeat_rate``."""
        out = super().to_dict()
        out["repeat_rate"] = self.repeat_rate
        return out

    def to_frame(self, table: str = "orders") -> Any:
        """A table as a pandas DataFrame: ``orders`` (orders per customer, the default),
        ``gaps`` (the histogram), ``cohorts`` (one row per cohort x window), ``groups`` or
        ``personas``.

        >>> RepeatPurchaseResult("Order Completed", True).to_frame("cohorts").empty
        True
        """
        import pandas as pd

        rows: list[Mapping[str, Any]]
        if table == "orders":
            rows = list(self.orders_per_customer)
        elif table == "gaps":
            rows = list(self.gaps.get("histogram", ()))
        elif table == "cohorts":
            rows = [
                {"cohort": c["cohort"], "buyers": c["buyers"], **cell}
                for c in self.cohorts
                for cell in c["cells"]
            ]
        elif table in ("groups", "personas"):
            rows = list(self.groups if table == "groups" else self.personas)
        else:
            raise InvalidOptionError(
                "table", table, allowed=("orders", "gaps", "cohorts", "groups", "personas")
            )
        return pd.DataFrame([dict(r) for r in rows])

    def plot(self) -> Any:
        """Bars of customers by number of orders and of the time between orders."""
        from plotly.subplots import make_subplots

        fig = make_subplots(rows=1, cols=2, subplot_titles=("orders per customer", "days"))
        fig.add_bar(
            name="customers",
            x=[r["orders"] for r in self.orders_per_customer],
            y=[r["customers"] for r in self.orders_per_customer],
            row=1,
            col=1,
        )
        hist = self.gaps.get("histogram", ())
        fig.add_bar(
            name="gaps", x=[r["bin"] for r in hist], y=[r["gaps"] for r in hist], row=1, col=2
        )
        fig.update_layout(title="Repeat purchase", showlegend=False)
        return fig

    def __str__(self) -> str:
        within = (
            f" within {self.within_seconds / 86400:g} d" if self.within_seconds is not None else ""
        )
        days = ", distinct days" if self.distinct_days else ""
        lines = [
            f"repeat purchase of {self.purchase_event!r}{days}: {self.buyers:,} buyers, "
            f"{self.repeat_buyers:,} bought again{within} ({_pct(self.repeat_rate)})",
            "orders per customer: "
            + ", ".join(f"{r['orders']}: {r['customers']:,}" for r in self.orders_per_customer),
        ]
        g = self.gaps
        if g.get("count"):
            d = {k: g[f"{k}_seconds"] / 86400 for k in ("median", "q1", "q3", "mean")}
            lines.append(
                f"days between orders: median {_num(d['median'])} "
                f"(quartiles {_num(d['q1'])}-{_num(d['q3'])}), mean {_num(d['mean'])}, "
                f"{g['count']:,} gaps"
            )
        rv = self.revenue
        if rv:
            lines.append(
                f"revenue per customer: mean {_num(rv['mean'], 2)}, median "
                f"{_num(rv['median'], 2)}; total {_num(rv['total'], 2)}, repeat orders "
                f"{_pct(rv['repeat_share'])}"
            )
        if self.cohorts:
            heads = [cell["window"] for cell in self.cohorts[0]["cells"]]
            lines += ["", f"{'cohort':<12}{'buyers':>8}" + "".join(f"{h:>9}" for h in heads)]
            for c in self.cohorts:
                cells = "".join(
                    f"{_pct(cell['share']) + ('' if cell['complete'] else '*'):>9}"
                    for cell in c["cells"]
                )
                lines.append(f"{c['cohort']:<12}{c['buyers']:>8,}{cells}")
            lines.append("* incomplete: the window runs past the end of the data")
        for name, rows in ((self.by or "group", self.groups), ("persona", self.personas)):
            if rows:
                lines += ["", f"{name:<20}{'buyers':>8}{'repeat':>9}{'orders':>8}{'mean rev':>10}"]
                for r in rows:
                    lines.append(
                        f"{str(r['group'])[:19]:<20}{r['buyers']:>8,}{_pct(r['repeat_rate']):>9}"
                        f"{_num(r['orders_mean'], 2):>8}{_num(r['revenue_mean'], 2):>10}"
                    )
        return "\n".join(lines)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
