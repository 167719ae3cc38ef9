"""Fits that "just work" on hard data (issue 16, item 4: "robust starting values and
reparametrisation, a clear warning when a fit is at a boundary").

lifetimes users meet ``ConvergenceError`` on such data: lifetimes 0.11.3 raises it on the
one customer and on constant spend, and returns boundary fits of the others without a word
(nobody leaves: ``a = 0.0``; almost nobody repeats: ``a = 9480, b = 13026``). Here each fit
either converges, or ends with one one-line
:class:`~kundresa.loyalty.ConvergenceWarning` that names the model and the parameter at the
boundary (``b -> infinity``). Also: the BG/NBD ``a = 1`` edge of the predictions (they
divide by ``a - 1``), and fits without standard errors in JSON and comparisons.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kundresa.loyalty import (
    ConvergenceWarning,
    ModelFit,
    conditional_expected_purchases,
    customer_lifetime_value,
    expected_purchases,
    fit_bg_nbd,
    fit_gamma_gamma,
    simulate_bg_nbd,
    simulate_spend,
)

DATA = Path(__file__).parent / "data" / "loyalty"
NAMES = {"bg_nbd": ("r", "alpha", "a", "b"), "gamma_gamma": ("p", "q", "gamma")}


def _fit_clearly(fit: Callable[[], ModelFit]) -> tuple[ModelFit, list[str]]:
    """Run ``fit``: no exception, finite estimates, and every warning a ConvergenceWarning
    of one line naming the model; at a boundary the warning names the parameter."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit()
    messages = [str(w.message) for w in caught]
    assert all(w.category is ConvergenceWarning for w in caught), messages
    assert all("\n" not in m and m.startswith(result.model + ":") for m in messages)
    assert all(np.isfinite(v) and v > 0 for v in result.values)
    if result.at_boundary:
        named = re.findall(r"(\w+) -> (?:0|infinity)", " ".join(messages))
        assert named, messages
        assert set(named) <= set(NAMES[result.model]), messages
    elif not messages:
        assert result.converged
        assert all(np.isfinite(s) for s in result.standard_errors.values())
    return result, messages


def test_almost_nobody_repeats() -> None:
    """10,000 customers, 12 with repeat purchases: a fit, at the boundary or not, no error."""
    x = np.r_[np.zeros(10_000), [1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 4, 1]]
    tx = np.r_[np.zeros(10_000), np.linspace(3, 30, 12)]
    fit, _ = _fit_clearly(lambda: fit_bg_nbd(x, tx, np.full(x.size, 39.0)))
    assert fit.customers == 10_012


def test_very_large_frequencies() -> None:
    """Customers who buy ~50 times a week for a year (x in the thousands): the fit converges
    near the planted parameters (the series and the likelihood stay finite for large x)."""
    x, tx, T, _ = simulate_bg_nbd(5000, r=5.0, alpha=0.1, a=0.5, b=200.0, T=52.0, seed=3)
    assert x.max() > 2000
    fit, messages = _fit_clearly(lambda: fit_bg_nbd(x, tx, T))
    assert not messages
    assert fit.converged
    assert fit["r"] == pytest.approx(5.0, rel=0.1)
    assert fit["alpha"] == pytest.approx(0.1, rel=0.1)
    assert np.all(np.isfinite(conditional_expected_purchases(fit, 52, x, tx, T)))


def test_one_customer() -> None:
    """One customer cannot identify four parameters: a warning names those at a boundary."""
    fit, messages = _fit_clearly(lambda: fit_bg_nbd([3], [20.0], [39.0]))
    assert messages
    assert fit.at_boundary or not fit.converged


