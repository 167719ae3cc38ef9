"""Holdout calibration: predicted vs actual repeat purchases by calibration frequency.

The standard check of a buy-till-you-die model (FHL 2005's conditional expectations by
frequency; lifetimes' ``plot_calibration_purchases_vs_holdout_purchases``): fit on a
calibration period, then for the customers with ``x = 0, 1, 2, ...`` repeat purchases in it
(the last group is ``censor`` or more), compare the mean number of purchases they actually
made in the holdout period with the mean conditional expectation
:func:`conditional_expected_purchases`.

>>> from kundresa.loyalty import ModelFit
>>> fit = ModelFit("bg_nbd", {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
...                {}, -9582.43, 2357, 2357, True)
>>> table = calibration_table(fit, [0, 0, 1, 2], [0, 0, 20.0, 30.0], [39.0] * 4, [0, 1, 0, 2],
...                           holdout=39.0)
>>> [(r["frequency"], r["customers"], r["actual"]) for r in table.rows]
[('0', 2.0, 0.5), ('1', 1.0, 0.0), ('2', 1.0, 2.0)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kundresa._errors import InvalidOptionError
from kundresa._frozen import thaw
from kundresa._results import Result
from kundresa.loyalty._clv_predict import conditional_expected_purchases
from kundresa.loyalty._clv_result import Model, ModelFit

__all__ = ["CalibrationTable", "calibration_table"]

_COLUMNS = ["frequency", "customers", "actual", "predicted"]


@dataclass(frozen=True)
class CalibrationTable(Result):
    """Mean holdout purchases, ``actual`` and ``predicted``, of the customers with each
    calibration ``frequency`` (the last row is ``censor`` or more, labelled ``"7+"``);
    ``customers`` is the (weighted) count in the row.

    >>> CalibrationTable("bg_nbd", 39.0, 7, ({"frequency": "0", "customers": 2.0,
    ...     "actual": 0.5, "predicted": 0.4},)).to_frame().columns.tolist()
    ['frequency', 'customers', 'actual', 'predicted']
    """

    model: Model
    holdout: float
    censor: int
    rows: tuple[Mapping[str, Any], ...]
    seconds: float = field(default=0.0, compare=False)

    def to_frame(self) -> Any:
        """One row per calibration frequency."""
        import pandas as pd

        return pd.DataFrame([thaw(r) for r in self.rows], columns=_COLUMNS)

    def plot(self) -> Any:
        """Bars of actual and lines of predicted holdout purchases per frequency (Plotly)."""
        import plotly.graph_objects as go

        freq = [r["frequency"] for r in self.rows]
        fig = go.Figure()
        fig.add_bar(x=freq, y=[r["actual"] for r in self.rows], name="actual")
        fig.add_scatter(x=freq, y=[r["predicted"] for r in self.rows], name=f"{self.model}")
        fig.update_layout(
            xaxis_title="repeat purchases in the calibration period",
            yaxis_title=f"mean purchases in the holdout ({self.holdout:g})",
        )
        return fig

    def __str__(self) -> str:
        lines = [f"{self.model}: holdout {self.holdout:g}", "freq  customers  actual  predicted"]
        for r in self.rows:
            lines.append(
                f"{r['frequency']:>4}  {r['customers']:>9g}  {r['actual']:>6.3f}  "
                f"{r['predicted']:>9.3f}"
            )
        return "\n".join(lines)


def calibration_table(
    fit: ModelFit,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    holdout_x: npt.ArrayLike,
    *,
    holdout: float,
    censor: int = 7,
    weights: npt.ArrayLike | None = None,
) -> CalibrationTable:
    """Predicted vs actual holdout purchases by calibration frequency (see the module notes).

    ``fit`` is a BG/NBD, Pareto/NBD or modified BG/NBD :class:`~kundresa.loyalty.ModelFit`
    made on the calibration summary ``(x, t_x, T)``; ``holdout_x`` are the purchases each
    customer made in the ``holdout`` that followed (every customer's holdout has that length).
    """
    if not (np.isfinite(holdout) and holdout > 0):
        raise InvalidOptionError("holdout", holdout, fix="the holdout length, > 0")
    if int(censor) != censor or censor < 1:
        raise InvalidOptionError("censor", censor, fix="a whole number >= 1, e.g. 7")
    xs = np.asarray(x, dtype=np.float64).reshape(-1)
    later = np.asarray(holdout_x, dtype=np.float64).reshape(-1)
    if later.size != xs.size or not np.all(np.isfinite(later) & (later >= 0)):
        raise InvalidOptionError(
            "holdout_x", f"{later.size} values", fix=f"give {xs.size} purchase counts >= 0"
        )
    w = np.ones(xs.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != xs.shape or not np.all(np.isfinite(w) & (w >= 0)):
        raise InvalidOptionError("weights", f"{w.size} values", fix=f"give {xs.size} counts >= 0")
    predicted = conditional_expected_purchases(fit, holdout, xs, t_x, T).reshape(-1)
    group = np.minimum(xs, censor).astype(np.int64)
    size = int(censor) + 1
    customers = np.bincount(group, weights=w, minlength=size)
    actual = np.bincount(group, weights=w * later, minlength=size)
    expect = np.bincount(group, weights=w * predicted, minlength=size)
    rows = tuple(
        {
            "frequency": f"{g}+" if g == censor else str(g),
            "customers": float(customers[g]),
            "actual": float(actual[g] / customers[g]),
            "predicted": float(expect[g] / customers[g]),
        }
        for g in range(size)
        if customers[g] > 0
    )
    return CalibrationTable(model=fit.model, holdout=float(holdout), censor=int(censor), rows=rows)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
