"""Log-likelihoods and closed-form predictions of the buy-till-you-die models (pure numpy).

Every function is vectorised over customers (or over distinct summary rows, weighted by
the caller): arrays in, arrays out, no Python loop per customer. The formulas and the
papers they come from:

* BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", *Marketing
  Science* 24(2) (likelihood, E[X(t)], P(X(t) = x), the conditional expectation) and
  the P(alive) note (Fader, Hardie & Lee 2008, "Computing
  P(alive) using the BG/NBD model").
* Pareto/NBD: Schmittlein, Morrison & Colombo (1987); the likelihood and P(alive) as written
  in Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related
  expressions" (likelihood, P(alive), conditional expectation).
* Modified BG/NBD: Batislam, Denizel & Filiztekin (2007), *IJRM* 24(3) (drop-out possible at
  time 0, so P(alive) < 1 even when x = 0).
* BG/BB: Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time
  noncontractual setting", *Marketing Science* 29(6).
* Shifted-BG: Fader & Hardie (2007), "How to project customer retention", *Journal of
  Interactive Marketing* 21(1).
* Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".

>>> import numpy as np
>>> ll = bgnbd_ll((0.25, 4.0, 0.8, 2.5), np.array([0.0]), np.array([0.0]), np.array([40.0]))
>>> round(float(ll[0]), 8)
-0.59947382
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kundresa.loyalty._clv_special import betaln, digamma, gammaln, hyp2f1_tail
from kundresa.loyalty._clv_weighted import WeightedBgNbd, WeightedGammaGamma

__all__ = [
    "WeightedBgNbd",
    "WeightedGammaGamma",
    "bgbb_conditional_expected",
    "bgbb_expected",
    "bgbb_ll",
    "bgbb_p_alive",
    "bgbb_p_purchases",
    "bgnbd_conditional_expected",
    "bgnbd_expected",
    "bgnbd_grad",
    "bgnbd_ll",
    "bgnbd_p_alive",
    "bgnbd_p_purchases",
    "gg_expected_spend",
    "gg_grad",
    "gg_ll",
    "mbgnbd_conditional_expected",
    "mbgnbd_expected",
    "mbgnbd_ll",
    "mbgnbd_p_alive",
    "pnbd_conditional_expected",
    "pnbd_expected",
    "pnbd_ll",
    "pnbd_p_alive",
    "pnbd_p_purchases",
    "sbg_ll",
    "sbg_survival",
]

Array = npt.NDArray[np.float64]
Params = Sequence[float] | npt.NDArray[np.float64]


def _f(values: npt.ArrayLike) -> Array:
    return np.asarray(values, dtype=np.float64)


# --------------------------------------------------------------------------- BG/NBD


def _bgnbd_parts(p: Params, x: Array, tx: Array, T: Array) -> tuple[Array, Array, Array]:
    r, alpha, a, b = p
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a3 = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-300))
            - betaln(a, b)
            - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return a1, a2, a3


def bgnbd_ll(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """Per-row BG/NBD log-likelihood (FHL 2005), ``p = (r, alpha, a, b)``.

    >>> import numpy as np
    >>> ll = bgnbd_ll((0.25, 4, 0.8, 2.5), np.array([200.0]), np.array([38.0]), np.array([40.0]))
    >>> round(ll[0].item(), 4)
    100.7957
    """
    a1, a2, a3 = _bgnbd_parts(p, x, tx, T)
    return np.asarray(a1 + np.logaddexp(a2, a3), dtype=np.float64)


def bgnbd_grad(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """Per-row gradient of :func:`bgnbd_ll` w.r.t. ``(r, alpha, a, b)``, shape ``(4, rows)``.

    >>> import numpy as np
    >>> g = bgnbd_grad((0.25, 4, 0.8, 2.5), np.array([2.0]), np.array([30.0]), np.array([39.0]))
    >>> g.shape
    (4, 1)
    """
    r, alpha, a, b = p
    _, a2, a3 = _bgnbd_parts(p, x, tx, T)
    p2 = np.exp(a2 - np.logaddexp(a2, a3))
    p3 = 1.0 - p2
    dr = digamma(r + x) - digamma(r) + np.log(alpha) - p2 * np.log(alpha + T)
    dr = dr - p3 * np.log(alpha + tx)
    dal = r / alpha - p2 * (r + x) / (alpha + T) - p3 * (r + x) / (alpha + tx)
    psi_abx = digamma(a + b + x)
    dab = digamma(a) - digamma(a + b)
    dbb = digamma(b) - digamma(a + b)
    with np.errstate(invalid="ignore", divide="ignore"):
        psi_bx1 = np.where(x > 0, digamma(np.maximum(b + x - 1, 1e-300)), 0.0)
    da = p2 * (digamma(a) - psi_abx) + p3 * (digamma(a + 1) - psi_abx) - dab
    db = p2 * (digamma(b + x) - psi_abx) + p3 * (psi_bx1 - psi_abx) - dbb
    return np.vstack([dr, dal, da, db])


def bgnbd_p_alive(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """P(alive at T | x, t_x, T) under BG/NBD (FHL 2008); exactly 1 when ``x = 0``.

    >>> import numpy as np
    >>> bgnbd_p_alive((0.25, 4, 0.8, 2.5), np.array([0.0]), np.array([0.0]), np.array([40.0]))
    array([1.])
    """
    r, alpha, a, b = p
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
        odds = np.where(x > 0, np.exp(log_ratio), 0.0)
    return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)


def bgnbd_expected(p: Params, t: Array) -> Array:
    """E[X(t)], expected purchases in ``(0, t]`` of a new customer (FHL 2005).

    >>> import numpy as np
    >>> bgnbd_expected((0.25, 4, 0.8, 2.5), np.array([0.0])).tolist() == [0.0]
    True
    """
    return bgnbd_conditional_expected(p, t, np.zeros_like(t), np.zeros_like(t), np.zeros_like(t))


def bgnbd_conditional_expected(p: Params, t: Array, x: Array, tx: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T], expected purchases in ``(T, T + t]`` (FHL 2005).

    >>> import numpy as np
    >>> one = np.array([1.0])
    >>> bool(bgnbd_conditional_expected((0.25, 4, 0.8, 2.5), one, 0 * one, 0 * one, one)[0] > 0)
    True
    """
    r, alpha, a, b = p
    # the formula's ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) through Euler's
    # transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z): the parameters of the
    # new series stay small for any x, so it neither overflows nor loses precision; and
    # (1 - tail) / (a - 1) is summed without the division (exact at a = 1)
    lead = (a + b + x - 1) * _one_minus_tail(a + b - 1 - r, a - 1, a + b + x - 1, t, alpha + T)
    return np.asarray(lead * bgnbd_p_alive(p, x, tx, T), dtype=np.float64)


