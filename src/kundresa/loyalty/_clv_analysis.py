"""Customer lifetime value and P(alive) of a workspace's customers: the ``clv`` analysis.

The RFM summary is computed in the engine (:func:`~kundresa.loyalty.rfm_summary`); the
purchase model (BG/NBD, Pareto/NBD or modified BG/NBD) is fitted on its distinct
``(x, t_x, T)`` rows with their counts, the Gamma-Gamma spend model on the repeat buyers'
mean values, and the predictions are made per distinct row and spread back to the customers,
so a million customers cost what their distinct rows cost.

CLV over ``horizon`` is the discounted expected value of the purchases in it: the horizon is
cut into periods of about a month (``periods``, each ``horizon / periods`` long), and the
expected purchases of period ``i`` times the Gamma-Gamma expected value of a purchase are
discounted by ``(1 + d)^i`` with ``d`` the period's rate from the annual ``discount_rate``
(``(1 + annual)^(period / year) - 1``), as lifetimes' ``customer_lifetime_value``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa._errors import InvalidOptionError
from kundresa._results import Result, jsonable
from kundresa._util import parse_duration
from kundresa.loyalty._clv_calibration import CalibrationTable, calibration_table
from kundresa.loyalty._clv_result import ModelFit
from kundresa.loyalty._summary import UNITS, rfm_summary

if TYPE_CHECKING:
    import numpy.typing as npt

    from kundresa._workspace import Workspace

__all__ = ["PURCHASE_MODELS", "SPEND_MODELS", "ClvResult", "clv"]

#: the purchase models ``clv`` fits
PURCHASE_MODELS = ("bg_nbd", "pareto_nbd", "mbg_nbd")
#: the spend models (``none``: purchases and P(alive) only, no value)
SPEND_MODELS = ("gamma_gamma", "none")
_MONTH_DAYS = 365.25 / 12
_FRAME = (
    "person_id",
    "x",
    "t_x",
    "T",
    "monetary",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
)


@dataclass(frozen=True)
class ClvResult(Result):
    """The fitted models (``params``: estimate and standard error per parameter, ``fit``,
    ``spend_fit``), per-customer P(alive), expected purchases in the horizon, expected
    value of a purchase and discounted CLV (``to_frame()``: one row per customer, what
    ``--out x.csv`` writes), their distribution (``p_alive_histogram``, ``clv_histogram``,
    ``deciles``), the ``top`` customers, with a holdout the ``calibration`` table
    (predicted vs actual repeat purchases by calibration frequency), and with a journey map
    the same per persona (``by_group``). ``warnings`` repeats the fits' convergence and
    boundary warnings.

    >>> ClvResult("Order Completed", "bg_nbd", "gamma_gamma", "week", "52w", 52.0, 12, 0.1,
    ...           None, None, 0, 0).to_frame().columns.tolist()[:4]
    ['person_id', 'x', 't_x', 'T']
    """

    purchase_event: str
    model: str
    spend_model: str
    time_unit: str
    horizon: str
    horizon_length: float
    periods: int
    discount_rate: float
    calibration_end: dt.date | None
    holdout_end: dt.date | None
    customers: int
    repeat_customers: int
    params: tuple[Mapping[str, Any], ...] = ()
    fit: ModelFit | None = None
    spend_fit: ModelFit | None = None
    warnings: tuple[str, ...] = ()
    totals: Mapping[str, float] = field(default_factory=dict)
    p_alive_histogram: tuple[Mapping[str, Any], ...] = ()
    clv_histogram: tuple[Mapping[str, Any], ...] = ()
    deciles: tuple[Mapping[str, Any], ...] = ()
    top: tuple[Mapping[str, Any], ...] = ()
    calibration: CalibrationTable | None = None
    by_group: tuple[Mapping[str, Any], ...] = ()
    table: Any = field(default=None, compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-customer rows (those are ``to_frame()``)."""
        import dataclasses

        fields = dataclasses.fields(self)
        out = {f.name: jsonable(getattr(self, f.name)) for f in fields if f.name != "table"}
        return dict(_no_nan(out))

    def to_frame(self) -> Any:
        """One row per customer: ``person_id, x, t_x, T, monetary, p_alive,
        expected_purchases`` (in the horizon), ``expected_spend`` (per purchase), ``clv``
        (and ``group`` with a map, ``holdout_x`` with a holdout)."""
        import pandas as pd

        if self.table is None:
            return pd.DataFrame(columns=list(_FRAME))
        return self.table.to_pandas()

    def plot(self) -> Any:
        """The CLV distribution (customers per CLV bin), the P(alive) distribution and, with
        a holdout, predicted vs actual repeat purchases by frequency (Plotly subplots)."""
        return clv_figure(self, lambda key: _ENGLISH.get(key, key))

    def __str__(self) -> str:
        lines = [
            f"CLV of {self.purchase_event!r}: {self.customers:,} customers "
            f"({self.repeat_customers:,} repeat), {self.model} + {self.spend_model}, "
            f"horizon {self.horizon} ({self.periods} periods), "
            f"discount {self.discount_rate:g}/year",
        ]
        for p in self.params:
            lines.append(
                f"  {p['model']:>11} {p['parameter']:>6} = {p['estimate']:.4g} "
                f"(se {p['standard_error']:.3g})"
            )
        t = self.totals
        if t:
            lines.append(
                f"mean P(alive) {t['mean_p_alive']:.3f}; expected purchases "
                f"{t['expected_purchases']:,.1f}; CLV total {t['clv']:,.2f}, mean "
                f"{t['mean_clv']:,.2f}"
            )
        if self.top:
            lines.append("top customers:")
            for r in self.top[:10]:
                lines.append(
                    f"  {r['person_id']}  x={r['x']}  P(alive)={r['p_alive']:.2f}  "
                    f"CLV={r['clv']:,.2f}"
                )
        if self.calibration is not None:
            lines += ["", str(self.calibration)]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


