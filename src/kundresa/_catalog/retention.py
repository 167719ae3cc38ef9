"""Declarations: retention (cohort tables: PostHog, Amplitude and Mixpanel semantics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import journey_map
from kundresa._contract import Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._workspace import Workspace
    from kundresa.loyalty import RetentionResult

#: light copies of the library's choices (tests/test_loyalty_retention.py checks them)
COHORTS = ("first_time", "recurring")
PERIODS = ("day", "week", "month")
MODES = ("on", "on_or_after")
CLOCKS = ("calendar", "rolling")
REFERENCES = ("cohort", "previous")
#: the most periods after period 0
MAX_PERIODS = 400


def run_retention(ws: Workspace, p: Params) -> RetentionResult:
    """``kundresa.loyalty.retention`` with the declared parameters."""
    from kundresa.loyalty import retention

    return retention(
        ws,
        p.start_event,
        p.return_event,
        cohort=p.cohort,
        period=p.period,
        brackets=p.brackets,
        mode=p.mode,
        clock=p.clock,
        reference=p.reference,
        periods=p.periods,
        date_from=p.date_from,
        date_to=p.date_to,
        by=p.by,
        journey_map=journey_map(p.map),
    )


declare(
    Analysis(
        name="retention",
        titles={"en": "Retention", "sv": "Återkomst", "nb": "Gjenkomst"},
        help="Cohorts by start period and how many came back in each later period (first-time "
        "or recurring, on or on-or-after, calendar or rolling, custom brackets), with 95% "
        "intervals, the weighted mean row and a breakdown.",
        params=(
            Param("start_event", "event", "any", "Event that starts a cohort entry; any = any."),
            Param("return_event", "event", "any", "Event that counts as a return; any = any."),
            Param(
                "cohort",
                "choice",
                "first_time",
                "first_time: by the first start event; recurring: every start period.",
                choices=COHORTS,
            ),
            Param(
                "period",
                "choice",
                None,
                "Period of rows and columns (default week); not with brackets.",
                choices=PERIODS,
            ),
            Param(
                "brackets",
                "text",
                None,
                "Custom day ranges instead of periods, e.g. '0-7d,8-30d,31-90d'.",
                max_length=400,
            ),
            Param(
                "mode",
                "choice",
                "on",
                "on: returned in period N; on_or_after: in N or later (unbounded).",
                choices=MODES,
            ),
            Param(
                "clock",
                "choice",
                "calendar",
                "calendar periods, or rolling 24 h / 7 d / 30 d from each start.",
                choices=CLOCKS,
            ),
            Param(
                "reference",
                "choice",
                "cohort",
                "Percent of the cohort size, or of the previous period.",
                choices=REFERENCES,
            ),
            Param(
                "periods",
                "int",
                10,
                "Last period number shown (columns 0..N).",
                minimum=1,
                maximum=MAX_PERIODS,
            ),
            Param(
                "date_from",
                "text",
                None,
                "First start day of the cohorts (YYYY-MM-DD).",
                max_length=10,
            ),
            Param(
                "date_to",
                "text",
                None,
                "Last start day of the cohorts (YYYY-MM-DD).",
                max_length=10,
            ),
            Param("by", "column", None, "Break down by an events column or properties.KEY."),
            Param(
                "map",
                "map",
                None,
                "Journey map: break down by its personas.",
                python="journey_map",
            ),
        ),
        run="kundresa._catalog.retention:run_retention",
        page="kundresa.server._pages_retention:render_retention",
        figure="kundresa.server._pages_retention:figure_retention",
        python="kundresa.loyalty:retention",
    )
)
