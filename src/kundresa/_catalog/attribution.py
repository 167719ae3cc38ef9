"""Declarations: channels, attribution (13 models, any set, per stage) and ROPO."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import journey_map
from kundresa._contract import REQUIRED, Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace

_PAGES = "kundresa.server._pages_analyses"
_HERE = "kundresa._catalog.attribution"

#: every attribution model by name (kundresa.attribution.MODELS), plus "all"
MODELS = (
    "first",
    "last",
    "last_non_direct",
    "linear",
    "participation",
    "time_decay",
    "position",
    "j_shaped",
    "inverse_j",
    "custom",
    "markov",
    "shapley",
    "shapley_ordered",
    "all",
)

_MAP = Param(
    "map",
    "map",
    None,
    "Journey map: break down by its stages (and personas).",
    python="journey_map",
)
_LOOKBACK = Param("lookback", "duration", "30d", "Lookback before a conversion.")


def run_channels(ws: Workspace, p: Params) -> Result:
    """``kundresa.attribution.channel_report``."""
    from kundresa.attribution import channel_report

    return channel_report(
        ws, p.conversion, column=p.column, lookback=p.lookback, journey_map=journey_map(p.map)
    )


def run_attribution(ws: Workspace, p: Params) -> Result:
    """``kundresa.attribution.attribute``."""
    from kundresa.attribution import attribute

    return attribute(
        ws,
        p.conversion,
        model=p.model,
        lookback=p.lookback,
        unit=p.unit,
        first_only=p.first_only,
        channel_column=p.channel_column,
        exclude_channels=p.exclude_channels,
        markov_order=p.markov_order,
        half_life=p.half_life,
        direct_channels=p.direct_channels,
        coalition=p.coalition,
        journey_map=journey_map(p.map),
    )


def run_ropo(ws: Workspace, p: Params) -> Result:
    """``kundresa.attribution.ropo_report``."""
    from kundresa.attribution import ropo_report

    return ropo_report(
        ws,
        p.conversion,
        lookback=p.lookback,
        offline_channels=p.offline_channels,
        online_channels=p.online_channels,
        research_event=None if p.research_event == "any" else p.research_event,
    )


declare(
    Analysis(
        name="channels",
        titles={"en": "Channels", "sv": "Kanaler", "nb": "Kanaler"},
        help="Per channel: persons reached, touches, first-touch share, conversions touched, "
        "time to conversion; per stage and persona with a map.",
        params=(
            Param("conversion", "event", None, "Conversion event for conversions touched."),
            Param(
                "column",
                "column",
                "channel",
                "Column: channel, campaign, utm_source, touchpoint, ...",
                deprecated=("by",),
            ),
            _LOOKBACK,
            _MAP,
        ),
        run=f"{_HERE}:run_channels",
        page=f"{_PAGES}:render_channels",
        figure=f"{_PAGES}:figure_channels",
        python="kundresa.attribution:channel_report",
    )
)
declare(
    Analysis(
        name="attribution",
        titles={"en": "Attribution", "sv": "Attribution", "nb": "Attribusjon"},
        help="Credit for conversions per channel under any set of the 13 models side by side "
        "(rules, exact Markov, Shapley), per stage with a map.",
        params=(
            Param("conversion", "event", REQUIRED, "Conversion event, e.g. 'Order Completed'."),
            Param(
                "model",
                "choice",
                ("all",),
                "Models (comma list or repeated); all = every one.",
                choices=MODELS,
                multiple=True,
                split=True,
            ),
            _LOOKBACK,
            Param(
                "unit",
                "choice",
                "person",
                "Lookback over the person's touches or the session's.",
                choices=("person", "session"),
                deprecated=("lookback_scope",),
            ),
            Param("first_only", "bool", False, "Only each person's first conversion."),
            Param("channel_column", "column", "channel", "The column that names the channel."),
            Param(
                "exclude_channels",
                "text",
                None,
                "Channel to drop from paths.",
                multiple=True,
                split=True,
                deprecated=("exclude",),
            ),
            Param(
                "markov_order",
                "int",
                1,
                "Markov chain order.",
                minimum=1,
                maximum=4,
                deprecated=("order",),
            ),
            Param("half_life", "duration", "7d", "time_decay: half-life of a touch's weight."),
            Param(
                "direct_channels",
                "text",
                ("direct",),
                "last_non_direct: channels that are direct.",
                multiple=True,
                split=True,
            ),
            Param(
                "coalition",
                "choice",
                "rate",
                "shapley: value of a channel set.",
                choices=("rate", "conversions"),
            ),
            _MAP,
        ),
        run=f"{_HERE}:run_attribution",
        page=f"{_PAGES}:render_attribution",
        figure=f"{_PAGES}:figure_attribution",
        form=f"{_PAGES}:attribution_form",
        python="kundresa.attribution:attribute",
    )
)
declare(
    Analysis(
        name="ropo",
        titles={"en": "ROPO", "sv": "ROPO", "nb": "ROPO"},
        help="Research online, purchase offline: offline purchases researched online, and "
        "showrooming.",
        params=(
            Param("conversion", "event", "Order Completed", "The purchase event."),
            _LOOKBACK,
            Param(
                "offline_channels",
                "text",
                ("store",),
                "Offline channels.",
                multiple=True,
                split=True,
            ),
            Param(
                "online_channels",
                "text",
                ("web", "app"),
                "Online channels.",
                multiple=True,
                split=True,
            ),
            Param(
                "research_event",
                "text",
                "Product Viewed",
                "Online event that counts as research; 'any': every online touch.",
            ),
        ),
        run=f"{_HERE}:run_ropo",
        page=f"{_PAGES}:render_ropo",
        figure=f"{_PAGES}:figure_ropo",
        python="kundresa.attribution:ropo_report",
    )
)