#: the figure's texts in English (the page translates them)
_ENGLISH = {
    "clv_distribution": "CLV distribution",
    "p_alive_distribution": "P(alive) distribution",
    "predicted_vs_actual": "Predicted vs actual repeat purchases",
    "customers": "customers",
    "clv": "CLV",
    "p_alive": "P(alive)",
    "actual": "actual",
    "predicted": "predicted",
    "calibration_frequency": "repeat purchases in the calibration",
    "holdout_purchases": "mean purchases in the holdout",
}


def clv_figure(result: ClvResult, text: Any) -> Any:
    """The figure of :meth:`ClvResult.plot` with ``text(key)`` for every label (the web page
    passes its translations)."""
    from plotly.subplots import make_subplots

    cal = result.calibration
    titles = [text("clv_distribution"), text("p_alive_distribution")]
    if cal is not None:
        titles.append(text("predicted_vs_actual"))
    fig = make_subplots(rows=len(titles), cols=1, subplot_titles=titles, vertical_spacing=0.12)
    h = result.clv_histogram
    fig.add_bar(
        x=[f"{r['low']:,.0f}–{r['high']:,.0f}" for r in h],
        y=[r["customers"] for r in h],
        name=text("customers"),
        marker_color="#3b6ea5",
        showlegend=False,
        row=1,
        col=1,
    )
    pa_h = result.p_alive_histogram
    fig.add_bar(
        x=[f"{r['low']:.1f}–{r['high']:.1f}" for r in pa_h],
        y=[r["customers"] for r in pa_h],
        name=text("customers"),
        marker_color="#5a9e6f",
        showlegend=False,
        row=2,
        col=1,
    )
    fig.update_xaxes(title_text=text("clv"), row=1, col=1)
    fig.update_xaxes(title_text=text("p_alive"), row=2, col=1)
    fig.update_yaxes(title_text=text("customers"), row=1, col=1)
    fig.update_yaxes(title_text=text("customers"), row=2, col=1)
    if cal is not None:
        freq = [r["frequency"] for r in cal.rows]
        fig.add_bar(
            x=freq,
            y=[r["actual"] for r in cal.rows],
            name=text("actual"),
            marker_color="#9aa5b1",
            row=3,
            col=1,
        )
        fig.add_scatter(
            x=freq,
            y=[r["predicted"] for r in cal.rows],
            name=text("predicted"),
            mode="lines+markers",
            marker_color="#d64545",
            row=3,
            col=1,
        )
        fig.update_xaxes(title_text=text("calibration_frequency"), type="category", row=3, col=1)
        fig.update_yaxes(title_text=text("holdout_purchases"), row=3, col=1)
    fig.update_layout(
        height=360 * len(titles), bargap=0.05, legend={"orientation": "h", "y": -0.05}
    )
    return fig


