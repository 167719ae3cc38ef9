"""Declarations: customer lifetime value and P(alive), RFM scores and segments, both from the
engine's RFM summary (:mod:`kundresa.loyalty`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import journey_map
from kundresa._contract import Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace

_PAGES = "kundresa.server._pages_clv"
_HERE = "kundresa._catalog.clv"

#: light copies of kundresa.loyalty's choices (tests/test_loyalty_clv_analysis.py checks them)
PURCHASE_MODELS = ("bg_nbd", "pareto_nbd", "mbg_nbd")
SPEND_MODELS = ("gamma_gamma", "none")
RFM_METHODS = ("quantile", "fixed")
UNITS = ("day", "week")

_PURCHASE = Param("purchase_event", "event", "Order Completed", "The purchase event.")
_CAL_END = Param(
    "calibration_end",
    "text",
    None,
    "Last day of the calibration period, YYYY-MM-DD (default: the data's last day less the "
    "holdout).",
    max_length=10,
)
_DISTINCT = Param("distinct_days", "bool", True, "Purchases on the same day count once.")
_MAP = Param("map", "map", None, "Journey map: break down by its personas.", python="journey_map")


def _thresholds(name: str, help: str) -> Param:
    return Param(
        name, "float", None, help, multiple=True, split=True, minimum=0, maximum=1e12, max_items=4
    )


def run_clv(ws: Workspace, p: Params) -> Result:
    """``kundresa.loyalty.clv``."""
    from kundresa.loyalty import clv

    return clv(
        ws,
        p.purchase_event,
        model=p.model,
        spend_model=p.spend_model,
        horizon=p.horizon,
        discount_rate=p.discount_rate,
        time_unit=p.time_unit,
        calibration_end=p.calibration_end,
        holdout=p.holdout,
        distinct_days=p.distinct_days,
        journey_map=journey_map(p.map),
        top=p.top,
    )


def run_rfm(ws: Workspace, p: Params) -> Result:
    """``kundresa.loyalty.rfm``."""
    from kundresa.loyalty import rfm

    return rfm(
        ws,
        p.purchase_event,
        method=p.method,
        recency_thresholds=p.recency_thresholds,
        frequency_thresholds=p.frequency_thresholds,
        monetary_thresholds=p.monetary_thresholds,
        calibration_end=p.calibration_end,
        distinct_days=p.distinct_days,
        journey_map=journey_map(p.map),
    )


declare(
    Analysis(
        name="clv",
        titles={
            "en": "Customer lifetime value",
            "sv": "Kundlivstidsvärde",
            "nb": "Kundelivstidsverdi",
        },
        help="BG/NBD (or Pareto/NBD, MBG/NBD) and Gamma-Gamma fits on the engine's RFM "
        "summary: P(alive), expected purchases and discounted CLV per customer, holdout "
        "calibration, per persona with a map.",
        params=(
            _PURCHASE,
            Param("model", "choice", "bg_nbd", "Purchase model.", choices=PURCHASE_MODELS),
            Param(
                "spend_model",
                "choice",
                "gamma_gamma",
                "Spend model; none: no value.",
                choices=SPEND_MODELS,
            ),
            Param("horizon", "duration", "52w", "CLV horizon, e.g. 52w."),
            Param("discount_rate", "float", 0.1, "Annual discount rate.", minimum=0, maximum=1),
            Param("time_unit", "choice", "week", "Time unit of t_x and T.", choices=UNITS),
            _CAL_END,
            Param("holdout", "duration", None, "Holdout after the calibration, e.g. 39w."),
            _DISTINCT,
            _MAP,
            Param("top", "int", 20, "Top customers listed.", minimum=0, maximum=1000),
        ),
        run=f"{_HERE}:run_clv",
        page=f"{_PAGES}:render_clv",
        figure=f"{_PAGES}:figure_clv",
        python="kundresa.loyalty:clv",
    )
)
declare(
    Analysis(
        name="rfm",
        titles={"en": "RFM segments", "sv": "RFM-segment", "nb": "RFM-segmenter"},
        help="Recency, frequency and monetary scores 1-5 (quantiles or fixed thresholds) and "
        "segments (Champions, Loyal, At risk, Hibernating, Lost, ...), computed in the engine.",
        params=(
            _PURCHASE,
            Param(
                "method",
                "choice",
                "quantile",
                "Scores from quintiles or thresholds.",
                choices=RFM_METHODS,
            ),
            _thresholds("recency_thresholds", "fixed: four day counts, e.g. 30,90,180,365."),
            _thresholds("frequency_thresholds", "fixed: four purchase counts, e.g. 2,3,5,10."),
            _thresholds("monetary_thresholds", "fixed: four values, e.g. 50,100,250,500."),
            _CAL_END,
            _DISTINCT,
            _MAP,
        ),
        run=f"{_HERE}:run_rfm",
        page=f"{_PAGES}:render_rfm",
        figure=f"{_PAGES}:figure_rfm",
        python="kundresa.loyalty:rfm",
    )
)
