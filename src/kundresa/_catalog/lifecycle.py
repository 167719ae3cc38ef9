"""Declarations: lifecycle (new / returning / resurrecting / dormant), pulse and stickiness."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import journey_map
from kundresa._contract import Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace

_PAGES = "kundresa.server._pages_lifecycle"
_HERE = "kundresa._catalog.lifecycle"

_EVENT = Param(
    "event", "event", "any", "The activity event; 'any': every touchpoint.", positional=False
)
_MODE = Param(
    "mode",
    "choice",
    "posthog",
    "Vendor rules: posthog or amplitude.",
    choices=("posthog", "amplitude"),
)
_BY = Param("by", "column", None, "Break down by an events column or properties.KEY.")
_MAP = Param("map", "map", None, "Journey map: break down by its personas.", python="journey_map")
_DATE_FROM = Param("date_from", "text", None, "First date shown, YYYY-MM-DD.", max_length=10)
_DATE_TO = Param("date_to", "text", None, "Last date shown, YYYY-MM-DD.", max_length=10)


def run_lifecycle(ws: Workspace, p: Params) -> Result:
    """``kundresa.loyalty.lifecycle``."""
    from kundresa.loyalty import lifecycle

    return lifecycle(
        ws,
        p.event,
        period=p.period,
        mode=p.mode,
        created=p.created,
        by=p.by,
        journey_map=journey_map(p.map),
        date_from=p.date_from,
        date_to=p.date_to,
    )


def run_stickiness(ws: Workspace, p: Params) -> Result:
    """``kundresa.loyalty.stickiness``."""
    from kundresa.loyalty import stickiness

    return stickiness(
        ws,
        p.event,
        period=p.period,
        mode=p.mode,
        cumulative=p.cumulative,
        by=p.by,
        journey_map=journey_map(p.map),
        date_from=p.date_from,
        date_to=p.date_to,
    )


declare(
    Analysis(
        name="lifecycle",
        titles={"en": "Lifecycle", "sv": "Livscykel", "nb": "Livssyklus"},
        help="Persons per day, week or month: new, returning, resurrecting and dormant "
        "(PostHog or Amplitude rules), with pulse.",
        params=(
            _EVENT,
            Param(
                "period",
                "choice",
                "week",
                "Calendar period (UTC; weeks from Monday).",
                choices=("day", "week", "month"),
            ),
            _MODE,
            Param(
                "created",
                "choice",
                "first_event",
                "A person's creation: first event of any type, first activity or first "
                "identify (posthog mode).",
                choices=("first_event", "first_activity", "first_identify"),
            ),
            _BY,
            _MAP,
            _DATE_FROM,
            _DATE_TO,
        ),
        run=f"{_HERE}:run_lifecycle",
        page=f"{_PAGES}:render_lifecycle",
        figure=f"{_PAGES}:figure_lifecycle",
        python="kundresa.loyalty:lifecycle",
    )
)
declare(
    Analysis(
        name="stickiness",
        titles={"en": "Stickiness", "sv": "Aktiva dagar", "nb": "Aktive dager"},
        help="Days active per week or month: persons on exactly k days (PostHog) or the share "
        "active at least k days (Amplitude).",
        params=(
            _EVENT,
            Param(
                "period",
                "choice",
                "week",
                "Count active days per week or month.",
                choices=("week", "month"),
            ),
            _MODE,
            Param("cumulative", "bool", False, "Count at least k days instead of exactly k."),
            _BY,
            _MAP,
            _DATE_FROM,
            _DATE_TO,
        ),
        run=f"{_HERE}:run_stickiness",
        page=f"{_PAGES}:render_stickiness",
        figure=f"{_PAGES}:figure_stickiness",
        python="kundresa.loyalty:stickiness",
    )
)