def _fit_purchases(model: str, x: Any, t_x: Any, T: Any, w: Any) -> ModelFit:
    from kundresa.loyalty._clv_fit import fit_bg_nbd, fit_mbg_nbd, fit_pareto_nbd

    fn = {"bg_nbd": fit_bg_nbd, "pareto_nbd": fit_pareto_nbd, "mbg_nbd": fit_mbg_nbd}[model]
    return fn(x, t_x, T, weights=w)


def _histogram(values: npt.NDArray[np.float64], edges: Any) -> tuple[dict[str, Any], ...]:
    counts, bounds = np.histogram(values, bins=edges)
    return tuple(
        {"low": float(bounds[i]), "high": float(bounds[i + 1]), "customers": int(counts[i])}
        for i in range(counts.size)
    )


def _clv_edges(values: npt.NDArray[np.float64], bins: int = 20) -> Any:
    """Bins of CLV from 0 to its 99th percentile (the long tail in the last bin)."""
    high = float(np.quantile(values, 0.99)) if values.size else 1.0
    high = max(high, float(values.max()) if values.size and high <= 0 else high, 1e-9)
    step = 10 ** math.floor(math.log10(high / bins)) if high > 0 else 1.0
    width = math.ceil(high / bins / step) * step
    edges = [i * width for i in range(bins + 1)]
    edges[-1] = max(edges[-1], float(values.max()) if values.size else 0.0)
    return edges


def _deciles(clv_v: npt.NDArray[np.float64]) -> tuple[dict[str, Any], ...]:
    """Customers ranked by CLV (highest first) in ten groups: their mean CLV and share."""
    if clv_v.size == 0:
        return ()
    order = np.sort(clv_v)[::-1]
    total = float(order.sum()) or 1.0
    out = []
    for k, part in enumerate(np.array_split(order, 10)):
        if part.size:
            mean, share = float(part.mean()), float(part.sum() / total)
            out.append({"decile": k + 1, "customers": part.size, "mean_clv": mean, "share": share})
    return tuple(out)