def _one_minus_tail(A: float, B: float, C: Array, t: Array, base: Array) -> Array:
    """(1 - (1 - z)^B 2F1(A, B; C; z)) / B with z = t / (base + t), stable for any B (its
    B = 0 limit -ln(1 - z) - G included): 2F1 = 1 + B G (:func:`hyp2f1_tail`), so it is
    -expm1(B L) / B - exp(B L) G with L = ln(1 - z) = ln(base / (base + t)).

    >>> import numpy as np
    >>> t, base = np.array([39.0]), np.array([43.0])
    >>> near = _one_minus_tail(0.9, 1e-9, np.array([2.0]), t, base)
    >>> bool(np.isclose(_one_minus_tail(0.9, 0.0, np.array([2.0]), t, base), near, rtol=1e-8))
    True
    """
    cc, bb = np.broadcast_arrays(np.asarray(C, dtype=np.float64), np.asarray(base, np.float64))
    if cc.ndim == 1 and cc.size > 64:  # customers share (x, T): the series once per pair
        order = np.lexsort((bb, cc))
        cs, bs = cc[order], bb[order]
        new = np.ones(cs.size, dtype=bool)
        new[1:] = (cs[1:] != cs[:-1]) | (bs[1:] != bs[:-1])
        if new.sum() < 0.8 * cs.size:
            inv = np.empty(cs.size, dtype=np.int64)
            inv[order] = np.cumsum(new) - 1
            return _one_minus_tail(A, B, cs[new], t, bs[new])[..., inv]
    t, base = np.broadcast_arrays(np.asarray(t, dtype=np.float64), bb)
    C = np.broadcast_to(cc, t.shape)
    L = np.log(base) - np.log(base + t)
    z = t / (base + t)
    G = hyp2f1_tail(A, B, C, z)
    first = -L if abs(B) < 1e-12 else -np.expm1(B * L) / B
    return np.asarray(first - np.exp(B * L) * G, dtype=np.float64)


