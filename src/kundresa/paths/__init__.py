"""Paths, flows and journey discovery: what customers actually do.

Flows (Sankey), path cleaning rules, top paths to conversion and drop-off, the transition
graph (directly-follows graph) with variants, journey archetypes, web pages and time, a
draft journey map discovered from the dominant paths, and planned vs actual for a map.
Every analysis takes a :class:`~kundresa.Workspace` and returns an immutable result.

>>> from kundresa.paths import PathRules, PathRule
>>> PathRules(rename=(PathRule("^/product/", "Product page", field="url"),)).fields
('url',)
"""

from kundresa._public import publish as _publish
from kundresa.paths._analysis import (
    flows,
    journey_archetypes,
    page_stats,
    paths,
    paths_after_drop_off,
    paths_between,
    sequences,
    top_paths,
    transition_graph,
    variants,
)
from kundresa.paths._conformance import (
    Conformance,
    PersonConformance,
    StageConformance,
    conformance,
)
from kundresa.paths._discover import DiscoveredMap, discover_map
from kundresa.paths._index import PathRule, PathRules
from kundresa.paths._results import (
    Flows,
    JourneyArchetypes,
    PageStats,
    PathsReport,
    TopPaths,
    TransitionGraph,
    Variants,
)

__all__ = [
    "Conformance",
    "DiscoveredMap",
    "Flows",
    "JourneyArchetypes",
    "PageStats",
    "PathRule",
    "PathRules",
    "PathsReport",
    "PersonConformance",
    "StageConformance",
    "TopPaths",
    "TransitionGraph",
    "Variants",
    "conformance",
    "discover_map",
    "flows",
    "journey_archetypes",
    "page_stats",
    "paths",
    "paths_after_drop_off",
    "paths_between",
    "sequences",
    "top_paths",
    "transition_graph",
    "variants",
]

_publish(__name__, [globals()[name] for name in __all__])