def clv(
    ws: Workspace,
    purchase_event: str = "Order Completed",
    *,
    model: str = "bg_nbd",
    spend_model: str = "gamma_gamma",
    horizon: str | dt.timedelta = "52w",
    discount_rate: float = 0.1,
    time_unit: str = "week",
    calibration_end: str | dt.date | None = None,
    holdout: str | dt.timedelta | None = None,
    distinct_days: bool = True,
    journey_map: Any = None,
    top: int = 20,
) -> ClvResult:
    """Fit ``model`` (BG/NBD, Pareto/NBD or modified BG/NBD) and the Gamma-Gamma spend model
    on the RFM summary of ``purchase_event`` (computed in the engine, see
    :func:`~kundresa.loyalty.rfm_summary`), and predict per customer: P(alive), expected
    purchases in ``horizon``, expected value of a purchase and CLV over ``horizon``
    discounted at the annual ``discount_rate`` (the module notes give the formula).

    With ``holdout`` (e.g. ``"39w"``) the models are fitted on the calibration period (to
    ``calibration_end``, or the end of the data less the holdout) and the result has the
    calibration table: mean actual and predicted purchases in the holdout by calibration
    frequency. ``journey_map`` (a journey map) adds the numbers per persona (``by_group``). The
    fits' :class:`~kundresa.loyalty.ConvergenceWarning` messages (a parameter at a boundary:
    e.g. no drop-out seen in a short log) are kept in ``warnings`` and shown on every
    surface, not raised.

    On CDNOW (calibration to 1997-09-30) the parameters are the published ones: r 0.2426,
    alpha 4.4135, a 0.7929, b 2.4258 (Fader, Hardie & Lee 2005) and p 6.2496, q 3.7442,
    gamma 15.4435 (Fader & Hardie 2013), see ``tests/test_loyalty_clv_analysis.py``.

    >>> import tempfile, pathlib, datetime as dt
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> from kundresa.loyalty import simulate_bg_nbd, simulate_spend
    >>> x, t_x, T, _ = simulate_bg_nbd(2000, r=0.5, alpha=5.0, a=0.6, b=2.0, T=30.0, seed=3)
    >>> spend = simulate_spend(x + 1, p=6.0, q=4.0, gamma=15.0, seed=3)
    >>> t0, rows = dt.datetime(2026, 1, 1), []
    >>> for i in range(2000):  # each customer's first purchase, then x more up to t_x
    ...     days = [0] + [round(7 * t_x[i] * k / x[i]) for k in range(1, int(x[i]) + 1)]
    ...     rows += [{"event_id": f"{i}-{k}", "ts": t0 + dt.timedelta(days=d, hours=k),
    ...               "event": "Order Completed", "type": "track", "user_id": f"u{i}",
    ...               "revenue": float(spend[i])} for k, d in enumerate(days)]
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.Table.from_pylist(rows), folder / "o.parquet")
    >>> ws = Workspace.open(folder / "w.duckdb")
    >>> _ = ws.ingest([folder / "o.parquet"])
    >>> r = clv(ws, calibration_end="2026-07-30", distinct_days=False)
    >>> r.customers, [p["parameter"] for p in r.params][:4]
    (2000, ['r', 'alpha', 'a', 'b'])
    >>> frame = r.to_frame()
    >>> bool(frame.p_alive.between(0, 1).all()), bool((frame.clv >= 0).all())
    (True, True)
    """
    started = time.perf_counter()
    if model not in PURCHASE_MODELS:
        raise InvalidOptionError("model", model, allowed=PURCHASE_MODELS)
    if spend_model not in SPEND_MODELS:
        raise InvalidOptionError("spend_model", spend_model, allowed=SPEND_MODELS)
    if isinstance(discount_rate, bool) or not (0 <= float(discount_rate) <= 1):
        raise InvalidOptionError(
            "discount_rate", discount_rate, fix="an annual rate 0..1, e.g. 0.1"
        )
    if isinstance(top, bool) or int(top) != top or not 0 <= top <= 1000:
        raise InvalidOptionError("top", top, fix="a whole number from 0 to 1000")
    if time_unit not in UNITS:
        raise InvalidOptionError("time_unit", time_unit, allowed=tuple(UNITS))
    h_days = parse_duration(horizon, "horizon").total_seconds() / 86400
    periods = max(1, round(h_days / _MONTH_DAYS))
    summary = rfm_summary(
        ws,
        purchase_event,
        calibration_end=calibration_end,
        holdout=holdout,
        time_unit=time_unit,
        distinct_days=distinct_days,
        journey_map=journey_map,
    )
    if summary.customers == 0:
        raise InvalidOptionError(
            "calibration_end",
            str(summary.calibration_end),
            fix=f"no {purchase_event!r} purchase by then: give a later date or a shorter holdout",
        )
    if summary.repeat_customers == 0:
        raise InvalidOptionError(
            "purchase_event",
            purchase_event,
            fix="every customer bought once in the calibration period, so the purchase model "
            "cannot be fitted: give a later calibration_end or a shorter holdout",
        )
    x, t_x, T = summary.column("x"), summary.column("t_x"), summary.column("T")
    monetary = summary.column("monetary")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        keys, inverse, w = _distinct(x, t_x, T)
        seen_for = keys[2] > 0  # a customer who first bought on the last day tells nothing
        kx, kt, kT = (k[seen_for] for k in keys)
        fit = _fit_purchases(model, kx, kt, kT, w[seen_for])
        spend_fit = None
        if spend_model == "gamma_gamma":
            paying = (x > 0) & (monetary > 0)
            if int(paying.sum()) < 2:
                raise InvalidOptionError(
                    "spend_model",
                    spend_model,
                    fix="fewer than two repeat buyers have a revenue: use spend_model none",
                )
            from kundresa.loyalty._clv_fit import fit_gamma_gamma

            spend_fit = fit_gamma_gamma(x[paying], monetary[paying])
    caught = [str(item.message) for item in seen]  # kept in the result, shown on every surface
    scores = _scores(
        fit,
        spend_fit,
        keys,
        inverse,
        x,
        monetary,
        h_days / UNITS[time_unit],
        periods,
        float(discount_rate),
        h_days,
    )
    p_alive_v, purchases_v, spend_v, clv_v = scores
    undefined = int((~np.isfinite(purchases_v) | ~np.isfinite(p_alive_v)).sum())
    if undefined:
        caught.append(
            f"{model}: the predictions of {undefined:,} customers are undefined at these "
            "parameters (a fit at a boundary); they are left out of the totals"
        )
    import pyarrow as pa

    cols: dict[str, Any] = {
        "person_id": summary.table.column("person_id"),
        "x": x,
        "t_x": t_x,
        "T": T,
        "monetary": monetary,
        "p_alive": p_alive_v,
        "expected_purchases": purchases_v,
        "expected_spend": spend_v,
        "clv": clv_v,
    }
    names = summary.table.column_names
    if "group" in names:
        cols["group"] = summary.table.column("group")
    if "holdout_x" in names:
        cols["holdout_x"] = summary.table.column("holdout_x")
    table = pa.table(cols)
    calibration = None
    if summary.holdout_end is not None:
        assert summary.calibration_end is not None
        hold = (summary.holdout_end - summary.calibration_end).days / UNITS[time_unit]
        calibration = calibration_table(fit, x, t_x, T, summary.column("holdout_x"), holdout=hold)
    params = [
        {
            "model": f.model,
            "parameter": k,
            "estimate": float(v),
            "standard_error": float(f.standard_errors.get(k, float("nan"))),
        }
        for f in (fit, spend_fit)
        if f is not None
        for k, v in f.params.items()
    ]
    rank_by = np.where(np.isfinite(clv_v), clv_v, -np.inf)
    if spend_fit is None:  # no value: the top customers by expected purchases
        rank_by = np.where(np.isfinite(purchases_v), purchases_v, -np.inf)
    order = np.lexsort((np.asarray(table.column("person_id")), -rank_by))[: int(top)]
    top_rows = [{k: _plain(table.column(k)[int(i)].as_py()) for k in _FRAME} for i in order]
    valued = clv_v[np.isfinite(clv_v)]
    totals = {
        "mean_p_alive": float(np.nanmean(p_alive_v)),
        "expected_alive": float(np.nansum(p_alive_v)),
        "expected_purchases": float(np.nansum(purchases_v)),
        "clv": float(valued.sum()),
        "mean_clv": float(valued.mean()) if valued.size else float("nan"),
        "median_clv": float(np.median(valued)) if valued.size else float("nan"),
    }
    return ClvResult(
        purchase_event=purchase_event,
        model=model,
        spend_model=spend_model,
        time_unit=time_unit,
        horizon=str(horizon),
        horizon_length=h_days / UNITS[time_unit],
        periods=periods,
        discount_rate=float(discount_rate),
        calibration_end=summary.calibration_end,
        holdout_end=summary.holdout_end,
        customers=summary.customers,
        repeat_customers=summary.repeat_customers,
        params=tuple(params),
        fit=fit,
        spend_fit=spend_fit,
        warnings=tuple(caught),
        totals=totals,
        p_alive_histogram=_histogram(p_alive_v[np.isfinite(p_alive_v)], np.linspace(0.0, 1.0, 11)),
        clv_histogram=_histogram(valued, _clv_edges(valued)) if valued.size else (),
        deciles=_deciles(valued),
        top=tuple(top_rows),
        calibration=calibration,
        by_group=_by_group(table) if "group" in names else (),
        table=table,
        seconds=time.perf_counter() - started,
    )


