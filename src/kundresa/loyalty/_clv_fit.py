"""Maximum-likelihood fits of the customer-base models (Newton or scipy, log-parameters).

How a fit runs (the same for every model):

1. The summary is checked (one-line errors naming the field) and collapsed to its distinct
   rows with weights (a lexsort), so a million customers with few distinct
   ``(x, t_x, T)`` cost no more than the distinct rows; the likelihood is vectorised.
2. The parameters are optimised on the log scale (so they stay positive), minimising the
   mean negative log-likelihood from a few starting values (moment-based and generic).
   BG/NBD and Gamma-Gamma: Newton's method with the exact gradient and Hessian
   (:mod:`~kundresa.loyalty._clv_weighted`, numpy only: no scipy import), damped
   (Levenberg-Marquardt) where the Hessian is not positive definite or a step does not
   decrease the objective; the first good end is the fit. The other models: scipy's BFGS
   with finite differences, falling back to Nelder-Mead and BFGS again where BFGS stalls on
   a ridge; starts run until two good ends agree (one on large data), the best end wins.
3. Standard errors: the Hessian ``H`` of the total negative log-likelihood in the log
   parameters ``u = log(theta)`` (exact for BG/NBD and Gamma-Gamma; central finite
   differences of the likelihood, step ``1e-4``, otherwise); its inverse is the covariance
   of ``u`` and the delta method gives ``cov(theta) = diag(theta) H^-1 diag(theta)`` (the
   gradient vanishes at the optimum, so this equals the inverse observed information in
   the natural parameters).
4. A :class:`ConvergenceWarning` (one line, naming the model) is issued when the optimiser
   did not converge, a parameter ends at a boundary (a shape parameter beyond 1e-4 .. 1e4,
   a scale parameter such as BG/NBD's alpha beyond 1e-7 .. 1e7 times the data's own scale,
   the mean ``T`` or the mean spend: limits where the model degenerates; the warning
   names them, e.g. ``b -> infinity``), or the Hessian is not positive definite
   (standard errors are then NaN, ``null`` in JSON).

>>> import numpy as np
>>> fit = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
>>> round(fit["alpha"], 4), round(fit["beta"], 4), round(fit.log_likelihood, 3)
(0.7041, 1.182, -1680.265)
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from kundresa._errors import InvalidOptionError
from kundresa.loyalty import _clv_models as m
from kundresa.loyalty._clv_result import MODELS, ConvergenceWarning, Model, ModelFit
from kundresa.loyalty._clv_weighted import WeightedBgNbd, WeightedGammaGamma, _dot

__all__ = [
    "fit_bg_bb",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_mbg_nbd",
    "fit_pareto_nbd",
    "fit_sbg",
]

Array = npt.NDArray[np.float64]
#: a shape parameter beyond 1e-4 .. 1e4 is at a boundary (a degenerate limit of the model);
#: a scale parameter beyond 1e-7 .. 1e7 times the data's own scale (see _bounds)
_SHAPE_BOUND = float(np.log(1e4))
_SCALE_BOUND = 16.0
_SCALES = {"bg_nbd": {"alpha"}, "mbg_nbd": {"alpha"}, "pareto_nbd": {"alpha", "beta"},
           "gamma_gamma": {"gamma"}}  # fmt: skip


def _bounds(model: Model, unit: float = 1.0) -> tuple[Array, Array]:
    """``(centre, width)`` in ``u = log(theta)``: a parameter is at a boundary when
    ``|u - centre| > width``; a scale parameter's centre is the log of the data's own scale
    ``unit`` (the mean ``T``, the mean spend), so the boundary does not depend on the unit
    the data are measured in (weeks or seconds, euros or cents)."""
    scales = _SCALES.get(model, set())
    names = MODELS[model]
    centre = np.array([np.log(unit) if n in scales else 0.0 for n in names])
    return centre, np.array([_SCALE_BOUND if n in scales else _SHAPE_BOUND for n in names])


def _column(name: str, values: npt.ArrayLike, fix: str) -> Array:
    try:
        out = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidOptionError(name, values, fix=f"give numbers; {fix}") from None
    bad = ~np.isfinite(out)
    if bad.any():
        raise InvalidOptionError(name, out[bad][0], fix=f"give finite numbers; {fix}")
    return out


def _summary(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    *,
    horizon: str = "T",
) -> tuple[Array, Array, Array, Array, float]:
    """Checked, collapsed to distinct rows: ``x, t_x, T, weights, customers``."""
    xs = _column("x", x, "x is each customer's number of repeat purchases")
    tx = _column("t_x", t_x, "t_x is the time of the last repeat purchase")
    tt = _column(horizon, T, f"{horizon} is each customer's observation length")
    n = xs.size
    if tx.size != n or tt.size != n:
        raise InvalidOptionError(
            "t_x", f"{tx.size} values", fix=f"give x, t_x and {horizon} of the same length ({n})"
        )
    w = np.ones(n) if weights is None else _column("weights", weights, "one count per row")
    if w.size != n:
        raise InvalidOptionError("weights", f"{w.size} values", fix=f"give {n} weights, one a row")
    if n == 0 or w.sum() <= 0:
        raise InvalidOptionError("x", "no customers", fix="give at least one customer")
    checks = [
        ("x", xs, (xs < 0) | (xs != np.round(xs)), "x counts purchases: whole numbers >= 0"),
        ("t_x", tx, (tx < 0) | (tx > tt), f"t_x must lie between 0 and {horizon}"),
        (horizon, tt, tt <= 0, f"{horizon} must be > 0"),
        ("weights", w, w < 0, "weights count customers: >= 0"),
    ]
    for name, values, bad, fix in checks:
        if bad.any():
            raise InvalidOptionError(name, float(values[bad][0]), fix=fix)
    return (*_distinct(xs, tx, tt, w), float(w.sum()))


def _distinct(x: Array, tx: Array, tt: Array, w: Array) -> tuple[Array, Array, Array, Array]:
    """The distinct ``(x, t_x, T)`` rows with summed weights (a lexsort: faster than
    ``numpy.unique(axis=0)`` on a million rows); rows of weight 0 are dropped.

    >>> [a.tolist() for a in _distinct(*map(np.array, ([1.0, 0, 1], [2.0, 0, 2], [5.0] * 3,
    ...                                                  [1.0, 1, 2])))]
    [[0.0, 1.0], [0.0, 2.0], [5.0, 5.0], [1.0, 3.0]]
    """
    order = np.lexsort((tt, tx, x))
    xs, txs, tts, ws = x[order], tx[order], tt[order], w[order]
    new = np.ones(xs.size, dtype=bool)
    new[1:] = (np.diff(xs) != 0) | (np.diff(txs) != 0) | (np.diff(tts) != 0)
    starts = np.flatnonzero(new)
    counts = np.add.reduceat(ws, starts)
    keep = counts > 0
    first = starts[keep]
    return xs[first], txs[first], tts[first], counts[keep]


def _hessian(f: Callable[[Array], float], u: Array, h: float = 1e-4) -> Array:
    k = u.size
    hess = np.empty((k, k))
    eye = np.eye(k) * h
    f0 = f(u)
    for i in range(k):
        for j in range(i, k):
            if i == j:
                v = (f(u + eye[i]) - 2 * f0 + f(u - eye[i])) / h**2
            else:
                v = (
                    f(u + eye[i] + eye[j])
                    - f(u + eye[i] - eye[j])
                    - f(u - eye[i] + eye[j])
                    + f(u - eye[i] - eye[j])
                ) / (4 * h**2)
            hess[i, j] = hess[j, i] = v
    return hess


def _converged(res: Any) -> bool:
    """BFGS often reports "precision loss" at an optimum it cannot improve on in float64;
    that is converged when the (scaled) gradient is small."""
    jac = getattr(res, "jac", None)
    gnorm = float(np.max(np.abs(jac))) if jac is not None else np.inf
    return bool(res.success) or gnorm < 1e-5


class _End(NamedTuple):
    """Where an optimiser stopped (the fields of scipy's ``OptimizeResult`` used here)."""

    x: Array
    fun: float
    success: bool
    message: str
    nit: int
    jac: Array
    hess: Array  # of the mean negative log-likelihood in u = log(theta)


Full = Callable[[Array], tuple[float, Array, Array]]


def _newton(full: Full, u0: Array, bounds: tuple[Array, Array], scale: float) -> _End:
    """Newton's method on ``u = log(theta)`` with the exact Hessian, damped (Levenberg-
    Marquardt: ``H + lambda I`` until it is positive definite and the step decreases the
    objective, steps of at most 2 in ``u``); stops when the gradient of the mean negative
    log-likelihood is below 1e-10, the objective stops decreasing (a ridge), or a parameter
    runs past its boundary."""
    k = u0.size

    def at(u: Array) -> tuple[float, Array, Array]:
        theta = np.exp(u)
        with np.errstate(all="ignore"):
            v, g, h = full(theta)
        fu = -v * scale
        gu = -g * theta * scale
        hu = -(h * np.outer(theta, theta) + np.diag(g * theta)) * scale
        finite = np.isfinite(fu) and np.all(np.isfinite(gu)) and np.all(np.isfinite(hu))
        return (float(fu), gu, hu) if finite else (np.inf, gu, hu)

    u = np.asarray(u0, dtype=np.float64)
    f, g, h = at(u)
    if not np.isfinite(f):
        return _End(u, np.inf, False, "the likelihood is not finite at the start", 0, g, h)
    lam, nit, message = 0.0, 0, "the gradient vanishes"
    while max(abs(g)) > 1e-10:
        if nit >= 200:
            message = "200 Newton iterations"
            break
        nit += 1
        step = None
        while lam < 1e10:
            try:
                np.linalg.cholesky(h + lam * np.eye(k))
            except np.linalg.LinAlgError:
                lam = max(10 * lam, 1e-6)
                continue
            trial = -np.linalg.solve(h + lam * np.eye(k), g)
            trial *= min(1.0, 2.0 / max(float(np.max(np.abs(trial))), 1e-300))
            if -float(g @ trial) < 1e-15 * max(1.0, abs(f)):  # below float64's noise in f
                break
            if np.all(np.abs(u + trial) <= 50):
                fn, gn, hn = at(u + trial)
                if fn <= f + 1e-4 * float(g @ trial):
                    step = trial
                    break
            lam = max(10 * lam, 1e-6)
        if step is None:  # no decrease left: the optimum within float64 (or a wall)
            message = "no further decrease"
            break
        gain = f - fn
        u, f, g, h = u + step, fn, gn, hn
        lam = lam / 10 if lam > 1e-7 else 0.0
        if gain <= 1e-12 * max(1.0, abs(f)) and max(abs(g)) <= 1e-8:
            message = "no further decrease (a flat optimum or ridge)"
            break
        if np.any(np.abs(u - bounds[0]) > bounds[1] + 2):
            message = "a parameter runs to its boundary"
            break
    success = max(abs(g)) <= 1e-7
    return _End(u, f, success, message, nit, g, h)


def _scipy(objective: Callable[[Array], float], u0: Array, good: Callable[[Any], bool]) -> Any:
    """BFGS with finite differences; where it stalls on a ridge or a flat region, the
    simplex, then BFGS again (``res.nit`` counts all three)."""
    from scipy.optimize import minimize  # imported here: BG/NBD and Gamma-Gamma need none

    res = minimize(objective, u0, jac="3-point", method="BFGS", options={"gtol": 1e-9})
    if good(res):
        return res
    nit = int(res.nit)
    coarse = minimize(
        objective,
        u0,
        method="Nelder-Mead",
        options={"maxiter": 400 * u0.size, "xatol": 1e-7, "fatol": 1e-12},
    )
    res = minimize(objective, coarse.x, jac="3-point", method="BFGS", options={"gtol": 1e-9})
    res.nit = int(res.nit) + nit + int(coarse.nit)
    return res


def _fit(
    model: Model,
    total_ll: Callable[[Array], float],
    starts: Sequence[Sequence[float]],
    customers: float,
    rows: int,
    started: float,
    full: Full | None = None,
    unit: float = 1.0,
) -> ModelFit:
    """Maximise ``total_ll(theta)`` over positive ``theta`` from each start; the best wins.

    ``full(theta)`` (optional) gives the total log-likelihood, its gradient and Hessian:
    then the optimiser is :func:`_newton`, else scipy's BFGS (:func:`_scipy`).
    The starts run in order until two good ends (converged, inside the boundaries) agree on
    the likelihood, or on large data (over 20,000 distinct rows) until the first good end;
    the best end wins. ``unit`` is the data's scale (see :func:`_bounds`).
    """
    scale = 1.0 / max(customers, 1.0)
    bounds = _bounds(model, unit)
    centre, width = bounds

    def objective(u: Array) -> float:
        if np.any(np.abs(u) > 50):
            return np.inf
        with np.errstate(all="ignore"):
            value = -total_ll(np.exp(u)) * scale
        return float(value) if np.isfinite(value) else np.inf

    def good(res: Any) -> bool:
        return bool(np.all(np.abs(res.x - centre) <= width)) and _converged(res)

    best = None
    iterations = 0
    ends: list[float] = []  # the objective at each good end
    for tried, start in enumerate(starts, 1):
        u0 = np.log(np.asarray(start, dtype=np.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = _newton(full, u0, bounds, scale) if full else _scipy(objective, u0, good)
        iterations += int(res.nit)
        if good(res):
            ends.append(float(res.fun))
        if best is None or (good(res), -res.fun) > (good(best), -best.fun):
            best = res
        # enough: one good end on large data, two that agree on small data
        agree = len(ends) >= 2 and abs(ends[-1] - min(ends[:-1])) < 1e-9 * max(1.0, abs(ends[-1]))
        # (Newton with the exact Hessian ends at a proper maximum: its first good end is
        # it; and two ends at a boundary tell the data do not identify the model)
        newton = full is not None
        if ((rows > 20_000 or newton) and ends) or agree or (newton and tried >= 2):
            break
    assert best is not None
    u = np.asarray(best.x, dtype=np.float64)
    theta = np.exp(u)
    names = MODELS[model]
    converged = _converged(best)
    outside = np.abs(u - centre) > width
    at_boundary = bool(np.any(outside))
    with np.errstate(all="ignore"):
        if isinstance(best, _End):  # the exact Hessian, at the optimum
            hess = best.hess / scale
        else:
            hess = _hessian(lambda v: -total_ll(np.exp(v)), u)
    try:
        np.linalg.cholesky(hess)
        cov_u = np.linalg.inv(hess)
        cov = cov_u * np.outer(theta, theta)
        se = np.sqrt(np.diag(cov))
        posdef = bool(np.all(np.isfinite(se)))
    except np.linalg.LinAlgError:
        posdef = False
    if not posdef:
        cov = np.full((u.size, u.size), np.nan)
        se = np.full(u.size, np.nan)
    shown = ", ".join(f"{n} = {t:.4g}" for n, t in zip(names, theta, strict=True))
    if not converged and not at_boundary:  # the boundary warning below says why
        warnings.warn(
            f"{model}: the optimiser did not converge ({best.message}); {shown}",
            ConvergenceWarning,
            stacklevel=3,
        )
    if at_boundary:
        where = ", ".join(
            f"{n} -> {'0' if v < c else 'infinity'}"
            for n, v, c, out in zip(names, u, centre, outside, strict=True)
            if out
        )
        warnings.warn(
            f"{model}: the fit ends at a parameter boundary ({where}; {shown}): the data "
            "may not identify the model (too few repeat purchases, or a simpler model fits)",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif not posdef:
        warnings.warn(
            f"{model}: the Hessian is not positive definite at {shown}; standard errors are NaN",
            ConvergenceWarning,
            stacklevel=3,
        )
    return ModelFit(
        model=model,
        params=dict(zip(names, (float(t) for t in theta), strict=True)),
        standard_errors=dict(zip(names, (float(s) for s in se), strict=True)),
        log_likelihood=-float(best.fun) / scale if isinstance(best, _End) else total_ll(theta),
        customers=customers,
        rows=rows,
        converged=converged,
        at_boundary=at_boundary,
        iterations=iterations,
        message=str(best.message),
        covariance=tuple(tuple(float(c) for c in row) for row in cov),
        seconds=time.perf_counter() - started,
    )


def _mean(values: Array, w: Array) -> float:
    return _dot(w, values) / float(w.sum())


def _rate_starts(x: Array, T: Array, w: Array, shape: Sequence[float]) -> list[list[float]]:
    """Starting values: r = 1 and alpha so that r/alpha is the mean purchase rate."""
    rate = max((_dot(w, x) / _dot(w, T)), 1e-6)
    return [[1.0, 1.0 / rate, *shape], [0.5, 0.5 / rate, *shape]]


def fit_bg_nbd(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> ModelFit:
    """Fit the BG/NBD model (Fader, Hardie & Lee 2005) by maximum likelihood.

    ``x`` is each customer's number of repeat purchases, ``t_x`` the time of the last one
    and ``T`` the time since the first purchase (the same unit, e.g. weeks); ``weights``
    counts customers per row. Parameters ``r, alpha`` (purchase rate, gamma) and ``a, b``
    (drop-out probability, beta); see the module notes for the optimiser and the
    standard errors.

    >>> from kundresa.loyalty import simulate_bg_nbd
    >>> x, t_x, T, _ = simulate_bg_nbd(20_000, r=0.25, alpha=4.0, a=0.8, b=2.5, T=39.0, seed=1)
    >>> fit = fit_bg_nbd(x, t_x, T)
    >>> {k: round(v, 2) for k, v in fit.params.items()}
    {'r': 0.25, 'alpha': 4.06, 'a': 0.79, 'b': 2.42}
    >>> round(fit.standard_errors["b"], 2)
    0.2
    """
    started = time.perf_counter()
    xs, tx, tt, w, n = _summary(x, t_x, T, weights)
    # the x-only terms are shared by rows with the same x: evaluated once per distinct x
    evaluator = WeightedBgNbd(xs, tx, tt, w)

    def ll(p: Array) -> float:
        return evaluator.full(p, hessian=False)[0]

    starts = _rate_starts(xs, tt, w, (1.0, 1.0)) + _rate_starts(xs, tt, w, (0.5, 3.0))
    unit = _mean(tt, w)
    if xs.size > 100_000:  # start from a fit on a sample: 2-3 Newton steps on all rows
        starts = [*_sample_start(xs, tx, tt, w, starts[0], unit), *starts]
    return _fit("bg_nbd", ll, starts, n, xs.size, started, evaluator.full, unit)


def _sample_start(
    x: Array, tx: Array, T: Array, w: Array, start: Sequence[float], unit: float
) -> list[list[float]]:
    """The BG/NBD fit on ~20,000 of the distinct rows (those of weight > 1 all kept, the
    others sampled and up-weighted: the same expected likelihood), as a start; none when
    that fit does not converge inside the boundaries."""
    heavy = w > 1
    light = np.flatnonzero(~heavy)
    rate = min(1.0, 20_000 / max(light.size, 1))
    picked = np.random.default_rng(0).random(light.size) < rate
    keep = np.sort(np.r_[np.flatnonzero(heavy), light[picked]])
    ws = np.where(heavy[keep], w[keep], w[keep] / rate)
    sub = WeightedBgNbd(x[keep], tx[keep], T[keep], ws)
    centre, width = _bounds("bg_nbd", unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        end = _newton(sub.full, np.log(np.asarray(start)), (centre, width), 1 / float(ws.sum()))
    if end.success and np.all(np.abs(end.x - centre) <= width):
        return [np.exp(end.x).tolist()]
    return []


def fit_mbg_nbd(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> ModelFit:
    """Fit the modified BG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but a
    customer may also drop out at time 0, so one without repeat purchases can be dead.

    >>> x, t_x, T = [0, 1, 2, 5, 1, 3], [0, 10, 20, 30, 35, 12], [39] * 6
    >>> fit = fit_mbg_nbd(x, t_x, T, weights=[600, 150, 100, 60, 60, 30])
    >>> fit.model, fit.customers, fit.converged
    ('mbg_nbd', 1000.0, True)
    """
    started = time.perf_counter()
    xs, tx, tt, w, n = _summary(x, t_x, T, weights)

    def ll(p: Array) -> float:
        return _dot(w, m.mbgnbd_ll(p, xs, tx, tt))

    starts = _rate_starts(xs, tt, w, (1.0, 1.0)) + _rate_starts(xs, tt, w, (0.5, 3.0))
    return _fit("mbg_nbd", ll, starts, n, xs.size, started, unit=_mean(tt, w))


def fit_pareto_nbd(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> ModelFit:
    """Fit the Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchase rate
    gamma(r, alpha), drop-out rate gamma(s, beta), in continuous time.

    >>> from kundresa.loyalty import simulate_pareto_nbd
    >>> x, t_x, T, _ = simulate_pareto_nbd(5000, r=0.55, alpha=10.6, s=0.6, beta=11.7, T=39.0)
    >>> round(fit_pareto_nbd(x, t_x, T)["r"], 1)
    0.6
    """
    started = time.perf_counter()
    xs, tx, tt, w, n = _summary(x, t_x, T, weights)

    def ll(p: Array) -> float:
        return _dot(w, m.pnbd_ll(p, xs, tx, tt))

    mean_t = _dot(w, tt) / w.sum()
    starts = [[*s[:2], 1.0, mean_t] for s in _rate_starts(xs, tt, w, ())]
    return _fit("pareto_nbd", ll, starts, n, xs.size, started, unit=_mean(tt, w))


def fit_bg_bb(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> ModelFit:
    """Fit the BG/BB model (Fader, Hardie & Shang 2010) of discrete opportunities: ``x``
    transactions in ``n`` opportunities (whole numbers), the last at opportunity ``t_x``;
    ``weights`` counts customers per ``(x, t_x, n)`` row (a recency/frequency table).

    >>> fit = fit_bg_bb([0, 1, 1, 2, 3, 6], [0, 1, 5, 4, 6, 6], [6] * 6,
    ...                 weights=[300, 100, 60, 80, 90, 120])
    >>> fit.rows, round(fit.log_likelihood, 1)
    (6, -1994.4)
    """
    started = time.perf_counter()
    xs, tx, nn, w, total = _summary(x, t_x, n, weights, horizon="n")
    if np.any(nn != np.round(nn)) or np.any(tx != np.round(tx)) or np.any(xs > tx):
        raise InvalidOptionError(
            "t_x", "not whole", fix="BG/BB counts opportunities: whole x <= t_x <= n"
        )

    def ll(p: Array) -> float:
        return _dot(w, m.bgbb_ll(p, xs, tx, nn))

    starts = [[1.0, 1.0, 1.0, 1.0], [0.5, 0.5, 0.5, 3.0]]
    return _fit("bg_bb", ll, starts, total, xs.size, started)


def fit_sbg(alive: Sequence[float] | npt.ArrayLike) -> ModelFit:
    """Fit the shifted-beta-geometric model of contractual retention (Fader & Hardie 2007)
    to the number of customers still active at the start of periods 0, 1, ..., n of one
    cohort (``alive[0]`` is the cohort size; counts may not rise).

    >>> fit = fit_sbg([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(fit["alpha"], 3), round(fit["beta"], 3)
    (0.668, 3.806)
    """
    started = time.perf_counter()
    counts = _column("alive", alive, "the active customers at the start of each period")
    if counts.size < 2 or counts[0] <= 0:
        raise InvalidOptionError(
            "alive", counts.tolist(), fix="give the cohort size and >= 1 period"
        )
    lost = -np.diff(counts)
    if np.any(lost < 0) or counts[-1] < 0:
        raise InvalidOptionError(
            "alive", counts.tolist(), fix="active counts cannot rise from one period to the next"
        )
    end = float(counts[-1])

    def ll(p: Array) -> float:
        return m.sbg_ll(p, lost, end)

    return _fit("sbg", ll, [[1.0, 1.0], [0.5, 3.0]], float(counts[0]), counts.size, started)


def fit_gamma_gamma(
    x: npt.ArrayLike,
    mean_spend: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> ModelFit:
    """Fit the Gamma-Gamma spend model (Fader & Hardie 2013) to each customer's number of
    repeat transactions ``x`` and their mean value ``mean_spend``; customers with ``x = 0``
    carry no spend information and are left out (as in the paper). The model assumes spend
    is independent of the purchase process.

    >>> from kundresa.loyalty import simulate_spend
    >>> x = np.arange(5000) % 6
    >>> fit = fit_gamma_gamma(x, simulate_spend(x, p=6.0, q=4.0, gamma=15.0))
    >>> fit.customers, round(fit["q"])
    (4166.0, 4)
    """
    started = time.perf_counter()
    xs = _column("x", x, "x is each customer's number of repeat purchases")
    ms = _column("mean_spend", mean_spend, "the mean value of each customer's repeat purchases")
    w = np.ones(xs.size) if weights is None else _column("weights", weights, "one count per row")
    if ms.size != xs.size or w.size != xs.size:
        raise InvalidOptionError(
            "mean_spend", f"{ms.size} values", fix=f"give x, mean_spend (and weights) of {xs.size}"
        )
    keep = (xs > 0) & (w > 0)
    if np.any(ms[keep] <= 0):
        raise InvalidOptionError(
            "mean_spend", float(ms[keep][ms[keep] <= 0][0]), fix="spend must be > 0 when x > 0"
        )
    if not keep.any():
        raise InvalidOptionError("x", "all zero", fix="Gamma-Gamma needs customers with x > 0")
    xs, ms, w = xs[keep], ms[keep], w[keep]

    evaluator = WeightedGammaGamma(xs, ms, w)

    def ll(p: Array) -> float:
        return evaluator.full(p, hessian=False)[0]

    mean = _dot(w, ms) / w.sum()
    starts = [[2.0, 3.0, mean], [5.0, 5.0, mean], [1.0, 1.0, 1.0]]
    return _fit("gamma_gamma", ll, starts, float(w.sum()), xs.size, started, evaluator.full, mean)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
