"""The loyalty models reproduce the published numbers (issue 16, item 4), through the public API.

Tolerances: 1e-3 on parameters (absolute, or relative where the paper's optimiser stopped
on a flat ridge: then our fit is checked to be at least as likely as the published
estimates), 0.01 on log-likelihoods. Data: ``tests/data/loyalty`` (from the lifetimes
wheel, MIT; see its README).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kundresa import InvalidOptionError
from kundresa.loyalty import (
    ConvergenceWarning,
    ModelFit,
    conditional_expected_purchases,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    fit_bg_bb,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_mbg_nbd,
    fit_pareto_nbd,
    fit_sbg,
    p_alive,
    p_purchases,
    survival,
)
from kundresa.loyalty._clv_models import (
    WeightedBgNbd,
    WeightedGammaGamma,
    bgnbd_grad,
    bgnbd_ll,
    gg_grad,
    gg_ll,
    pnbd_ll,
)

DATA = Path(__file__).parent / "data" / "loyalty"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return pd.read_csv(DATA / "donations.csv")


@pytest.fixture(scope="module")
def bgnbd(cdnow: pd.DataFrame) -> ModelFit:
    return fit_bg_nbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def _params(fit: ModelFit, published: dict[str, float], rel: float | None = None) -> None:
    for name, value in published.items():
        tol = pytest.approx(value, rel=rel) if rel else pytest.approx(value, abs=1e-3)
        assert fit[name] == tol, f"{fit.model}.{name}: {fit[name]} vs published {value}"


def test_bgnbd_cdnow_parameters(bgnbd: ModelFit) -> None:
    """Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to
    the Pareto/NBD model", Marketing Science 24(2), 275-284: r = 0.2426,
    alpha = 4.4135, a = 0.7929, b = 2.4258, LL = -9582.43 on the 2357 CDNOW customers."""
    _params(bgnbd, {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258})
    assert bgnbd.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    assert bgnbd.converged
    assert not bgnbd.at_boundary
    assert bgnbd.customers == 2357
    assert all(0 < se < bgnbd[n] for n, se in bgnbd.standard_errors.items())
    # the frame and the JSON carry the same numbers
    frame = bgnbd.to_frame()
    assert frame["parameter"].tolist() == ["r", "alpha", "a", "b"]
    assert bgnbd.to_dict()["params"]["r"] == frame["estimate"][0]


def test_bgnbd_cdnow_expected_repeat_purchases(bgnbd: ModelFit) -> None:
    """Hardie's BG/NBD spreadsheet ("Implementing the BG/NBD model for customer base
    analysis in Excel", 2005): cumulative expected repeat purchases per
    customer at t = 0.1429, 1, 3, 31.8571, 32 and 78 weeks: 0.0078, 0.0532, 0.1506, 1.0405,
    1.0437, 1.8576. (At 78 weeks we get 1.8580, from the published four-digit parameters and
    from our own estimates alike; 4e-4 from the published value, hence 5e-4.)"""
    t = [0.1429, 1, 3, 31.8571, 32, 78]
    published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    assert expected_purchases(bgnbd, t) == pytest.approx(published, abs=5e-4)


def test_bgnbd_cdnow_conditional_expectation(bgnbd: ModelFit) -> None:
    """Fader, Hardie & Lee (2005): a
    customer with x = 2, t_x = 30.43, T = 38.86 weeks is expected to make 1.226 purchases
    in the next 39 weeks."""
    got = conditional_expected_purchases(bgnbd, 39, 2, 30.43, 38.86)
    assert float(got) == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_individual_log_likelihood() -> None:
    """The per-customer BG/NBD log-likelihood at a = 0.8, b = 2.5, r = 0.25, alpha = 4,
    T = 40 (the vectors issue 16 lists; the FHL 2005 likelihood at these values):
    x = 0, t_x = 0 -> -0.59947382; x = 200, t_x = 38 -> 100.7957."""
    ll = bgnbd_ll(
        (0.25, 4.0, 0.8, 2.5), np.array([0.0, 200]), np.array([0.0, 38]), np.full(2, 40.0)
    )
    assert ll[0] == pytest.approx(-0.59947382, abs=1e-8)
    assert ll[1] == pytest.approx(100.7957, abs=1e-4)


def test_pareto_nbd_cdnow(cdnow: pd.DataFrame) -> None:
    """Fader, Hardie & Lee (2005) / Fader & Hardie, "A note on implementing the
    Pareto/NBD model in MATLAB" (2005): r = 0.5533, alpha = 10.5775, s = 0.6062,
    beta = 11.6666, LL = -9594.97. beta sits on a flat ridge (its standard error is ~6), so
    1e-3 relative, and our optimum is at least as likely as the published point."""
    fit = fit_pareto_nbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    published = {"r": 0.5533, "alpha": 10.5775, "s": 0.6062, "beta": 11.6666}
    _params(fit, published, rel=1e-3)
    assert fit.log_likelihood == pytest.approx(-9594.97, abs=0.01)
    x, tx, tt = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    assert fit.log_likelihood >= pnbd_ll(tuple(published.values()), x, tx, tt).sum() - 1e-6


def test_gamma_gamma_cdnow(cdnow: pd.DataFrame) -> None:
    """Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": on the
    946 CDNOW customers with repeat purchases, p = 6.2496, q = 3.7442, gamma = 15.4435
    (Excel Solver). The likelihood is flat along p/gamma: 1e-3 relative, and our optimum is
    at least as likely as the published point."""
    fit = fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    published = {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}
    _params(fit, published, rel=1e-3)
    assert fit.customers == 946
    keep = cdnow["x"] > 0
    x, zbar = cdnow["x"][keep].to_numpy(float), cdnow["zbar"][keep].to_numpy(float)
    assert fit.log_likelihood >= gg_ll(tuple(published.values()), x, zbar).sum() - 1e-6
    # E[M] is a weighted mean of the population mean and the customer's own mean
    spend = expected_spend(fit, [0, 2, 50], [0, 22.35, 22.35])
    assert spend[0] == pytest.approx(fit["p"] * fit["gamma"] / (fit["q"] - 1))
    assert spend[0] > spend[1] > spend[2] > 22.35


def test_bgbb_donations(donations: pd.DataFrame) -> None:
    """Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time
    noncontractual setting", Marketing Science 29(6) (the cohort of 11,104
    donors, 6 opportunities): alpha = 1.2035, beta = 0.7497, gamma = 0.6567,
    delta = 2.7834, LL = -33225.58."""
    d = donations
    fit = fit_bg_bb(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
    _params(fit, {"alpha": 1.2035, "beta": 0.7497, "gamma": 0.6567, "delta": 2.7834})
    assert fit.log_likelihood == pytest.approx(-33225.58, abs=0.01)
    assert fit.customers == 11104
    assert fit.rows == 22
    # P(X(6) = k) sums to 1 and has the mean E[X(6)] (two independent formulas)
    k = np.arange(7.0)
    probs = p_purchases(fit, k, 6)
    assert probs.sum() == pytest.approx(1, abs=1e-12)
    assert float(probs @ k) == pytest.approx(float(expected_purchases(fit, 6)), rel=1e-10)
    # the model's P(X(6) = k) matches the observed frequency distribution closely
    observed = d.groupby("frequency")["weights"].sum().reindex(range(7), fill_value=0)
    assert np.abs(probs * 11104 - observed.to_numpy()).max() < 0.05 * 11104
    alive = p_alive(fit, d["frequency"], d["recency"], d["periods"])
    assert alive.max() <= 1
    assert alive[d["frequency"] == 6].min() > 0.9


REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3]
HIGH_END = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]  # years 0-7 (the fitted span)


def test_sbg_regular() -> None:
    """Fader & Hardie (2007), "How to project customer retention", Journal of Interactive
    Marketing 21(1), 76-90: the "regular" segment (percent alive in
    years 0-12 as in the paper), fitted on years 0-7 of 1000 customers: alpha = 0.7041,
    beta = 1.1820, LL = -1680.265; projected percent alive in years 8-12: 22.0, 20.4, 19.1,
    18.0, 17.0 (actual 22.3, 20.7, 19.4, 18.3, 17.3)."""
    fit = fit_sbg([round(p * 10) for p in REGULAR[:8]])
    _params(fit, {"alpha": 0.7041, "beta": 1.1820})
    assert fit.log_likelihood == pytest.approx(-1680.265, abs=0.01)
    projected = 100 * survival(fit, np.arange(8, 13))
    assert projected.round(1).tolist() == [22.0, 20.4, 19.1, 18.0, 17.0]
    assert np.all(np.abs(projected - REGULAR[8:]) < 0.5)  # as close as the paper's projection


def test_sbg_high_end() -> None:
    """Fader & Hardie (2007): the "high end" segment, years 0-7 of
    1000 customers: alpha = 0.6681, beta = 3.8061, LL = -1611.158."""
    fit = fit_sbg([round(p * 10) for p in HIGH_END])
    _params(fit, {"alpha": 0.6681, "beta": 3.8061})
    assert fit.log_likelihood == pytest.approx(-1611.158, abs=0.01)
    # the high-end segment is retained better than the regular one, as in the paper
    assert float(survival(fit, 12)) > float(
        survival(fit_sbg([round(p * 10) for p in REGULAR[:8]]), 12)
    )


def test_mbg_nbd_cdnow_is_consistent(cdnow: pd.DataFrame, bgnbd: ModelFit) -> None:
    """The modified BG/NBD (Batislam, Denizel & Filiztekin 2007) on CDNOW: no published
    CDNOW table; lifetimes 0.11.3's documentation gives r 0.525, alpha 6.183, a 0.891,
    b 1.614 for its ModifiedBetaGeoFitter. Its predictions agree with BG/NBD's on the
    aggregate (both fit the same data) and its P(alive) is below 1 at x = 0."""
    fit = fit_mbg_nbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    _params(fit, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, rel=2e-3)
    assert fit.log_likelihood > bgnbd.log_likelihood - 1
    both = [float(expected_purchases(f, 39)) for f in (fit, bgnbd)]
    assert both[0] == pytest.approx(both[1], rel=0.05)
    assert float(p_alive(fit, 0, 0, 38.86)) < 1 == float(p_alive(bgnbd, 0, 0, 38.86))


def test_conditional_at_time_zero_is_the_unconditional_expectation(
    cdnow: pd.DataFrame, bgnbd: ModelFit
) -> None:
    """A customer just acquired (x = 0, t_x = 0, T -> 0) expects E[X(t)]: the conditional
    (FHL 2005, FH 2005) and unconditional formulas agree, for every purchase model."""
    fits = [bgnbd, fit_pareto_nbd(cdnow["x"], cdnow["t_x"], cdnow["T"])]
    fits.append(fit_mbg_nbd(cdnow["x"], cdnow["t_x"], cdnow["T"]))
    t = np.array([1.0, 10.0, 52.0])
    for fit in fits:
        got = conditional_expected_purchases(fit, t, 0, 0, 1e-9)
        assert got == pytest.approx(expected_purchases(fit, t), rel=1e-6), fit.model


def test_p_purchases_is_a_distribution(bgnbd: ModelFit, cdnow: pd.DataFrame) -> None:
    """FHL (2005) (BG/NBD) and Fader & Hardie (2006) (Pareto/NBD): P(X(t) = x)
    sums to 1 over x and its mean is the closed-form E[X(t)] (independent formulas)."""
    pnbd = fit_pareto_nbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    k = np.arange(400.0)
    for fit, t in [(f, t) for f in (bgnbd, pnbd) for t in (1.0, 39.0, 78.0)]:
        probs = p_purchases(fit, k, t)
        assert probs.min() >= 0
        assert probs.sum() == pytest.approx(1, abs=1e-9)
        assert float(probs @ k) == pytest.approx(float(expected_purchases(fit, t)), rel=1e-6)


def test_bgnbd_gradient_is_the_likelihood_slope(cdnow: pd.DataFrame) -> None:
    """The fast weighted evaluator agrees with the per-row likelihood and its gradient with
    central differences of it (the optimiser and the standard errors rely on it)."""
    x, tx, tt = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    w = np.arange(x.size) % 3 + 1.0
    f = WeightedBgNbd(x, tx, tt, w)
    p = np.array([0.3, 4.0, 0.7, 2.2])
    value, grad = f(p)
    assert value == pytest.approx(float(w @ bgnbd_ll(p, x, tx, tt)), rel=1e-12)
    assert grad == pytest.approx(bgnbd_grad(p, x, tx, tt) @ w, rel=1e-9)
    h = 1e-6
    numeric = [(f(p + h * e)[0] - f(p - h * e)[0]) / (2 * h) for e in np.eye(4)]
    assert grad == pytest.approx(numeric, rel=1e-5)


def test_gamma_gamma_gradient_is_the_likelihood_slope(cdnow: pd.DataFrame) -> None:
    """The fast Gamma-Gamma evaluator agrees with the per-customer likelihood and its
    gradient with the per-customer gradient and with central differences."""
    keep = cdnow["x"] > 0
    x, m = cdnow["x"][keep].to_numpy(float), cdnow["zbar"][keep].to_numpy(float)
    w = np.arange(x.size) % 4 + 0.5
    f = WeightedGammaGamma(x, m, w)
    p = np.array([5.0, 3.0, 12.0])
    value, grad = f(p)
    assert value == pytest.approx(float(w @ gg_ll(p, x, m)), rel=1e-12)
    assert grad == pytest.approx(gg_grad(p, x, m) @ w, rel=1e-9)
    h = 1e-6
    numeric = [(f(p + h * e)[0] - f(p - h * e)[0]) / (2 * h) for e in np.eye(3)]
    assert grad == pytest.approx(numeric, rel=1e-5)


def test_clv_is_discounted_spend_times_purchases(bgnbd: ModelFit, cdnow: pd.DataFrame) -> None:
    """CLV (the lifetimes formula): with no discounting it is expected spend times the
    expected purchases over the whole horizon; discounting lowers it; longer horizons raise it."""
    gg = fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    x, tx, tt, m = (cdnow[c].to_numpy(float)[:50] for c in ("x", "t_x", "T", "zbar"))
    flat = customer_lifetime_value(bgnbd, gg, x, tx, tt, m, periods=12, discount_rate=0.0)
    spend = expected_spend(gg, x, m)
    total = conditional_expected_purchases(bgnbd, 12 * 4.345, x, tx, tt)
    assert flat == pytest.approx(spend * total, rel=1e-12)
    discounted = customer_lifetime_value(bgnbd, gg, x, tx, tt, m, discount_rate=0.01)
    assert np.all(discounted < flat)
    assert np.all(discounted > flat / 1.01**12)
    longer = customer_lifetime_value(bgnbd, gg, x, tx, tt, m, periods=24)
    assert np.all(longer > discounted)


def _bgbb() -> ModelFit:
    return ModelFit(
        "bg_bb", {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}, {}, 0, 1, 1, True
    )


def test_bad_input_is_one_line_naming_the_field(cdnow: pd.DataFrame) -> None:
    cases = [
        (lambda: fit_bg_nbd([1, 2], [5.0, 50.0], [39.0, 39.0]), "t_x", "between 0 and T"),
        (lambda: fit_bg_nbd([1.5], [1.0], [39.0]), "x", "whole numbers"),
        (lambda: fit_bg_nbd([1, 2], [1.0], [39.0, 39.0]), "t_x", "same length"),
        (lambda: fit_bg_nbd([1], [1.0], [float("nan")]), "T", "finite"),
        (lambda: fit_bg_bb([1], [0], [6]), "t_x", "x <= t_x <= n"),
        (lambda: p_alive(_bgbb(), [1], [2.5], [6]), "t_x", "x <= t_x <= n"),
        (lambda: fit_sbg([100, 120]), "alive", "cannot rise"),
        (lambda: fit_gamma_gamma([1, 2], [10.0, -1.0]), "mean_spend", "> 0"),
        (
            lambda: p_purchases(fit_sbg([1000, 631, 468, 382, 326]), 1, 3),
            "fit",
            "bg_nbd, pareto_nbd, bg_bb",
        ),
    ]
    for call, field, hint in cases:
        with pytest.raises(InvalidOptionError) as err:
            call()
        assert err.value.field == field
        assert hint in str(err.value)
        assert "\n" not in str(err.value)


def test_a_fit_at_the_boundary_warns() -> None:
    """Six customers cannot identify the drop-out process: a and b run off to infinity
    (p -> a/(a+b) fixed); the fit says so with a ConvergenceWarning instead of failing."""
    x, tx, tt = [0, 1, 2, 5, 1, 3], [0, 10, 20, 30, 35, 12], [39] * 6
    with pytest.warns(ConvergenceWarning, match="boundary"):
        fit = fit_bg_nbd(x, tx, tt, weights=[600, 150, 100, 60, 60, 30])
    assert fit.at_boundary
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not fit_sbg([1000, 631, 468]).at_boundary


def test_results_are_frozen_and_serialise(bgnbd: ModelFit) -> None:
    """ModelFit is read-only all the way down, pickles through its public home, equals a
    re-run (``seconds`` is run metadata), and its JSON carries every parameter."""
    import dataclasses
    import json
    import pickle

    with pytest.raises(TypeError):
        bgnbd.params["r"] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        bgnbd.log_likelihood = 0.0  # type: ignore[misc]
    assert type(bgnbd).__module__ == "kundresa.loyalty"
    assert pickle.loads(pickle.dumps(bgnbd)) == bgnbd
    assert dataclasses.replace(bgnbd, seconds=99.0) == bgnbd
    data = json.loads(bgnbd.to_json())
    assert set(data["params"]) == set(data["standard_errors"]) == {"r", "alpha", "a", "b"}
    assert len(data["covariance"]) == 4
    assert "r =" in str(bgnbd)


DEGENERATE = {
    "no repeat purchases": lambda: fit_bg_nbd([0] * 50, [0] * 50, [39] * 50),
    "one customer": lambda: fit_bg_nbd([3], [20], [39]),
    "Pareto/NBD, no repeat purchases": lambda: fit_pareto_nbd([0] * 50, [0] * 50, [39] * 50),
    "modified BG/NBD, no repeat purchases": lambda: fit_mbg_nbd([0] * 50, [0] * 50, [39] * 50),
    "BG/BB, every opportunity taken": lambda: fit_bg_bb([6] * 10, [6] * 10, [6] * 10),
    "shifted-BG, nobody lost": lambda: fit_sbg([100, 100, 100]),
    "Gamma-Gamma, constant spend": lambda: fit_gamma_gamma([1, 2, 3], [10.0, 10.0, 10.0]),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_data_warn_instead_of_failing(case: str) -> None:
    """Data that cannot identify a model (where lifetimes users meet ConvergenceError,
    issue 16) give a fit and a ConvergenceWarning naming the model, never an exception."""
    with pytest.warns(ConvergenceWarning) as caught:
        fit = DEGENERATE[case]()
    assert all(str(w.message).startswith(fit.model + ":") for w in caught)
    # and the fit itself records why: at the boundary, not converged, or no standard errors
    no_se = bool(np.isnan(list(fit.standard_errors.values())).any())
    assert fit.at_boundary or not fit.converged or no_se
