"""Predictions from a fitted :class:`~kundresa.loyalty.ModelFit` (vectorised numpy).

Time is in the unit of the summary the model was fitted on (for BG/BB: opportunities).

>>> from kundresa.loyalty import ModelFit
>>> fit = ModelFit("bg_nbd", {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
...                {}, -9582.43, 2357, 2357, True)
>>> expected_purchases(fit, [1, 78]).round(4).tolist()
[0.0532, 1.858]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kundresa._errors import InvalidOptionError
from kundresa.loyalty import _clv_models as m
from kundresa.loyalty._clv_result import ModelFit

__all__ = [
    "conditional_expected_purchases",
    "customer_lifetime_value",
    "expected_purchases",
    "expected_spend",
    "p_alive",
    "p_purchases",
    "survival",
]

Array = npt.NDArray[np.float64]
_PURCHASE_MODELS = ("bg_nbd", "pareto_nbd", "mbg_nbd", "bg_bb")


def _arr(name: str, values: npt.ArrayLike) -> Array:
    out = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise InvalidOptionError(name, values, fix="give finite numbers >= 0")
    return out


def _need(fit: ModelFit, models: tuple[str, ...], what: str) -> None:
    if fit.model not in models:
        raise InvalidOptionError(
            "fit", fit.model, fix=f"{what} needs a fit of one of: {', '.join(models)}"
        )


def _customers(
    x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike, model: str = ""
) -> tuple[Array, ...]:
    xs, tx, tt = _arr("x", x), _arr("t_x", t_x), _arr("T", T)
    try:
        xs, tx, tt = np.broadcast_arrays(xs, tx, tt)
    except ValueError:
        raise InvalidOptionError("t_x", "shape", fix="give x, t_x and T of one length") from None
    if np.any(tx > tt):
        raise InvalidOptionError("t_x", float(tx[tx > tt][0]), fix="t_x must lie between 0 and T")
    if model == "bg_bb":
        whole = (xs == np.round(xs)) & (tx == np.round(tx)) & (tt == np.round(tt)) & (xs <= tx)
        if not np.all(whole):
            raise InvalidOptionError(
                "t_x", "not whole", fix="BG/BB counts opportunities: whole x <= t_x <= n (= T)"
            )
    return xs, tx, tt


def expected_purchases(fit: ModelFit, t: npt.ArrayLike) -> Array:
    """Expected purchases in ``(0, t]`` of a customer just acquired, E[X(t)] (for BG/BB:
    transactions in the first ``t`` opportunities).

    >>> from kundresa.loyalty import fit_sbg
    >>> try:
    ...     expected_purchases(fit_sbg([1000, 631, 468, 382, 326]), 1)
    ... except ValueError as err:
    ...     print(str(err)[:58])
    fit: 'sbg' is not allowed; expected_purchases needs a fit
    """
    _need(fit, _PURCHASE_MODELS, "expected_purchases")
    tt = _arr("t", t)
    fn = {
        "bg_nbd": m.bgnbd_expected,
        "pareto_nbd": m.pnbd_expected,
        "mbg_nbd": m.mbgnbd_expected,
        "bg_bb": m.bgbb_expected,
    }[fit.model]
    return fn(fit.values, tt)


def conditional_expected_purchases(
    fit: ModelFit,
    t: npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    """Expected purchases in the next ``t`` (``(T, T + t]``) of customers with ``x`` repeat
    purchases, the last at ``t_x``, observed for ``T`` (BG/BB: ``t`` more opportunities
    after ``n = T``).

    >>> from kundresa.loyalty import ModelFit
    >>> fit = ModelFit("bg_nbd", {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
    ...                {}, -9582.43, 2357, 2357, True)
    >>> round(float(conditional_expected_purchases(fit, 39, 2, 30.43, 38.86)), 3)
    1.226
    """
    _need(fit, _PURCHASE_MODELS, "conditional_expected_purchases")
    xs, tx, tt = _customers(x, t_x, T, fit.model)
    horizon = _arr("t", t)
    fn = {
        "bg_nbd": m.bgnbd_conditional_expected,
        "pareto_nbd": m.pnbd_conditional_expected,
        "mbg_nbd": m.mbgnbd_conditional_expected,
        "bg_bb": m.bgbb_conditional_expected,
    }[fit.model]
    return fn(fit.values, horizon, xs, tx, tt)


def p_alive(fit: ModelFit, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> Array:
    """The probability that each customer is still alive at ``T`` (BG/BB: in opportunity
    ``n + 1``, ``n = T``). Under BG/NBD it is 1 for ``x = 0``; under Pareto/NBD and the
    modified BG/NBD it is not (a customer may leave before buying again).

    >>> from kundresa.loyalty import ModelFit
    >>> fit = ModelFit("bg_nbd", {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
    ...                {}, -9582.43, 2357, 2357, True)
    >>> p_alive(fit, [0, 2, 2], [0, 30.43, 5.0], [38.86, 38.86, 38.86]).round(3).tolist()
    [1.0, 0.727, 0.124]
    """
    _need(fit, _PURCHASE_MODELS, "p_alive")
    xs, tx, tt = _customers(x, t_x, T, fit.model)
    fn = {
        "bg_nbd": m.bgnbd_p_alive,
        "pareto_nbd": m.pnbd_p_alive,
        "mbg_nbd": m.mbgnbd_p_alive,
        "bg_bb": m.bgbb_p_alive,
    }[fit.model]
    return fn(fit.values, xs, tx, tt)


def p_purchases(fit: ModelFit, k: npt.ArrayLike, t: float) -> Array:
    """P(X(t) = k): the probability that a customer just acquired makes exactly ``k``
    purchases in ``(0, t]`` (BG/NBD, FHL 2005; Pareto/NBD, Fader & Hardie 2006) or
    ``k`` transactions in ``t`` opportunities (BG/BB, FHS 2010).

    >>> from kundresa.loyalty import ModelFit
    >>> fit = ModelFit("bg_nbd", {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
    ...                {}, -9582.43, 2357, 2357, True)
    >>> p_purchases(fit, [0, 1, 2], 39).round(4).tolist()
    [0.5743, 0.1992, 0.0853]
    """
    _need(fit, ("bg_nbd", "pareto_nbd", "bg_bb"), "p_purchases")
    ks = _arr("k", k)
    if np.any(ks != np.round(ks)):
        raise InvalidOptionError("k", k, fix="k counts purchases: whole numbers >= 0")
    horizon = float(_arr("t", t))
    if fit.model == "bg_bb":
        if horizon != round(horizon) or np.any(ks > horizon):
            raise InvalidOptionError("t", t, fix="BG/BB: t is a whole number of opportunities >= k")
        return m.bgbb_p_purchases(fit.values, ks.reshape(-1), int(horizon)).reshape(ks.shape)
    fn = m.pnbd_p_purchases if fit.model == "pareto_nbd" else m.bgnbd_p_purchases
    return fn(fit.values, ks.reshape(-1), horizon).reshape(ks.shape)


def survival(fit: ModelFit, t: npt.ArrayLike) -> Array:
    """The share of a shifted-BG cohort still active after ``t`` periods, S(t).

    >>> from kundresa.loyalty import fit_sbg
    >>> fit = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> (100 * survival(fit, [8, 12])).round(1).tolist()
    [22.0, 17.0]
    """
    _need(fit, ("sbg",), "survival")
    return m.sbg_survival(fit.values, _arr("t", t))


def expected_spend(fit: ModelFit, x: npt.ArrayLike, mean_spend: npt.ArrayLike) -> Array:
    """Expected value of a customer's future transaction under Gamma-Gamma, given ``x``
    repeat transactions of mean value ``mean_spend`` (the population mean when ``x = 0``).

    >>> from kundresa.loyalty import ModelFit
    >>> fit = ModelFit("gamma_gamma", {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}, {},
    ...                -4055.92, 946, 946, True)
    >>> expected_spend(fit, [0, 2], [0, 22.35]).round(2).tolist()
    [35.17, 24.66]
    """
    _need(fit, ("gamma_gamma",), "expected_spend")
    xs, ms = np.broadcast_arrays(_arr("x", x), _arr("mean_spend", mean_spend))
    return m.gg_expected_spend(fit.values, xs, ms)


def customer_lifetime_value(
    fit: ModelFit,
    spend: ModelFit,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    mean_spend: npt.ArrayLike,
    *,
    periods: int = 12,
    period_length: float = 4.345,
    discount_rate: float = 0.01,
) -> Array:
    """Discounted expected value of each customer's purchases over the next ``periods``.

    The formula (as lifetimes' ``customer_lifetime_value``): with ``E(t)`` the conditional
    expected purchases in ``(T, T + t]`` (:func:`conditional_expected_purchases`), ``L`` the
    ``period_length`` in the fit's time unit (4.345 weeks is a month) and ``d`` the
    ``discount_rate`` per period,

        CLV = sum over i = 1..periods of  spend * (E(i L) - E((i - 1) L)) / (1 + d)^i

    where ``spend`` is the Gamma-Gamma expected transaction value (:func:`expected_spend`).
    Purchases are discounted at the end of the period they fall in; the periods are
    evaluated in one vectorised call (lifetimes calls its prediction twice per period).

    >>> from kundresa.loyalty import ModelFit
    >>> bg = ModelFit("bg_nbd", {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258},
    ...               {}, -9582.43, 2357, 2357, True)
    >>> gg = ModelFit("gamma_gamma", {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}, {},
    ...               -4055.92, 946, 946, True)
    >>> customer_lifetime_value(bg, gg, [2, 0], [30.43, 0], [38.86, 38.86], [22.35, 0]).round(2)
    array([36.28,  8.34])
    """
    _need(fit, ("bg_nbd", "pareto_nbd", "mbg_nbd"), "customer_lifetime_value")
    _need(spend, ("gamma_gamma",), "customer_lifetime_value (spend)")
    if int(periods) != periods or periods < 1:
        raise InvalidOptionError("periods", periods, fix="a whole number of periods >= 1")
    if not (period_length > 0 and np.isfinite(period_length)):
        raise InvalidOptionError("period_length", period_length, fix="a length > 0")
    if not (discount_rate > -1 and np.isfinite(discount_rate)):
        raise InvalidOptionError("discount_rate", discount_rate, fix="a rate > -1, e.g. 0.01")
    xs, tx, tt = _customers(x, t_x, T)
    value = expected_spend(spend, xs, mean_spend)
    fn = {
        "bg_nbd": m.bgnbd_conditional_expected,
        "pareto_nbd": m.pnbd_conditional_expected,
        "mbg_nbd": m.mbgnbd_conditional_expected,
    }[fit.model]
    # every period's cumulative expectation in one vectorised call: (periods, customers)
    horizons = period_length * np.arange(1.0, int(periods) + 1)
    cumulative = fn(fit.values, horizons.reshape((-1,) + (1,) * xs.ndim), xs, tx, tt)
    cumulative = np.broadcast_to(cumulative, (horizons.size, *np.shape(xs)))
    purchases = np.diff(cumulative, axis=0, prepend=np.zeros((1, *np.shape(xs))))
    discount = (1.0 + discount_rate) ** -np.arange(1.0, int(periods) + 1)
    total = value * np.einsum("i,i...->...", discount, purchases)  # no BLAS threads
    return np.asarray(total, dtype=np.float64)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
