"""Differential oracle: lifetimes 0.11.3's fits and predictions on the test data, as JSON.

Run in a peers venv that has lifetimes (never a kundresa dependency), from the repository
root; ``tests/test_loyalty_oracle.py`` compares kundresa.loyalty with the file it writes::

    python -m venv /tmp/ltvenv && /tmp/ltvenv/bin/pip install lifetimes==0.11.3 "pandas<3"
    /tmp/ltvenv/bin/python bench/lifetimes_oracle.py > tests/data/loyalty/lifetimes-0.11.3.json

The ``*_time`` entries are lifetimes' fit times (seconds, informational).
"""

import json
import time
import warnings

import numpy as np
import pandas as pd
from lifetimes import (  # type: ignore[import-not-found]
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)


def main() -> None:
    """Fit every model lifetimes has on the CDNOW and donations summaries; print JSON."""
    warnings.simplefilter("ignore")
    d = pd.read_csv("tests/data/loyalty/cdnow_customers_summary_with_transactions.csv")
    out = {}
    t0 = time.perf_counter()
    bg = BetaGeoFitter().fit(d.x, d.t_x, d["T"])
    out["bg_time"] = time.perf_counter() - t0
    out["bg"] = bg.params_.to_dict()
    out["bg_se"] = bg.standard_errors_.to_dict()
    out["bg_palive"] = bg.conditional_probability_alive(d.x[:20], d.t_x[:20], d["T"][:20]).tolist()
    out["bg_cond"] = bg.conditional_expected_number_of_purchases_up_to_time(
        39, d.x[:20], d.t_x[:20], d["T"][:20]
    ).tolist()
    out["bg_pk"] = [float(bg.probability_of_n_purchases_up_to_time(39, k)) for k in range(5)]
    t0 = time.perf_counter()
    mbg = ModifiedBetaGeoFitter().fit(d.x, d.t_x, d["T"])
    out["mbg_time"] = time.perf_counter() - t0
    out["mbg"] = mbg.params_.to_dict()
    out["mbg_palive"] = mbg.conditional_probability_alive(
        d.x[:20], d.t_x[:20], d["T"][:20]
    ).tolist()
    out["mbg_cond"] = mbg.conditional_expected_number_of_purchases_up_to_time(
        39, d.x[:20], d.t_x[:20], d["T"][:20]
    ).tolist()
    out["mbg_exp"] = [float(mbg.expected_number_of_purchases_up_to_time(t)) for t in (1, 39, 78)]
    t0 = time.perf_counter()
    pn = ParetoNBDFitter().fit(d.x, d.t_x, d["T"])
    out["pn_time"] = time.perf_counter() - t0
    out["pn"] = pn.params_.to_dict()
    out["pn_palive"] = pn.conditional_probability_alive(d.x[:20], d.t_x[:20], d["T"][:20]).tolist()
    out["pn_cond"] = pn.conditional_expected_number_of_purchases_up_to_time(
        39, d.x[:20], d.t_x[:20], d["T"][:20]
    ).tolist()
    k = d.x > 0
    t0 = time.perf_counter()
    gg = GammaGammaFitter().fit(d.x[k], d.zbar[k])
    out["gg_time"] = time.perf_counter() - t0
    out["gg"] = gg.params_.to_dict()
    out["clv"] = gg.customer_lifetime_value(
        bg, d.x[:20], d.t_x[:20], d["T"][:20], d.zbar[:20], time=12, discount_rate=0.01, freq="W"
    ).tolist()
    dn = pd.read_csv("tests/data/loyalty/donations.csv")
    bb = BetaGeoBetaBinomFitter().fit(dn.frequency, dn.recency, dn.periods, weights=dn.weights)
    out["bb"] = bb.params_.to_dict()
    out["bb_palive"] = bb.conditional_probability_alive(
        1, dn.frequency, dn.recency, dn.periods
    ).tolist()
    out["bb_cond"] = bb.conditional_expected_number_of_purchases_up_to_time(
        5, dn.frequency, dn.recency, dn.periods
    ).tolist()
    counts = bb.expected_number_of_transactions_in_first_n_periods(6).iloc[:, 0]
    out["bb_exp"] = [float(counts @ np.arange(7)) / float(dn.weights.sum())]

    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
