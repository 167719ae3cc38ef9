"""kundresa's attribution against the R/Python package ChannelAttribution (GPL-3; an outside
oracle only, never a dependency: ``scripts/check`` installs it into the test venv unless
``KUNDRESA_NO_ORACLES=1``; when it is absent the test fails with the reason, unless
``KUNDRESA_NO_ORACLES=1`` is set: then it skips, naming it).

ChannelAttribution 2.2.5 (PyPI ``ChannelAttribution``; Altomare & Loris, "ChannelAttribution:
Markov model for online multi-channel attribution") estimates the Markov removal effects by
**simulating** paths from the fitted chain; it has no exact option. Two settings matter:

* ``max_step``: by default it cuts every simulated path at the longest observed path. On a
  chain with cycles (``a > c`` and ``c > a``) that truncation is a bias, not noise (order 1
  on the set below: removal effect of ``a`` 0.576 instead of 0.597). We pass
  ``max_step=100``; the chain's probability of a 100-step path is negligible.
* ``nsim_start=1e6`` simulated paths and ``conv_par=0.01``. Measured largest deviation from
  our exact values (orders 1 / 2 / 3): removal effects 0.0021 / 0.0041 / 0.0011 (value
  removal effects 0.0033 / 0.0037 / 0.0013), credited conversions 0.40 % / 0.54 % / 0.22 %,
  credited value 0.54 % / 0.52 % / 0.15 %. Tolerance: 0.01 absolute on removal effects and
  2 % relative on credits (a few simulation standard errors; the simulation is seeded, so
  the test is deterministic). The ``max_step`` truncation alone moves a removal effect by
  0.021, which this tolerance catches.

Its heuristic models (first, last, linear touch) are exact and must agree to 1e-9. The paths
have no consecutive repeats: kundresa merges repeats (the standard definition), and the
comparison is about the models, not about that preprocessing.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from kundresa.attribution import Journeys, attribute, markov
from tests._oracles import require_oracle

PATHS = [
    (["a", "b", "c"], 3, 1, 40.0),
    (["a", "c"], 2, 2, 25.0),
    (["b"], 0, 4, 0.0),
    (["c", "a"], 1, 1, 60.0),
    (["b", "c"], 2, 1, 10.0),
    (["a"], 1, 3, 5.0),
    (["c"], 0, 2, 0.0),
    (["a", "b"], 0, 2, 0.0),
    (["d", "a", "c", "b"], 2, 1, 30.0),
    (["c", "d"], 1, 2, 15.0),
]  # (path, conversions, non-conversions, value of one conversion)


def _ours() -> Journeys:
    paths: list[list[str]] = []
    conv: list[float] = []
    value: list[float] = []
    for p, c, n, v in PATHS:
        paths += [p] * (c + n)
        conv += [1.0] * c + [0.0] * n
        value += [v] * c + [0.0] * n
    return Journeys.from_paths(paths, conversions=conv, value=value)


def _theirs() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "path": [" > ".join(p) for p, _, _, _ in PATHS],
            "conv": [c for _, c, _, _ in PATHS],
            "null": [n for _, _, n, _ in PATHS],
            "value": [c * v for _, c, _, v in PATHS],
        }
    )


@pytest.fixture(scope="module")
def ca() -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
        return require_oracle("ChannelAttribution")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_removal_effects_agree(ca: Any, order: int) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        res = ca.markov_model(
            _theirs(),
            "path",
            "conv",
            var_value="value",
            var_null="null",
            order=order,
            out_more=True,
            max_step=100,
            nsim_start=1e6,
            conv_par=0.01,
            seed=1,
            verbose=False,
            flg_pro=False,
        )
    ours = attribute(_ours(), model="markov", markov_order=order)
    chain = markov(_ours(), order)
    effects = res["removal_effects"].set_index("channel_name")
    assert set(effects.index) == set(ours.channels)
    for i, c in enumerate(ours.channels):
        theirs = effects.removal_effects_conversion[c]
        assert ours.removal_effects[c] == pytest.approx(theirs, abs=0.01), (order, c)
        theirs_v = effects.removal_effects_conversion_value[c]
        assert chain.value_removal_effects[i] == pytest.approx(theirs_v, abs=0.01), (order, c)
    result = res["result"].set_index("channel_name")
    for c in ours.channels:
        assert ours.credits["markov"][c] == pytest.approx(result.total_conversions[c], rel=0.02)
        assert ours.value_credits["markov"][c] == pytest.approx(
            result.total_conversion_value[c], rel=0.02
        )


def test_heuristic_models_agree(ca: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        res = ca.heuristic_models(_theirs(), "path", "conv", var_value="value", flg_pro=False)
    ours = attribute(_ours(), model=["first", "last", "linear"])
    frame = res.set_index("channel_name")
    names = {"first": "first_touch", "last": "last_touch", "linear": "linear_touch"}
    for model, col in names.items():
        for c in ours.channels:
            assert ours.credits[model][c] == pytest.approx(frame[f"{col}_conversions"][c], abs=1e-9)
            assert ours.value_credits[model][c] == pytest.approx(frame[f"{col}_value"][c], abs=1e-9)