def bgnbd_p_purchases(p: Params, k: Array, t: float) -> Array:
    """P(X(t) = k), the probability of exactly ``k`` purchases in ``(0, t]`` (FHL 2005).

    >>> import numpy as np
    >>> probs = bgnbd_p_purchases((0.25, 4, 0.8, 2.5), np.arange(200.0), 10.0)
    >>> round(float(probs.sum()), 6)
    1.0
    """
    r, alpha, a, b = p
    k = _f(k)
    lz = np.log(t / (alpha + t)) if t > 0 else -np.inf
    l0 = r * np.log(alpha / (alpha + t))
    with np.errstate(divide="ignore", invalid="ignore"):
        nbd = gammaln(r + k) - gammaln(r) - gammaln(k + 1) + l0 + np.where(k > 0, k * lz, 0.0)
        first = betaln(a, b + k) - betaln(a, b) + nbd
        # the NBD cdf P(N(t) <= k - 1) through cumulative sums over j = 0..max(k) - 1
        kmax = int(k.max()) if k.size else 0
        j = np.arange(max(kmax, 1), dtype=np.float64)
        terms = np.exp(
            gammaln(r + j) - gammaln(r) - gammaln(j + 1) + l0 + np.where(j > 0, j * lz, 0.0)
        )
        cdf = np.concatenate([[0.0], np.cumsum(terms)])  # cdf[k] = P(N <= k - 1)
        tail = 1.0 - cdf[np.clip(k.astype(np.int64), 0, cdf.size - 1)]
        second = np.where(
            k > 0,
            np.exp(betaln(a + 1, np.maximum(b + k - 1, 1e-300)) - betaln(a, b)) * tail,
            0.0,
        )
    return np.asarray(np.exp(first) + second, dtype=np.float64)


# --------------------------------------------------------------------------- Pareto/NBD


def _pnbd_terms(p: Params, x: Array, tx: Array, T: Array) -> tuple[Array, Array, Array]:
    """``common``, ``log term1`` and ``log term2`` of L = exp(common) (term1 + term2)."""
    from scipy.special import hyp2f1  # imported here: the BG/NBD path never needs scipy

    r, alpha, s, beta = p
    rsx = r + s + x
    big = max(alpha, beta)
    diff = abs(alpha - beta)
    # 2F1(r+s+x, b2; r+s+x+1; z) with b2 = s+1 (alpha >= beta) or r+x (alpha < beta), by
    # Euler's transformation (1-z)^(1-b2) 2F1(1, r+s+x+1-b2; r+s+x+1; z): no overflow for
    # large x
    b2 = s + 1 if alpha >= beta else r + x

    def log_f(t: Array) -> Array:
        z = diff / (big + t)
        with np.errstate(divide="ignore"):
            return np.asarray(
                (1 - b2) * np.log1p(-z)
                + np.log(hyp2f1(1.0, rsx + 1 - b2, rsx + 1, z))
                - rsx * np.log(big + t)
            )

    f_tx, f_T = log_f(tx), log_f(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a0 = f_tx + np.log1p(-np.exp(np.minimum(f_T - f_tx, 0.0)))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    term1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    term2 = np.log(s) - np.log(rsx) + log_a0
    return common, term1, term2


def pnbd_ll(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """Per-row Pareto/NBD log-likelihood, ``p = (r, alpha, s, beta)`` (FH 2005).

    >>> import numpy as np
    >>> ll = pnbd_ll((0.55, 10.6, 0.61, 11.7), np.array([2.0]), np.array([30.4]), np.array([38.9]))
    >>> bool(np.isfinite(ll[0]))
    True
    """
    common, term1, term2 = _pnbd_terms(p, x, tx, T)
    return np.asarray(common + np.logaddexp(term1, term2), dtype=np.float64)


def pnbd_p_alive(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """P(alive at T | x, t_x, T) under Pareto/NBD (FH 2005). Unlike BG/NBD it is
    below 1 for ``x = 0`` (a customer may die before the first purchase); it is 1 at ``T = 0``.

    >>> import numpy as np
    >>> z = np.array([0.0])
    >>> pnbd_p_alive((0.55, 10.6, 0.61, 11.7), z, z, z).tolist()
    [1.0]
    """
    _, term1, term2 = _pnbd_terms(p, x, tx, T)
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(term2 - term1)), dtype=np.float64)


def pnbd_expected(p: Params, t: Array) -> Array:
    """E[X(t)] of a new customer under Pareto/NBD,
    r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
    (at s = 1 the limit r/alpha * beta ln(1 + t/beta)).

    >>> import numpy as np
    >>> pnbd_expected((0.55, 10.6, 0.61, 11.7), np.array([0.0])).tolist() == [0.0]
    True
    """
    r, alpha, s, beta = p
    if abs(s - 1) < 1e-10:
        return np.asarray(r * beta / alpha * np.log1p(t / beta), dtype=np.float64)
    return np.asarray(
        r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1)), dtype=np.float64
    )


