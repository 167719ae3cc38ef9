"""Properties of the loyalty models (hypothesis, derandomised): planted parameters are
recovered within their standard errors, P(alive) is a probability with the limits the
maths gives, and the simulators agree with the closed-form expectations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kundresa.loyalty import (
    ModelFit,
    calibration_table,
    conditional_expected_purchases,
    expected_purchases,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    p_alive,
    simulate_bg_nbd,
    simulate_pareto_nbd,
    simulate_spend,
)

SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
# fits are slow: 8 examples, no shrinking (a failure reports its parameters as they are)
FITS = settings(SETTINGS, max_examples=8, phases=[Phase.explicit, Phase.generate])


def _fit_of(model: str, params: dict[str, float]) -> ModelFit:
    return ModelFit(model, params, {}, 0.0, 1, 1, True)  # type: ignore[arg-type]


def _within(fit: ModelFit, truth: dict[str, float], k: float = 3.5) -> None:
    """Every estimate within ``k`` standard errors of the truth: 3.5, so that 8 examples of
    4 parameters fail by chance < 2% of the time (the z-scores, measured at one planted point
    over 30-40 seeds, had standard deviations 0.8-1.04: the standard errors are right)."""
    for name, value in truth.items():
        se = fit.standard_errors[name]
        assert abs(fit[name] - value) < k * se, f"{name}: {fit[name]:.4g} vs {value} (se {se:.3g})"


@FITS
@given(
    r=st.floats(0.2, 2.0),
    alpha=st.floats(2.0, 15.0),
    a=st.floats(0.5, 3.0),
    b=st.floats(1.0, 6.0),
    seed=st.integers(0, 2**16),
)
def test_bgnbd_recovers_planted_parameters(
    r: float, alpha: float, a: float, b: float, seed: int
) -> None:
    """30,000 customers acquired over a year (T from 26 to 78 weeks) under planted BG/NBD
    parameters: every estimate lies within 3.5 standard errors of the truth."""
    T = np.random.default_rng(seed).uniform(26, 78, 30_000).round()
    x, t_x, T, _ = simulate_bg_nbd(30_000, r=r, alpha=alpha, a=a, b=b, T=T, seed=seed)
    fit = fit_bg_nbd(x, t_x, T)
    assert fit.converged
    assert not fit.at_boundary
    _within(fit, {"r": r, "alpha": alpha, "a": a, "b": b})


def test_pareto_nbd_and_gamma_gamma_recover_planted_parameters() -> None:
    """Pareto/NBD and Gamma-Gamma at CDNOW-like planted values (Pareto/NBD fits are slower:
    one seed, t_x on whole days)."""
    truth = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
    x, t_x, T, _ = simulate_pareto_nbd(20_000, **truth, T=39.0, seed=7)
    fit = fit_pareto_nbd(x, np.minimum((t_x * 7).round() / 7, T), T)
    _within(fit, truth)
    spend_truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    spend = simulate_spend(x, **spend_truth, seed=7)
    _within(fit_gamma_gamma(x, spend), spend_truth)


@pytest.mark.parametrize("model", ["bg_nbd", "pareto_nbd"])
def test_simulators_match_the_closed_form_expectation(model: str) -> None:
    """The vectorised simulators (uniform order statistics) against E[X(t)] (FHL 2005
    and the Pareto/NBD expectation): the simulated mean is within 4 standard errors."""
    if model == "bg_nbd":
        params = {"r": 0.4, "alpha": 5.0, "a": 0.8, "b": 2.5}
        x, _, _, _ = simulate_bg_nbd(200_000, **params, T=52.0, seed=3)
    else:
        params = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
        x, _, _, _ = simulate_pareto_nbd(200_000, **params, T=52.0, seed=3)
    expected = float(expected_purchases(_fit_of(model, params), 52.0))
    assert abs(x.mean() - expected) < 4 * x.std() / np.sqrt(x.size)


summary = st.tuples(st.integers(0, 60), st.floats(0, 1), st.floats(0.01, 200))
PURCHASE = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "mbg_nbd": ("r", "alpha", "a", "b"),
}


@SETTINGS
@given(
    model=st.sampled_from(sorted(PURCHASE)),
    values=st.lists(st.floats(0.05, 30), min_size=4, max_size=4),
    rows=st.lists(summary, min_size=1, max_size=20),
    later=st.floats(0, 100),
)
def test_p_alive_is_a_probability_that_falls_with_silence(
    model: str, values: list[float], rows: list[tuple[int, float, float]], later: float
) -> None:
    """P(alive) is in [0, 1]; it does not rise when the customer stays silent longer (T
    grows with x and t_x fixed); under BG/NBD it is exactly 1 for x = 0 (drop-out only
    after a purchase), while under Pareto/NBD and the modified BG/NBD a customer without
    repeat purchases may be dead (P < 1 for T > 0) and P = 1 at T = 0."""
    fit = _fit_of(model, dict(zip(PURCHASE[model], values, strict=True)))
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[2] for r in rows])
    t_x = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    now = p_alive(fit, x, t_x, T)
    assert np.all((now >= 0) & (now <= 1))
    assert np.all(p_alive(fit, x, t_x, T + later) <= now + 1e-12)
    zero = p_alive(fit, np.zeros(3), np.zeros(3), np.array([0.0, 1.0, 50.0]))
    if model == "bg_nbd":
        assert zero.tolist() == [1.0, 1.0, 1.0]
    elif model == "pareto_nbd":
        assert zero[0] == 1.0
        assert np.all(zero[1:] < 1)
    else:  # the modified BG/NBD: a new customer is alive with probability b / (a + b) at once
        assert zero[0] == pytest.approx(values[3] / (values[2] + values[3]), rel=1e-12)


@SETTINGS
@given(
    values=st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
    x=st.integers(0, 12),
    gap=st.integers(0, 12),
    more=st.integers(0, 12),
)
def test_bgbb_p_alive_is_a_probability(values: list[float], x: int, gap: int, more: int) -> None:
    """BG/BB (FHS 2010): P(alive in n + 1) in [0, 1], not rising as n grows with x
    and t_x fixed, and 1 - (drop-out before n + 1) when every opportunity was taken."""
    fit = _fit_of("bg_bb", dict(zip(("alpha", "beta", "gamma", "delta"), values, strict=True)))
    t_x, n = x + gap, x + gap + more
    got = p_alive(fit, [x, x], [t_x, t_x], [n, n + 1])
    assert np.all((got >= 0) & (got <= 1 + 1e-12))
    assert got[1] <= got[0] + 1e-12
    if gap == more == 0:  # survived n coin flips; P = E[(1 - theta)^(n+1)] / E[(1 - theta)^n]
        ga, de = values[2], values[3]
        assert got[0] == pytest.approx((de + n) / (ga + de + n), rel=1e-9)


def test_conditional_expectation_is_finite_for_heavy_buyers() -> None:
    """FHL (2005)'s conditional expectation evaluated as written (scipy's hyp2f1 of r + x,
    b + x) agrees with
    the Euler-transformed series where it is finite, and where it overflows (x in the
    hundreds, long horizons: NaN as written) the transformed series stays finite."""
    from scipy.special import hyp2f1

    r, alpha, a, b = 0.2426, 4.4135, 0.7929, 2.4258
    fit = _fit_of("bg_nbd", {"r": r, "alpha": alpha, "a": a, "b": b})
    x = np.arange(0.0, 60.0)
    tx, T, t = np.full_like(x, 30.0), np.full_like(x, 39.0), 78.0
    direct = (a + b + x - 1) / (a - 1)
    z = t / (alpha + T + t)
    direct = direct * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    )
    direct = direct * p_alive(fit, x, tx, T)
    got = conditional_expected_purchases(fit, t, x, tx, T)
    assert got == pytest.approx(direct, rel=1e-9)
    heavy = conditional_expected_purchases(fit, 1000.0, [500, 5000], [39.9, 39.99], [40, 40])
    assert np.all(np.isfinite(heavy))
    assert np.all(heavy >= 0)


@pytest.mark.parametrize("model", ["bg_nbd", "pareto_nbd"])
def test_calibration_table_predicts_the_planted_holdout(model: str) -> None:
    """Planted truth for the holdout check (FHL 2005's conditional expectations by
    frequency): fit on a 52-week calibration
    period of simulated customers, then the mean purchases in the 52-week holdout of each
    calibration frequency are predicted within sampling error (4 standard errors)."""
    if model == "bg_nbd":
        truth = {"r": 0.4, "alpha": 5.0, "a": 0.8, "b": 2.5}
        x, t_x, T, later = simulate_bg_nbd(60_000, **truth, T=52.0, holdout=52.0, seed=11)
        fit = fit_bg_nbd(x, np.round(t_x, 1), T)
    else:
        truth = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
        x, t_x, T, later = simulate_pareto_nbd(60_000, **truth, T=52.0, holdout=52.0, seed=11)
        fit = fit_pareto_nbd(x, np.round(t_x), T)
    table = calibration_table(fit, x, np.round(t_x, 1), T, later, holdout=52.0)
    assert [r["frequency"] for r in table.rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(r["customers"] for r in table.rows) == 60_000
    group = np.minimum(x, 7)
    for row, g in zip(table.rows, range(8), strict=True):
        spread = later[group == g].std() / np.sqrt(row["customers"])
        assert abs(row["actual"] - row["predicted"]) < 4 * spread + 1e-3, row
    frame = table.to_frame()
    assert frame["actual"].tolist() == [r["actual"] for r in table.rows]
    assert "7+" in str(table)


def _bgbb_eq5(p: list[float], x: int, t_x: int, n: int) -> float:
    """FHS (2010)'s likelihood written term by term (a reference, one customer at a time)."""
    from scipy.special import betaln, logsumexp

    al, be, ga, de = p
    b_ab, b_gd = betaln(al, be), betaln(ga, de)
    terms = [betaln(al + x, be + n - x) - b_ab + betaln(ga, de + n) - b_gd]
    for i in range(n - t_x):
        terms.append(betaln(al + x, be + t_x - x + i) - b_ab + betaln(ga + 1, de + t_x + i) - b_gd)
    return float(logsumexp(terms))


@SETTINGS
@given(
    values=st.lists(st.floats(0.05, 20), min_size=4, max_size=4),
    rows=st.lists(
        st.tuples(st.integers(1, 40), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=15
    ),
)
def test_bgbb_likelihood_is_eq5(values: list[float], rows: list[tuple[int, float, float]]) -> None:
    """The BG/BB likelihood (reverse cumulative sums per distinct n) equals the likelihood
    written term by term."""
    from kundresa.loyalty._clv_models import bgbb_ll

    n = np.array([r[0] for r in rows])
    t_x = np.minimum(np.floor(np.array([r[1] for r in rows]) * (n + 1)), n).astype(int)
    x = np.minimum(np.floor(np.array([r[2] for r in rows]) * (t_x + 1)), t_x)
    x = np.where(t_x > 0, np.maximum(x, 1), 0)  # a last transaction at t_x > 0 means x >= 1
    got = bgbb_ll(values, x.astype(float), t_x.astype(float), n.astype(float))
    want = [_bgbb_eq5(values, int(a), int(b), int(c)) for a, b, c in zip(x, t_x, n, strict=True)]
    assert got == pytest.approx(want, rel=1e-10, abs=1e-10)