def _nobody_leaves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NBD data (BG/NBD's a -> 0 limit): Poisson purchases at gamma(0.5, 5) rates for 52
    weeks, nobody drops out; ``t_x`` is the last of ``x`` uniform arrivals."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(0.5, 1 / 5.0, n) * 52.0).astype(float)
    tx = np.where(x > 0, 52.0 * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return x, tx, np.full(n, 52.0)


@pytest.mark.parametrize(
    "data",
    [
        lambda: _nobody_leaves(20_000, 5),
        lambda: simulate_bg_nbd(20_000, r=0.5, alpha=5.0, a=0.8, b=5000.0, T=52.0, seed=5)[:3],
    ],
    ids=["a near 0 (nobody leaves)", "b near infinity"],
)
def test_near_the_drop_out_boundary(data: Callable[[], tuple[np.ndarray, ...]]) -> None:
    """Hardly anyone drops out (a -> 0, or b -> infinity: p ~ Beta(a, b) near 0): either
    the fit converges, or the warning names a or b; the purchase process is recovered."""
    x, tx, T = data()
    fit, _messages = _fit_clearly(lambda: fit_bg_nbd(x, tx, T))
    assert fit["r"] == pytest.approx(0.5, rel=0.1)
    assert fit["alpha"] == pytest.approx(5.0, rel=0.1)
    assert fit["a"] / (fit["a"] + fit["b"]) < 0.01  # the mean drop-out probability


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


@pytest.mark.parametrize("unit", [1.0, 168.0, 604_800.0], ids=["weeks", "hours", "seconds"])
def test_huge_times_are_a_change_of_unit(cdnow: pd.DataFrame, unit: float) -> None:
    """CDNOW in hours or seconds (T up to 2.3e7): the same r, a, b and alpha times the
    unit, no warning (the scale parameter is optimised on the log scale)."""
    x, tx, T = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    fit, messages = _fit_clearly(lambda: fit_bg_nbd(x, tx * unit, T * unit))
    assert not messages
    assert [fit["r"], fit["a"], fit["b"]] == pytest.approx([0.2426, 0.7929, 2.4258], abs=1e-4)
    assert fit["alpha"] / unit == pytest.approx(4.4135, abs=1e-4)


@pytest.mark.parametrize("unit", [1e-3, 1.0, 1e6], ids=["thousands", "units", "micro-units"])
def test_gamma_gamma_any_currency_unit(unit: float) -> None:
    """Spend in any unit: p and q unchanged, gamma scales with the unit."""
    x = np.arange(3000) % 7 + 1.0
    m = simulate_spend(x, p=6.0, q=4.0, gamma=15.0, seed=2)
    ref, _ = _fit_clearly(lambda: fit_gamma_gamma(x, m))
    fit, messages = _fit_clearly(lambda: fit_gamma_gamma(x, m * unit))
    assert not messages
    assert [fit["p"], fit["q"]] == pytest.approx([ref["p"], ref["q"]], rel=1e-6)
    assert fit["gamma"] / unit == pytest.approx(ref["gamma"], rel=1e-6)


def test_gamma_gamma_constant_spend_names_the_parameters() -> None:
    """Every customer spends the same: no spread to fit, p and q run to infinity."""
    fit, messages = _fit_clearly(lambda: fit_gamma_gamma([1, 2, 3, 4], [10.0] * 4))
    assert fit.at_boundary
    assert any("p -> infinity" in m for m in messages)


# --------------------------------------------------------------------------- a = 1


PARAMS = {"r": 0.25, "alpha": 4.0, "b": 2.5}


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
def test_a_equal_to_one_is_the_limit(model: str) -> None:
    """The predictions carry (a + b + x - 1) / (a - 1) (1 - tail) with tail -> 1 as a -> 1:
    at a = 1 exactly they are finite and the limit of a = 1 -+ 1e-6 (no 0/0)."""
    x, tx, T = np.array([0.0, 2.0, 40.0]), np.array([0.0, 30.43, 38.0]), np.full(3, 38.86)

    def fit(a: float) -> ModelFit:
        params = {"r": PARAMS["r"], "alpha": PARAMS["alpha"], "a": a, "b": PARAMS["b"]}
        return ModelFit(model, params, {}, 0.0, 3, 3, True)  # type: ignore[arg-type]

    for predict in (
        lambda f: conditional_expected_purchases(f, 39, x, tx, T),
        lambda f: expected_purchases(f, [0.5, 39.0, 1000.0]),
    ):
        at_one = predict(fit(1.0))
        assert np.all(np.isfinite(at_one))
        assert np.all(at_one > 0)
        around = (predict(fit(1 - 1e-6)) + predict(fit(1 + 1e-6))) / 2
        # 1e-6: t = 1000 weeks (z > 0.97) goes through scipy's hyp2f1, divided by a - 1
        assert at_one == pytest.approx(around, rel=1e-6)


def test_bg_bb_gamma_equal_to_one_is_the_limit() -> None:
    """BG/BB's expectations carry delta / (gamma - 1) (1 - ratio) with ratio -> 1 as
    gamma -> 1: at gamma = 1 exactly they are the limit of gamma = 1 -+ 1e-5."""

    def fit(g: float) -> ModelFit:
        params = {"alpha": 1.2, "beta": 0.75, "gamma": g, "delta": 2.8}
        return ModelFit("bg_bb", params, {}, 0.0, 3, 3, True)

    x, tx, n = np.array([0.0, 2.0, 6.0]), np.array([0.0, 4.0, 6.0]), np.full(3, 6.0)
    for predict in (
        lambda f: conditional_expected_purchases(f, 5, x, tx, n),
        lambda f: expected_purchases(f, [1.0, 6.0, 50.0]),
    ):
        at_one = predict(fit(1.0))
        assert np.all(np.isfinite(at_one))
        assert np.all(at_one > 0)
        around = (predict(fit(1 - 1e-5)) + predict(fit(1 + 1e-5))) / 2
        assert at_one == pytest.approx(around, rel=1e-8)


def test_clv_at_a_equal_to_one() -> None:
    """CLV runs through the same formula: finite at a = 1."""
    bg = ModelFit("bg_nbd", {"r": 0.25, "alpha": 4.0, "a": 1.0, "b": 2.5}, {}, 0.0, 2, 2, True)
    gg = ModelFit("gamma_gamma", {"p": 6.25, "q": 3.74, "gamma": 15.44}, {}, 0.0, 2, 2, True)
    clv = customer_lifetime_value(bg, gg, [2, 0], [30.43, 0], [38.86, 38.86], [22.35, 0])
    assert np.all(np.isfinite(clv))
    assert np.all(clv > 0)


# --------------------------------------------------------------------------- no standard errors


def test_fit_without_standard_errors_is_valid_json_and_equals_itself() -> None:
    """A fit whose Hessian is not positive definite has NaN standard errors: its JSON says
    null (NaN is not JSON), and it equals itself, its pickled copy and hashes alike."""
    with pytest.warns(ConvergenceWarning):
        fit = fit_bg_nbd([0] * 50, [0] * 50, [39] * 50)
    assert np.isnan(list(fit.standard_errors.values())).any()

    def no_nan(constant: str) -> float:
        raise AssertionError(f"{constant} in JSON")

    data = json.loads(fit.to_json(), parse_constant=no_nan)
    assert None in data["standard_errors"].values()
    assert fit.to_dict()["params"] == pytest.approx(dict(fit.params))
    copy = pickle.loads(pickle.dumps(fit))
    assert copy == fit
    assert fit == fit
    assert hash(copy) == hash(fit)
    assert copy != dataclasses.replace(fit, log_likelihood=fit.log_likelihood - 1)
    assert dataclasses.replace(fit, seconds=99.0) == fit


# --------------------------------------------------------------------------- no scipy for CLV


def test_bg_nbd_and_gamma_gamma_never_import_scipy() -> None:
    """The CLV path (both fits, E[purchases], P(alive), CLV) runs on numpy alone: importing
    scipy costs more than the whole CDNOW workflow (bench/loyalty.py), so it stays lazy."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from kundresa import loyalty as L\n"
        "x, tx, T, _ = L.simulate_bg_nbd(2000, r=0.25, alpha=4.0, a=0.8, b=2.5, T=39.0)\n"
        "m = L.simulate_spend(x, p=6.0, q=4.0, gamma=15.0)\n"
        "bg, gg = L.fit_bg_nbd(x, tx, T), L.fit_gamma_gamma(x, m)\n"
        "L.p_alive(bg, x, tx, T); L.conditional_expected_purchases(bg, 39, x, tx, T)\n"
        "L.customer_lifetime_value(bg, gg, x, tx, T, m)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'scipy', 'pandas'}))\n"
    )
    src = str(Path(__file__).parent.parent / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]", out.stderr