def pnbd_conditional_expected(p: Params, t: Array, x: Array, tx: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T] under Pareto/NBD (FH 2005, its s = 1 limit included).

    >>> import numpy as np
    >>> one = np.array([1.0])
    >>> bool(pnbd_conditional_expected((0.55, 10.6, 0.61, 11.7), one, one, one, one)[0] > 0)
    True
    """
    r, alpha, s, beta = p
    if abs(s - 1) < 1e-10:
        lead = (r + x) * (beta + T) / (alpha + T) * np.log1p(t / (beta + T))
    else:
        lead = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        lead = lead * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
    return np.asarray(lead * pnbd_p_alive(p, x, tx, T), dtype=np.float64)


def pnbd_p_purchases(p: Params, k: Array, t: float) -> Array:
    """P(X(t) = k) under Pareto/NBD (Fader & Hardie 2006, "Deriving an expression for
    P(X(t) = x) under the Pareto/NBD model"); the difference of series it takes
    loses precision far in the tail, so values are clipped at 0.

    >>> import numpy as np
    >>> probs = pnbd_p_purchases((0.5533, 10.5775, 0.6062, 11.6666), np.arange(150.0), 39.0)
    >>> round(float(probs.sum()), 9), round(float(probs @ np.arange(150.0)), 4)
    (1.0, 1.2134)
    """
    from scipy.special import hyp2f1

    r, al, s, be = p
    k = _f(k).reshape(-1)
    with np.errstate(divide="ignore"):
        first = np.exp(
            gammaln(r + k)
            - gammaln(r)
            - gammaln(k + 1)
            + r * np.log(al / (al + t))
            + np.where(k > 0, k * np.log(t / (al + t)) if t > 0 else -np.inf, 0.0)
            + s * np.log(be / (be + t))
        )
    big = max(al, be)
    b2 = (s + 1) * np.ones_like(k) if al >= be else r + k
    c = r + s + k + 1
    b1 = hyp2f1(r + s, b2, c, abs(al - be) / big) / big ** (r + s)
    j = np.arange(int(k.max()) + 1 if k.size else 1, dtype=np.float64)[None, :]
    kc, b2c, cc = k[:, None], b2[:, None], c[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_tj = np.where(j > 0, j * np.log(t) if t > 0 else -np.inf, 0.0)
        terms = np.exp(
            gammaln(r + s + j)
            - gammaln(r + s)
            - gammaln(j + 1)
            + log_tj
            - (r + s + j) * np.log(big + t)
        ) * hyp2f1(r + s + j, b2c, cc, abs(al - be) / (big + t))
    series = np.where(j <= kc, terms, 0.0).sum(axis=1)
    lead = np.exp(r * np.log(al) + s * np.log(be) + betaln(r + k, s + 1) - betaln(r, s))
    return np.asarray(first + np.maximum(lead * (b1 - series), 0.0), dtype=np.float64)


# --------------------------------------------------------------------------- modified BG/NBD


def mbgnbd_ll(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """Per-row modified BG/NBD log-likelihood (Batislam et al. 2007), ``p = (r, alpha, a, b)``.

    >>> import numpy as np
    >>> ll = mbgnbd_ll((0.25, 4, 0.8, 2.5), np.array([0.0]), np.array([0.0]), np.array([40.0]))
    >>> bool(ll[0] < 0)
    True
    """
    r, alpha, a, b = p
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x + 1) - betaln(a, b) - (r + x) * np.log(alpha + T)
    a3 = betaln(a + 1, b + x) - betaln(a, b) - (r + x) * np.log(alpha + tx)
    return np.asarray(a1 + np.logaddexp(a2, a3), dtype=np.float64)


def mbgnbd_p_alive(p: Params, x: Array, tx: Array, T: Array) -> Array:
    """P(alive at T | x, t_x, T) under the modified BG/NBD (below 1 even for ``x = 0``).

    >>> import numpy as np
    >>> z = np.array([0.0])
    >>> float(mbgnbd_p_alive((0.25, 4, 0.8, 2.5), z, z, np.array([40.0]))[0]) < 1
    True
    """
    r, alpha, a, b = p
    with np.errstate(over="ignore"):
        odds = np.exp(
            np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
    return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)


def mbgnbd_expected(p: Params, t: Array) -> Array:
    """E[X(t)] of a new customer under the modified BG/NBD.

    >>> import numpy as np
    >>> mbgnbd_expected((0.25, 4, 0.8, 2.5), np.array([0.0])).tolist() == [0.0]
    True
    """
    zero = np.zeros_like(t)
    return mbgnbd_conditional_expected(p, t, zero, zero, zero)


def mbgnbd_conditional_expected(p: Params, t: Array, x: Array, tx: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T] under the modified BG/NBD.

    >>> import numpy as np
    >>> one = np.array([1.0])
    >>> bool(mbgnbd_conditional_expected((0.25, 4, 0.8, 2.5), one, one, one, one)[0] > 0)
    True
    """
    r, alpha, a, b = p
    # Euler's transformation, as in bgnbd_conditional_expected (and exact at a = 1)
    lead = (a + b + x) * _one_minus_tail(a + b - r, a - 1, a + b + x, t, alpha + T)
    return np.asarray(lead * mbgnbd_p_alive(p, x, tx, T), dtype=np.float64)


# --------------------------------------------------------------------------- BG/BB


def bgbb_ll(p: Params, x: Array, tx: Array, n: Array) -> Array:
    """Per-row BG/BB log-likelihood (FHS 2010), ``p = (alpha, beta, gamma, delta)``;
    ``x`` transactions in ``n`` opportunities, the last at opportunity ``t_x``.

    The sum over i = 0 .. n - t_x - 1 of B(alpha + x, beta + t_x - x + i) B(gamma + 1,
    delta + t_x + i) depends on ``(x, j = t_x + i)`` only: for each distinct ``n`` it is a
    reverse cumulative log-sum-exp over ``j < n`` of a (distinct x) x n table, read at
    ``t_x``; so the cost grows with the distinct ``(x, n)``, not with the rows times ``n``.

    >>> import numpy as np
    >>> ll = bgbb_ll((1.2, 0.75, 0.66, 2.8), np.array([0.0]), np.array([0.0]), np.array([6.0]))
    >>> bool(ll[0] < 0)
    True
    """
    al, be, ga, de = p
    b_ab, b_gd = betaln(al, be), betaln(ga, de)
    main = betaln(al + x, be + n - x) - b_ab + betaln(ga, de + n) - b_gd
    rest = np.full(x.size, -np.inf)
    for nv in np.unique(n):  # a loop over the distinct opportunity counts, not customers
        rows = np.flatnonzero(n == nv)
        ux, inv = np.unique(x[rows], return_inverse=True)
        j = np.arange(int(nv), dtype=np.float64)[None, :]
        xc = ux[:, None]
        with np.errstate(invalid="ignore"):
            terms = np.where(
                j >= xc,
                betaln(al + xc, be + np.maximum(j - xc, 0.0))
                - b_ab
                + betaln(ga + 1, de + j)
                - b_gd,
                -np.inf,
            )
        # tail[u, j] = log sum over j' >= j of terms[u, j'] (and -inf at j = n: no terms)
        tail = np.logaddexp.accumulate(terms[:, ::-1], axis=1)[:, ::-1]
        tail = np.column_stack([tail, np.full(ux.size, -np.inf)])
        rest[rows] = tail[inv.reshape(-1), tx[rows].astype(np.int64)]
    return np.asarray(np.logaddexp(main, rest), dtype=np.float64)


def bgbb_p_alive(p: Params, x: Array, tx: Array, n: Array) -> Array:
    """P(alive in opportunity n + 1 | x, t_x, n) under BG/BB (FHS 2010).

    >>> import numpy as np
    >>> six = np.array([6.0])
    >>> bgbb_p_alive((1.2, 0.75, 0.66, 2.8), six, six, six).round(3).tolist()
    [0.93]
    """
    al, be, ga, de = p
    num = betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n + 1) - betaln(ga, de)
    return np.asarray(np.exp(num - bgbb_ll(p, x, tx, n)), dtype=np.float64)


