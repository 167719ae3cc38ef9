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

from typing import TYPE_CHECKING

from kundresa._lazy import lazy as _lazy

if TYPE_CHECKING:
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

#: where each public name lives (imported on first use: the CLV models need only numpy)
_EXPORTS: dict[str, str] = {
    "AmbassadorResult": "kundresa.loyalty._ambassadors",
    "CalibrationTable": "kundresa.loyalty._clv_calibration",
    "ClvResult": "kundresa.loyalty._clv_analysis",
    "CohortRow": "kundresa.loyalty._retention_result",
    "ConvergenceWarning": "kundresa.loyalty._clv_result",
    "LifecycleResult": "kundresa.loyalty._lifecycle_result",
    "MeanCell": "kundresa.loyalty._retention_result",
    "MeanRow": "kundresa.loyalty._retention_result",
    "ModelFit": "kundresa.loyalty._clv_result",
    "RepeatPurchaseResult": "kundresa.loyalty._repeat_result",
    "RetentionCell": "kundresa.loyalty._retention_result",
    "RetentionResult": "kundresa.loyalty._retention_result",
    "RfmResult": "kundresa.loyalty._rfm",
    "RfmSummary": "kundresa.loyalty._summary",
    "StickinessResult": "kundresa.loyalty._lifecycle_result",
    "ambassadors": "kundresa.loyalty._ambassadors",
    "calibration_table": "kundresa.loyalty._clv_calibration",
    "clv": "kundresa.loyalty._clv_analysis",
    "conditional_expected_purchases": "kundresa.loyalty._clv_predict",
    "customer_lifetime_value": "kundresa.loyalty._clv_predict",
    "expected_purchases": "kundresa.loyalty._clv_predict",
    "expected_spend": "kundresa.loyalty._clv_predict",
    "fit_bg_bb": "kundresa.loyalty._clv_fit",
    "fit_bg_nbd": "kundresa.loyalty._clv_fit",
    "fit_gamma_gamma": "kundresa.loyalty._clv_fit",
    "fit_mbg_nbd": "kundresa.loyalty._clv_fit",
    "fit_pareto_nbd": "kundresa.loyalty._clv_fit",
    "fit_sbg": "kundresa.loyalty._clv_fit",
    "lifecycle": "kundresa.loyalty._lifecycle",
    "p_alive": "kundresa.loyalty._clv_predict",
    "p_purchases": "kundresa.loyalty._clv_predict",
    "repeat_purchase": "kundresa.loyalty._repeat",
    "retention": "kundresa.loyalty._retention",
    "rfm": "kundresa.loyalty._rfm",
    "rfm_summary": "kundresa.loyalty._summary",
    "simulate_bg_nbd": "kundresa.loyalty._clv_simulate",
    "simulate_pareto_nbd": "kundresa.loyalty._clv_simulate",
    "simulate_spend": "kundresa.loyalty._clv_simulate",
    "stickiness": "kundresa.loyalty._lifecycle",
    "survival": "kundresa.loyalty._clv_predict",
}

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

if not TYPE_CHECKING:  # mypy sees the imports above; Python resolves the names on first use
    __getattr__, __dir__ = _lazy(__name__, _EXPORTS)

del TYPE_CHECKING
