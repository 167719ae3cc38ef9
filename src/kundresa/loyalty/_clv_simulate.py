"""Simulated customer summaries from known parameters (planted truth; vectorised numpy).

No per-customer loop: the number of arrivals in ``(0, T]`` of a Poisson process is Poisson,
and given ``N`` arrivals the ``x``-th of them lies at ``T`` times a Beta(x, N - x + 1)
variate (uniform order statistics), so ``(x, t_x)`` are drawn directly.

>>> x, t_x, T, _ = simulate_bg_nbd(1000, r=0.25, alpha=4.0, a=0.8, b=2.5, T=39.0, seed=1)
>>> x.shape, bool((t_x <= T).all()), bool((t_x[x == 0] == 0).all())
((1000,), True, True)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kundresa._errors import InvalidOptionError

__all__ = ["simulate_bg_nbd", "simulate_pareto_nbd", "simulate_spend"]

Array = npt.NDArray[np.float64]


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not (np.isfinite(value) and value > 0):
            raise InvalidOptionError(name, value, fix="give a number > 0")


def _last(rng: np.random.Generator, x: Array, n: Array, span: Array) -> Array:
    """Time of the ``x``-th of ``n`` uniform arrivals on ``(0, span]`` (0 when ``x = 0``)."""
    safe = np.maximum(x, 1)
    return np.where(x > 0, span * rng.beta(safe, np.maximum(n - x, 0) + 1), 0.0)


def _lengths(T: float | npt.ArrayLike, customers: int) -> Array:
    tt = np.broadcast_to(np.asarray(T, dtype=np.float64), (customers,)).copy()
    if not np.all(np.isfinite(tt) & (tt > 0)):
        raise InvalidOptionError("T", float(tt[~(np.isfinite(tt) & (tt > 0))][0]), fix="T > 0")
    return tt


def simulate_bg_nbd(
    customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | npt.ArrayLike = 52.0,
    holdout: float = 0.0,
    seed: int = 0,
) -> tuple[Array, Array, Array, Array]:
    """``(x, t_x, T, x_holdout)`` of ``customers`` simulated under BG/NBD: purchase rate
    gamma(r, alpha), after each repeat purchase drop-out with probability p ~ beta(a, b);
    ``x_holdout`` counts the purchases in ``(T, T + holdout]`` (zeros without a holdout).

    >>> x, t_x, T, later = simulate_bg_nbd(5, r=1.0, alpha=2.0, a=1.0, b=3.0, T=10.0)
    >>> T.tolist(), later.tolist()
    ([10.0, 10.0, 10.0, 10.0, 10.0], [0.0, 0.0, 0.0, 0.0, 0.0])
    """
    _positive(r=r, alpha=alpha, a=a, b=b)
    if not (np.isfinite(holdout) and holdout >= 0):
        raise InvalidOptionError("holdout", holdout, fix="give a length >= 0")
    rng = np.random.default_rng(seed)
    tt = _lengths(T, customers)
    lam = rng.gamma(r, 1.0 / alpha, customers)
    p = rng.beta(a, b, customers)
    k = rng.geometric(p).astype(np.float64)  # the purchase after which the customer leaves
    n = rng.poisson(lam * (tt + holdout)).astype(np.float64)  # arrivals if never leaving
    n_cal = rng.binomial(n.astype(np.int64), tt / (tt + holdout)).astype(np.float64)
    x = np.minimum(n_cal, k)
    return x, _last(rng, x, n_cal, tt), tt, np.minimum(n, k) - x


def simulate_pareto_nbd(
    customers: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    T: float | npt.ArrayLike = 52.0,
    holdout: float = 0.0,
    seed: int = 0,
) -> tuple[Array, Array, Array, Array]:
    """``(x, t_x, T, x_holdout)`` simulated under Pareto/NBD: purchase rate gamma(r, alpha),
    an exponential lifetime whose rate is gamma(s, beta); ``x_holdout`` counts the
    purchases in ``(T, T + holdout]``.

    >>> x, t_x, T, _ = simulate_pareto_nbd(100, r=0.5, alpha=10.0, s=0.6, beta=12.0, T=39.0)
    >>> bool((t_x <= T).all())
    True
    """
    _positive(r=r, alpha=alpha, s=s, beta=beta)
    if not (np.isfinite(holdout) and holdout >= 0):
        raise InvalidOptionError("holdout", holdout, fix="give a length >= 0")
    rng = np.random.default_rng(seed)
    tt = _lengths(T, customers)
    lam = rng.gamma(r, 1.0 / alpha, customers)
    mu = rng.gamma(s, 1.0 / beta, customers)
    life = rng.exponential(1.0 / mu)
    span = np.minimum(life, tt)
    x = rng.poisson(lam * span).astype(np.float64)
    later = rng.poisson(lam * np.clip(life - tt, 0.0, holdout)).astype(np.float64)
    return x, _last(rng, x, x, span), tt, later


def simulate_spend(x: npt.ArrayLike, *, p: float, q: float, gamma: float, seed: int = 0) -> Array:
    """The mean value of each customer's ``x`` transactions under Gamma-Gamma: each value is
    gamma(p, nu), nu ~ gamma(q, gamma); 0 where ``x = 0``.

    >>> float(simulate_spend([0, 3], p=6.0, q=4.0, gamma=15.0)[0])
    0.0
    """
    _positive(p=p, q=q, gamma=gamma)
    rng = np.random.default_rng(seed)
    xs = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / gamma, xs.shape)
    total = rng.gamma(p * np.maximum(xs, 1), 1.0 / nu)
    return np.where(xs > 0, total / np.maximum(xs, 1), 0.0)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