def bgbb_expected(p: Params, n: Array) -> Array:
    """E[X(n)], expected transactions in the first ``n`` opportunities (FHS 2010).

    >>> import numpy as np
    >>> bgbb_expected((1.2, 0.75, 0.66, 2.8), np.array([0.0])).tolist() == [0.0]
    True
    """
    al, be, ga, de = p
    log_ratio = gammaln(ga + de) - gammaln(ga + de + n) + gammaln(1 + de + n) - gammaln(1 + de)
    # (1 - ratio) / (gamma - 1), and at gamma = 1 its limit psi(1 + delta + n) - psi(1 + delta)
    limit = digamma(1 + de + n) - digamma(1 + de)
    share = _expm1_over(log_ratio, ga - 1, limit)
    return np.asarray(al / (al + be) * de * share, dtype=np.float64)


def _expm1_over(h: Array, eps: float, limit: Array) -> Array:
    """-expm1(h) / eps for ``h -> 0`` as ``eps -> 0`` (``h`` vanishes at ``eps = 0``): the
    first-order ``limit`` (-dh/d eps) when ``|eps| < 1e-7``, where the quotient is 0/0.

    >>> import numpy as np
    >>> _expm1_over(np.array([-1e-3]), 1e-3, np.array([1.0])).round(6).tolist()
    [0.9995]
    """
    if abs(eps) < 1e-7:
        return np.asarray(limit, dtype=np.float64)
    return np.asarray(-np.expm1(h) / eps, dtype=np.float64)


