"""Loyalty: customer-base models for repeat purchase, P(alive) and customer lifetime value.

Maximum-likelihood fits (scipy) of BG/NBD, Pareto/NBD, modified BG/NBD, BG/BB (discrete
opportunities), shifted-BG (contractual retention) and Gamma-Gamma (spend), on a
recency-frequency(-monetary) summary given as arrays (one row per customer, or distinct
rows with ``weights``), with standard errors, their predictions, the holdout calibration
table, and simulators of planted truth. Pure numpy/scipy: the summary itself is computed
in the engine by the callers.

>>> from kundresa.loyalty import fit_sbg, survival
>>> fit = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
>>> round(fit["alpha"], 3), round(float(survival(fit, 12)), 3)
(0.704, 0.17)
"""

from kundresa._public import publish as _publish
from kundresa.loyalty._ambassadors import AmbassadorResult, ambassadors
from kundresa.loyalty._clv_analysis import ClvResult, clv
from kundresa.loyalty._clv_calibration import CalibrationTable, calibration_table
from kundresa.loyalty._clv_fit import (
    fit_bg_bb,
    fit_bg_nbd,
    fit_gamma_gamma,
    fit_mbg_nbd,
    fit_pareto_nbd,
    fit_sbg,
)
from kundresa.loyalty._clv_predict import (
    conditional_expected_purchases,
    customer_lifetime_value,
    expected_purchases,
    expected_spend,
    p_alive,
    p_purchases,
    survival,
)
from kundresa.loyalty._clv_result import ConvergenceWarning, ModelFit
from kundresa.loyalty._clv_simulate import simulate_bg_nbd, simulate_pareto_nbd, simulate_spend
from kundresa.loyalty._lifecycle import lifecycle, stickiness
from kundresa.loyalty._lifecycle_result import LifecycleResult, StickinessResult
from kundresa.loyalty._repeat import repeat_purchase
from kundresa.loyalty._repeat_result import RepeatPurchaseResult
from kundresa.loyalty._retention import retention
from kundresa.loyalty._retention_result import (
    CohortRow,
    MeanCell,
    MeanRow,
    RetentionCell,
    RetentionResult,
)
from kundresa.loyalty._rfm import RfmResult, rfm
from kundresa.loyalty._summary import RfmSummary, rfm_summary

__all__ = [
    "AmbassadorResult",
    "CalibrationTable",
    "ClvResult",
    "CohortRow",
    "ConvergenceWarning",
    "LifecycleResult",
    "MeanCell",
    "MeanRow",
    "ModelFit",
    "RepeatPurchaseResult",
    "RetentionCell",
    "RetentionResult",
    "RfmResult",
    "RfmSummary",
    "StickinessResult",
    "ambassadors",
    "calibration_table",
    "clv",
    "conditional_expected_purchases",
    "customer_lifetime_value",
    "expected_purchases",
    "expected_spend",
    "fit_bg_bb",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_mbg_nbd",
    "fit_pareto_nbd",
    "fit_sbg",
    "lifecycle",
    "p_alive",
    "p_purchases",
    "repeat_purchase",
    "retention",
    "rfm",
    "rfm_summary",
    "simulate_bg_nbd",
    "simulate_pareto_nbd",
    "simulate_spend",
    "stickiness",
    "survival",
]

_publish(__name__, [globals()[name] for name in __all__])
