"""Declarations: repeat purchase, RFM scores and segments, ambassadors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import journey_map
from kundresa._contract import Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace

_PAGES = "kundresa.server._pages_repeat"
_HERE = "kundresa._catalog.repeat"

_MAP = Param(
    "map",
    "map",
    None,
    "Journey map: break down by its personas (and stages).",
    python="journey_map",
)
_PURCHASE = Param("purchase_event", "event", "Order Completed", "The purchase event.")
_DISTINCT = Param(
    "distinct_days", "bool", True, "Purchases of a person on the same day count once."
)


def run_repeat(ws: Workspace, p: Params) -> Result:
    """``kundresa.loyalty.repeat_purchase``."""
    from kundresa.loyalty import repeat_purchase

    return repeat_purchase(
        ws,
        p.purchase_event,
        distinct_days=p.distinct_days,
        within=p.within,
        period=p.period,
        windows=p.windows,
        max_orders=p.max_orders,
        until=p.until,
        by=p.by,
        journey_map=journey_map(p.map),
    )


def run_ambassadors(ws: Workspace, p: Params) -> Result:
    """``kundresa.loyalty.ambassadors``."""
    from kundresa.loyalty import ambassadors

    return ambassadors(
        ws,
        referral_event=p.referral_event,
        review_event=p.review_event,
        survey_event=p.survey_event,
        nps_property=p.nps_property,
        promoter_min=p.promoter_min,
        detractor_max=p.detractor_max,
        purchase_event=p.purchase_event,
        distinct_days=p.distinct_days,
        confidence=p.confidence,
        journey_map=journey_map(p.map),
    )


declare(
    Analysis(
        name="repeat-purchase",
        titles={"en": "Repeat purchase", "sv": "Återköp", "nb": "Gjenkjøp"},
        help="Repeat-purchase rate, orders per customer, time between orders, second-order "
        "conversion by cohort and revenue per customer; by a column or persona.",
        params=(
            _PURCHASE,
            _DISTINCT,
            Param("within", "duration", None, "A second purchase counts only within this."),
            Param(
                "period",
                "choice",
                "month",
                "Cohorts by the month or week of the first purchase.",
                choices=("month", "week"),
            ),
            Param(
                "windows",
                "duration",
                ("30d", "60d", "90d"),
                "Second-order windows of the cohort table.",
                multiple=True,
                split=True,
                max_items=10,
            ),
            Param(
                "max_orders",
                "int",
                10,
                "Orders per customer up to N+.",
                minimum=2,
                maximum=100,
            ),
            Param(
                "until",
                "text",
                None,
                "Count purchases up to this date (YYYY-MM-DD, inclusive).",
                max_length=10,
            ),
            Param("by", "column", None, "Break down by a column or properties.KEY."),
            _MAP,
        ),
        run=f"{_HERE}:run_repeat",
        page=f"{_PAGES}:render_repeat",
        figure=f"{_PAGES}:figure_repeat",
        python="kundresa.loyalty:repeat_purchase",
    )
)
declare(
    Analysis(
        name="ambassadors",
        titles={"en": "Ambassadors", "sv": "Ambassadörer", "nb": "Ambassadører"},
        help="Persons who recommend (referrals, reviews, NPS promoters) and the NPS score; "
        "per persona and stage with a map, among buyers and repeat buyers.",
        params=(
            Param("referral_event", "event", "Referral Sent", "The referral event."),
            Param("review_event", "event", "Review Written", "The review event."),
            Param("survey_event", "event", "Survey Answered", "The NPS survey event."),
            Param("nps_property", "text", "nps", "The property holding the 0-10 answer."),
            Param(
                "promoter_min", "int", 9, "Promoters answer at least this.", minimum=1, maximum=10
            ),
            Param(
                "detractor_max", "int", 6, "Detractors answer at most this.", minimum=0, maximum=9
            ),
            _PURCHASE,
            _DISTINCT,
            Param(
                "confidence",
                "float",
                0.95,
                "Confidence level of the NPS interval.",
                minimum=0.5,
                maximum=0.999,
            ),
            _MAP,
        ),
        run=f"{_HERE}:run_ambassadors",
        page=f"{_PAGES}:render_ambassadors",
        figure=f"{_PAGES}:figure_ambassadors",
        python="kundresa.loyalty:ambassadors",
    )
)