def bgbb_conditional_expected(p: Params, n_star: Array, x: Array, tx: Array, n: Array) -> Array:
    """E[X(n, n + n*) | x, t_x, n], expected transactions in the next ``n*`` opportunities
    (FHS 2010).

    >>> import numpy as np
    >>> six = np.array([6.0])
    >>> float(bgbb_conditional_expected((1.2, 0.75, 0.66, 2.8), six, six, six, six)[0]) > 3
    True
    """
    al, be, ga, de = p
    lead = betaln(al + x + 1, be + n - x) - betaln(al, be) - bgbb_ll(p, x, tx, n)
    g = gammaln(ga + de) - gammaln(1 + de)
    l1 = gammaln(1 + de + n) - gammaln(ga + de + n)
    l2 = gammaln(1 + de + n + n_star) - gammaln(ga + de + n + n_star)
    # (d1 - d2) / (gamma - 1) = d1 (1 - d2 / d1) / (gamma - 1), exact at gamma = 1 (d1 = d2)
    limit = digamma(1 + de + n + n_star) - digamma(1 + de + n)
    share = _expm1_over(l2 - l1, ga - 1, limit)
    return np.asarray(np.exp(lead + g + l1) * de * share, dtype=np.float64)


def bgbb_p_purchases(p: Params, k: Array, n: int) -> Array:
    """P(X(n) = k), the probability of ``k`` transactions in ``n`` opportunities (FHS 2010).

    >>> import numpy as np
    >>> round(float(bgbb_p_purchases((1.2, 0.75, 0.66, 2.8), np.arange(7.0), 6).sum()), 9)
    1.0
    """
    al, be, ga, de = p
    k = _f(k)
    b_ab, b_gd = betaln(al, be), betaln(ga, de)
    lchoose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    first = np.exp(lchoose + betaln(al + k, be + n - k) - b_ab + betaln(ga, de + n) - b_gd)
    i = np.arange(n, dtype=np.float64)[None, :]
    kc = k[:, None]
    with np.errstate(invalid="ignore"):
        lc = gammaln(i + 1) - gammaln(kc + 1) - gammaln(np.maximum(i - kc, 0) + 1)
        t = lc + betaln(al + kc, be + np.maximum(i - kc, 0)) - b_ab + betaln(ga + 1, de + i) - b_gd
    rest = np.where(i >= kc, np.exp(t), 0.0).sum(axis=1)
    return np.asarray(first + rest, dtype=np.float64)


