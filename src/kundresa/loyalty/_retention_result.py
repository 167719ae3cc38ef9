"""The retention analysis' result: the cohort triangle, its weighted mean row, renderings.

A :class:`RetentionResult` holds one :class:`CohortRow` per (breakdown group, start
period) with a :class:`RetentionCell` per period (or bracket), and one :class:`MeanRow`
per group. A cell's ``status`` says whether its period is over (``complete``), running
(``incomplete``: the count so far, flagged) or not begun yet (``future``: no count, never
reported as 0).

>>> cell = RetentionCell(1, 3, wilson(3, 10), "complete")
>>> cell.rate.value
0.3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundresa._results import Result
from kundresa.funnel import Rate, wilson

__all__ = [
    "STATUSES",
    "CohortRow",
    "MeanCell",
    "MeanRow",
    "RetentionCell",
    "RetentionResult",
    "mean_row",
    "rate_of",
]

#: a cell's status: the period is over, still running, or not begun
STATUSES = ("complete", "incomplete", "future")


@dataclass(frozen=True)
class RetentionCell:
    """One period of one cohort: how many of its members came back, and the rate
    (with its 95% Wilson interval) of the chosen reference (:meth:`CohortRow.cell`).

    >>> RetentionCell(2, None, Rate(None, None, None), "future").count is None
    True
    """

    period: int
    count: int | None
    rate: Rate
    status: str


@dataclass(frozen=True)
class CohortRow:
    """The members whose cohort entry is in one start period (``cohort``: its first day),
    in one breakdown ``group`` (``None``: all). Per period (column): ``counts`` (``None``
    when the period has not begun), ``rates`` with their Wilson interval ``low``/``high``,
    and ``status`` (see :data:`STATUSES`). Columns as arrays keep the JSON small (as
    Mixpanel's ``counts``).

    >>> row = CohortRow(None, "2026-01-05", 10, (10, 4), (1.0, 0.4), (0.72, 0.17),
    ...                 (1.0, 0.69), ("complete", "incomplete"))
    >>> row.cell(1).rate.value, row.cell(1).status
    (0.4, 'incomplete')
    """

    group: str | None
    cohort: str
    size: int
    counts: tuple[int | None, ...]
    rates: tuple[float | None, ...]
    low: tuple[float | None, ...]
    high: tuple[float | None, ...]
    status: tuple[str, ...]

    def cell(self, k: int) -> RetentionCell:
        """Period (column) ``k`` as one object."""
        return RetentionCell(
            k, self.counts[k], Rate(self.rates[k], self.low[k], self.high[k]), self.status[k]
        )

    @property
    def cells(self) -> tuple[RetentionCell, ...]:
        """Every period as :class:`RetentionCell` objects."""
        return tuple(self.cell(k) for k in range(len(self.counts)))


@dataclass(frozen=True)
class MeanCell:
    """The weighted mean of one period over the cohorts whose period is complete:
    ``count`` returned of ``trials`` (their sizes, or their previous periods' counts),
    over ``cohorts`` cohorts.

    >>> MeanCell(1, 6, 20, 2, wilson(6, 20)).rate.value
    0.3
    """

    period: int
    count: int
    trials: int
    cohorts: int
    rate: Rate


@dataclass(frozen=True)
class MeanRow:
    """The weighted mean row of one breakdown group (``None``: all): per period the sum of
    the counts (``counts``) over the sum of the references (``trials``) of ``cohorts``
    complete cohorts, the rate and its Wilson interval.

    >>> MeanRow(None, 30, (6,), (20,), (2,), (0.3,), (0.15,), (0.52,)).cell(0).rate.value
    0.3
    """

    group: str | None
    size: int
    counts: tuple[int, ...]
    trials: tuple[int, ...]
    cohorts: tuple[int, ...]
    rates: tuple[float | None, ...]
    low: tuple[float | None, ...]
    high: tuple[float | None, ...]

    def cell(self, k: int) -> MeanCell:
        """Period (column) ``k`` as one object."""
        rate = Rate(self.rates[k], self.low[k], self.high[k])
        return MeanCell(k, self.counts[k], self.trials[k], self.cohorts[k], rate)

    @property
    def cells(self) -> tuple[MeanCell, ...]:
        """Every period as :class:`MeanCell` objects."""
        return tuple(self.cell(k) for k in range(len(self.counts)))


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


@dataclass(frozen=True)
class RetentionResult(Result):
    """Everything :func:`kundresa.loyalty.retention` computes (see it for the semantics).

    >>> r = RetentionResult(parameters={}, labels=("0", "1"), cohorts=(), mean=(),
    ...                     groups=(), as_of="2026-01-31", engine="duckdb", seconds=0.0)
    >>> r.to_frame().columns.tolist()
    ['group', 'cohort', 'size', '0', '1']
    """

    parameters: Mapping[str, Any]
    #: the column labels: period numbers ("0", "1", ...) or the brackets ("0-7d", ...)
    labels: tuple[str, ...]
    cohorts: tuple[CohortRow, ...]
    mean: tuple[MeanRow, ...]
    #: the breakdown values in order (empty without a breakdown)
    groups: tuple[str, ...]
    #: the last day with data (UTC): periods after it are future, the one holding it running
    as_of: str | None
    notes: tuple[str, ...] = ()
    #: run metadata (how it was computed, not what it is): never compared nor hashed
    engine: str = field(default="", compare=False)
    seconds: float = field(default=0.0, compare=False)

    def rows(self, group: str | None = None) -> tuple[CohortRow, ...]:
        """The cohort rows of one breakdown group (``None``: all persons)."""
        return tuple(r for r in self.cohorts if r.group == group)

    def mean_row(self, group: str | None = None) -> MeanRow | None:
        """The weighted mean row of one breakdown group (``None``: all persons)."""
        return next((m for m in self.mean if m.group == group), None)

    def matrix(self, group: str | None = None) -> list[list[float | None]]:
        """The rates of a group's cohort rows, one list per row (``None``: future cells).

        >>> RetentionResult({}, ("0",), (), (), (), None).matrix()
        []
        """
        return [list(r.rates) for r in self.rows(group)]

    def to_frame(self) -> Any:
        """One row per (group, cohort) and the weighted mean rows (``cohort="mean"``);
        a column per period with the rate (``NaN`` for future cells)."""
        import pandas as pd

        out: list[dict[str, Any]] = []
        for r in self.cohorts:
            row: dict[str, Any] = {"group": r.group, "cohort": r.cohort, "size": r.size}
            row |= dict(zip(self.labels, r.rates, strict=True))
            out.append(row)
        for m in self.mean:
            row = {"group": m.group, "cohort": "mean", "size": m.size}
            row |= dict(zip(self.labels, m.rates, strict=True))
            out.append(row)
        columns = ["group", "cohort", "size", *self.labels]
        frame = pd.DataFrame(out, columns=columns)
        return frame.astype(dict.fromkeys(self.labels, "float64"))

    def plot(self) -> Any:
        """The cohort triangle as a Plotly heat map: the rate in each cell (running periods
        marked ``*``), the weighted mean row on top, the cohort sizes on the axis."""
        import plotly.graph_objects as go

        rows = self.rows(None)
        mean = self.mean_row(None)
        y = [f"{r.cohort} ({r.size:,})" for r in rows]
        z: list[list[float | None]] = [list(r.rates) for r in rows]
        text = [[_cell_text(c) for c in r.cells] for r in rows]
        if mean is not None:
            y.insert(0, f"mean ({mean.size:,})")
            z.insert(0, list(mean.rates))
            text.insert(0, [_pct(c.rate.value) if c.cohorts else "" for c in mean.cells])
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=list(self.labels),
                y=y,
                text=text,
                texttemplate="%{text}",
                colorscale="Blues",
                zmin=0,
                zmax=1,
                hoverongaps=False,
                colorbar={"tickformat": ".0%"},
                xgap=1,
                ygap=1,
            )
        )
        fig.update_yaxes(autorange="reversed", type="category")
        fig.update_xaxes(type="category", side="top")
        p = self.parameters
        fig.update_layout(
            title=f"Retention ({p.get('cohort')}, {p.get('mode')}, {p.get('clock')})",
            height=max(320, 28 * len(y) + 140),
            xaxis_title="period",
            yaxis_title="cohort (size)",
            plot_bgcolor="white",  # a period not begun is blank, not a colour
        )
        return fig

    def __str__(self) -> str:
        p = self.parameters
        head = (
            f"retention  {p.get('start_event')} -> {p.get('return_event')}  "
            f"cohort={p.get('cohort')}  mode={p.get('mode')}  clock={p.get('clock')}  "
            f"reference={p.get('reference')}  ({self.engine}, {self.seconds:.2f} s)"
        )
        lines = [head]
        for group in (None, *self.groups):
            rows = self.rows(group)
            if group is not None:
                lines += ["", f"{p.get('by') or 'persona'} = {group}"]
            lines.append(
                f"{'cohort':<12} {'size':>8} " + " ".join(f"{lab:>7}" for lab in self.labels)
            )
            mean = self.mean_row(group)
            if mean is not None:
                cells = " ".join(
                    f"{_pct(c.rate.value) if c.cohorts else '-':>7}" for c in mean.cells
                )
                lines.append(f"{'mean':<12} {mean.size:>8,} {cells}")
            for r in rows:
                cells = " ".join(f"{_cell_text(c) or '-':>7}" for c in r.cells)
                lines.append(f"{r.cohort:<12} {r.size:>8,} {cells}")
        lines.append("* the period is still running (as of " + str(self.as_of) + ")")
        lines += list(self.notes)
        return "\n".join(lines)


def _cell_text(c: RetentionCell) -> str:
    if c.status == "future":
        return ""
    return _pct(c.rate.value) + ("*" if c.status == "incomplete" else "")


def mean_row(group: str | None, rows: list[CohortRow], width: int, reference: str) -> MeanRow:
    """The weighted mean row of ``rows``: per period the sum of the counts over the sum of
    the references, only over cohorts whose period is complete (a cohort that cannot have
    reached a period yet does not pull its mean down).

    >>> row = CohortRow(None, "2026-01-05", 10, (10, 4), (1.0, 0.4), (None, None),
    ...                 (None, None), ("complete", "complete"))
    >>> mean_row(None, [row], 2, "cohort").rates
    (1.0, 0.4)
    """
    counts, trials, cohorts, rates, low, high = [], [], [], [], [], []
    for k in range(width):
        count = total = n = 0
        for r in rows:
            c = r.counts[k]
            if r.status[k] != "complete" or c is None:
                continue
            if reference == "previous" and k > 1:
                prev = r.counts[k - 1]
                if prev is None:
                    continue
                base = prev
            else:
                base = r.size
            count += c
            total += base
            n += 1
        rate = rate_of(count, total)
        counts.append(count)
        trials.append(total)
        cohorts.append(n)
        rates.append(rate.value)
        low.append(rate.low)
        high.append(rate.high)
    size = sum(r.size for r in rows)
    return MeanRow(group, size, tuple(counts), tuple(trials), tuple(cohorts), tuple(rates),
                   tuple(low), tuple(high))  # fmt: skip


def rate_of(count: int, trials: int) -> Rate:
    """``count / trials`` with its Wilson interval (the funnel's); a ratio above 1 (the
    previous period as reference: retention is not a funnel) has no interval.

    >>> rate_of(3, 2).value, rate_of(3, 2).low
    (1.5, None)
    """
    if trials > 0 and count > trials:
        return Rate(count / trials, None, None)
    return wilson(count, trials)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