def _no_nan(value: Any) -> Any:
    """NaN as None (JSON has no NaN; a standard error or CLV that does not exist is null).

    >>> _no_nan({"a": [1.0, float("nan")]})
    {'a': [1.0, None]}
    """
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def _plain(v: Any) -> Any:
    return round(v, 6) if isinstance(v, float) else v


def _distinct(x: Any, t_x: Any, T: Any) -> tuple[tuple[Any, Any, Any], Any, Any]:
    """The distinct ``(x, t_x, T)`` rows, each customer's row and the counts."""
    stacked = np.column_stack([x, t_x, T]).astype(np.float64)
    keys, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return (keys[:, 0], keys[:, 1], keys[:, 2]), inverse.reshape(-1), counts.astype(np.float64)


@np.errstate(all="ignore")  # a fit at a boundary: NaN predictions, counted by clv()
def _scores(
    fit: ModelFit,
    spend_fit: ModelFit | None,
    keys: tuple[Any, Any, Any],
    inverse: Any,
    x: Any,
    monetary: Any,
    horizon: float,
    periods: int,
    annual: float,
    h_days: float,
) -> tuple[Any, Any, Any, Any]:
    """P(alive), expected purchases in the horizon, expected value of a purchase and CLV."""
    from kundresa.loyalty._clv_predict import (
        conditional_expected_purchases,
        expected_spend,
        p_alive,
    )

    kx, kt, kT = keys
    alive = p_alive(fit, kx, kt, kT)[inverse]
    length = horizon / periods
    rate = (1 + annual) ** (h_days / periods / 365.25) - 1
    factor = np.zeros(kx.size)
    previous = np.zeros(kx.size)
    for i in range(1, periods + 1):  # periods, vectorised over the distinct rows
        now = conditional_expected_purchases(fit, i * length, kx, kt, kT)
        factor = factor + (now - previous) / (1 + rate) ** i
        previous = now
    purchases = previous[inverse]
    if spend_fit is None:
        nan = np.full(x.size, np.nan)
        return alive, purchases, nan, nan
    spend = expected_spend(spend_fit, x, np.where(x > 0, monetary, 0.0))
    return alive, purchases, spend, spend * factor[inverse]


def _by_group(table: Any) -> tuple[dict[str, Any], ...]:
    frame = table.to_pandas()
    out = []
    for g, sub in frame.groupby("group", sort=True):
        out.append(
            {
                "group": str(g),
                "customers": len(sub),
                "repeat_share": float((sub.x > 0).mean()),
                "mean_p_alive": float(sub.p_alive.mean()),
                "expected_purchases": float(sub.expected_purchases.sum()),
                "mean_clv": float(sub.clv.mean()),
                "clv": float(sub.clv.sum()),
            }
        )
    return tuple(out)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