# --------------------------------------------------------------------------- shifted-BG


def sbg_ll(p: Params, lost: Array, alive_end: float) -> float:
    """Shifted-BG log-likelihood (FH 2007): ``lost[t-1]`` customers churned in period
    ``t = 1..n``; ``alive_end`` are still active after period ``n``.

    >>> import numpy as np
    >>> round(sbg_ll((1.0, 1.0), np.array([50.0]), 50.0), 4)
    -69.3147
    """
    al, be = p
    t = np.arange(1, lost.size + 1, dtype=np.float64)
    log_pt = betaln(al + 1, be + t - 1) - betaln(al, be)
    log_s = betaln(al, be + lost.size) - betaln(al, be)
    return float(np.dot(lost, log_pt) + alive_end * log_s)


def sbg_survival(p: Params, t: Array) -> Array:
    """S(t) = B(alpha, beta + t) / B(alpha, beta), the share still active after ``t`` periods.

    >>> import numpy as np
    >>> sbg_survival((1.0, 1.0), np.array([0.0, 1.0])).round(12).tolist()
    [1.0, 0.5]
    """
    al, be = p
    return np.asarray(np.exp(betaln(al, be + t) - betaln(al, be)), dtype=np.float64)


# --------------------------------------------------------------------------- Gamma-Gamma


def gg_ll(p: Params, x: Array, m: Array) -> Array:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` over ``x > 0``
    transactions (FH 2013), ``p = (p, q, gamma)``.

    >>> import numpy as np
    >>> bool(gg_ll((6.25, 3.74, 15.44), np.array([2.0]), np.array([22.35]))[0] < 0)
    True
    """
    pp, q, g = p
    px = pp * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x),
        dtype=np.float64,
    )


def gg_grad(p: Params, x: Array, m: Array) -> Array:
    """Per-customer gradient of :func:`gg_ll` w.r.t. ``(p, q, gamma)``, shape ``(3, rows)``.

    >>> import numpy as np
    >>> gg_grad((6.25, 3.74, 15.44), np.array([2.0]), np.array([22.35])).shape
    (3, 1)
    """
    pp, q, g = p
    px = pp * x
    log_gmx = np.log(g + m * x)
    psi = digamma(px + q)
    dp = x * (psi - digamma(px) + np.log(m) + np.log(x) - log_gmx)
    dq = psi - digamma(q) + np.log(g) - log_gmx
    dg = q / g - (px + q) / (g + m * x)
    return np.vstack([dp, dq, dg])


def gg_expected_spend(p: Params, x: Array, m: Array) -> Array:
    """E[M | p, q, gamma, m_x, x] = p (gamma + x m_x) / (p x + q - 1) (FH 2013); for
    ``x = 0`` the population mean p gamma / (q - 1).

    >>> import numpy as np
    >>> gg_expected_spend((6.0, 4.0, 15.0), np.array([0.0]), np.array([0.0])).tolist()
    [30.0]
    """
    pp, q, g = p
    return np.asarray(pp * (g + x * m) / (pp * x + q - 1), dtype=np.float64)
