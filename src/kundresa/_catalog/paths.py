"""Declarations: paths, flows (Sankey), transition graph, variants, top paths, paths after
drop-off, journey archetypes and pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._catalog._common import RULES, SESSION_GAP, collapse, path_kwargs, unit
from kundresa._contract import REQUIRED, Analysis, Param, declare

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace

_PAGES = "kundresa.server._pages_analyses"
_HERE = "kundresa._catalog.paths"


def _max_steps(default: int = 5) -> Param:
    return Param(
        "max_steps",
        "int",
        default,
        "Steps of a path.",
        minimum=1,
        maximum=20,
        deprecated=("steps",),
    )


def _top(default: int, what: str = "How many variants / paths.") -> Param:
    return Param("top", "int", default, what, minimum=1, maximum=1000)


def run_paths(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.paths``."""
    from kundresa.paths import paths

    return paths(ws, conversion=p.conversion, max_steps=p.max_steps, top=p.top, **path_kwargs(p))


def run_flows(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.flows``."""
    from kundresa.paths import flows

    return flows(ws, start=p.start, end=p.end, max_steps=p.max_steps, top=p.top, **path_kwargs(p))


def run_transitions(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.transition_graph``."""
    from kundresa.paths import transition_graph

    return transition_graph(ws, **path_kwargs(p))


def run_variants(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.variants``."""
    from kundresa.paths import variants

    return variants(ws, top=p.top, **path_kwargs(p))


def run_top_paths(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.top_paths``."""
    from kundresa.paths import top_paths

    return top_paths(
        ws, p.conversion, outcome=p.outcome, max_steps=p.max_steps, top=p.top, **path_kwargs(p)
    )


def run_drop_off_paths(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.paths_after_drop_off``."""
    from kundresa.paths import paths_after_drop_off

    return paths_after_drop_off(
        ws, p.step, p.next_step, max_steps=p.max_steps, top=p.top, **path_kwargs(p)
    )


def run_journeys(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.journey_archetypes``."""
    from kundresa.paths import journey_archetypes

    return journey_archetypes(ws, conversion=p.conversion, method=p.method, long_after=p.long_after)


def run_pages(ws: Workspace, p: Params) -> Result:
    """``kundresa.paths.page_stats``."""
    from kundresa.paths import page_stats

    return page_stats(
        ws,
        page_field=p.page_field,
        conversion=p.conversion,
        session_gap=p.session_gap,
        page_events=p.page_events,
    )


_PATH = (SESSION_GAP, *RULES)
#: the top-paths options of the paths that end somewhere (per person, repeats merged)
_PERSON_PATH = (_max_steps(), _top(10), unit("person"), collapse(True), *_PATH)

declare(
    Analysis(
        name="paths",
        titles={"en": "Paths", "sv": "Vägar", "nb": "Veier"},
        help="Transition graph, variants, and top paths to conversion and drop-off in one report.",
        params=(
            Param(
                "conversion",
                "event",
                None,
                "Conversion event: top paths to it and drop-off.",
                deprecated=("to",),
            ),
            unit("session"),
            collapse(False),
            _max_steps(),
            _top(10),
            *_PATH,
        ),
        run=f"{_HERE}:run_paths",
        python="kundresa.paths:paths",
    )
)
declare(
    Analysis(
        name="flows",
        titles={"en": "Flows", "sv": "Flöden", "nb": "Flyter"},
        help="Sankey of paths from a start event, to an end event or between both: per step "
        "the top labels, as unique persons and transitions.",
        params=(
            Param("start", "event", None, "Paths starting at this event."),
            Param("end", "event", None, "Paths ending at this event."),
            _max_steps(),
            _top(5, "Labels per step; the rest is 'other'."),
            unit("session"),
            collapse(True),
            *_PATH,
        ),
        run=f"{_HERE}:run_flows",
        python="kundresa.paths:flows",
        page="kundresa.server._builders:render_flows",
        form="kundresa.server._builders:flows_form",
        template="flows.html",
    )
)
declare(
    Analysis(
        name="transitions",
        titles={"en": "Transition graph", "sv": "Övergångar", "nb": "Overganger"},
        help="Directly-follows graph: per transition the count, unique persons and median time.",
        params=(unit("session"), collapse(False), *_PATH),
        run=f"{_HERE}:run_transitions",
        page=f"{_PAGES}:render_transitions",
        figure=f"{_PAGES}:figure_transitions",
        python="kundresa.paths:transition_graph",
    )
)
declare(
    Analysis(
        name="variants",
        titles={"en": "Variants", "sv": "Varianter", "nb": "Varianter"},
        help="The most frequent whole paths (process variants) and their share.",
        params=(unit("session"), collapse(False), _top(20), *_PATH),
        run=f"{_HERE}:run_variants",
        python="kundresa.paths:variants",
    )
)
declare(
    Analysis(
        name="top-paths",
        titles={"en": "Top paths", "sv": "Vanligaste vägarna", "nb": "Vanligste veiene"},
        help="The most frequent paths that end in a conversion (or do not).",
        params=(
            Param("conversion", "event", REQUIRED, "The conversion event."),
            Param(
                "outcome",
                "choice",
                "conversion",
                "Paths to conversion or to drop-off.",
                choices=("conversion", "drop_off"),
            ),
            *_PERSON_PATH,
        ),
        run=f"{_HERE}:run_top_paths",
        python="kundresa.paths:top_paths",
    )
)
declare(
    Analysis(
        name="drop-off-paths",
        titles={
            "en": "Paths after drop-off",
            "sv": "Vägar efter avhopp",
            "nb": "Veier etter frafall",
        },
        help="What units did instead after reaching one step without the next.",
        params=(
            Param("step", "event", REQUIRED, "The step reached."),
            Param("next_step", "event", REQUIRED, "The step not reached."),
            *_PERSON_PATH,
        ),
        run=f"{_HERE}:run_drop_off_paths",
        python="kundresa.paths:paths_after_drop_off",
    )
)
declare(
    Analysis(
        name="journeys",
        titles={"en": "Journeys", "sv": "Kundresor", "nb": "Kundereiser"},
        help="Journey archetypes: long vs short journeys to conversion (touches, days, channels).",
        params=(
            Param(
                "conversion",
                "event",
                "Order Completed",
                "The conversion event.",
                deprecated=("to",),
            ),
            Param(
                "method",
                "choice",
                "threshold",
                "threshold or kmeans.",
                choices=("threshold", "kmeans"),
            ),
            Param("long_after", "duration", "7d", "threshold: a journey is long after this."),
        ),
        run=f"{_HERE}:run_journeys",
        page=f"{_PAGES}:render_journeys",
        figure=f"{_PAGES}:figure_journeys",
        python="kundresa.paths:journey_archetypes",
    )
)
declare(
    Analysis(
        name="pages",
        titles={"en": "Pages", "sv": "Sidor", "nb": "Sider"},
        help="Web pages and time: time on page, entries, exits, conversion after viewing.",
        params=(
            Param("page_field", "column", "touchpoint", "Field naming the page."),
            Param(
                "conversion",
                "event",
                "Order Completed",
                "The conversion event.",
                deprecated=("to",),
            ),
            SESSION_GAP,
            Param(
                "page_events",
                "event",
                None,
                "Events that are page views (default: all).",
                multiple=True,
            ),
        ),
        run=f"{_HERE}:run_pages",
        python="kundresa.paths:page_stats",
    )
)
