"""Channels and attribution: which touchpoints create customers, online and offline.

Journeys are built in Ibis on the workspace's engine (DuckDB or Spark); the models run in
numpy on the compact journey table (see ``docs/adr/0010-attribution.md``).

>>> from kundresa.attribution import Journeys, attribute
>>> j = Journeys.from_paths([["search", "web"], ["web"]], conversions=[1, 0])
>>> attribute(j, model="last").credits["last"]
{'search': 0.0, 'web': 1.0}
"""

from kundresa._public import publish as _publish
from kundresa.attribution._api import MODELS, AttributionResult, attribute, exclude
from kundresa.attribution._journeys import Journeys, build_journeys
from kundresa.attribution._markov import MarkovChain, markov
from kundresa.attribution._reports import ChannelReport, RopoReport, channel_report, ropo_report
from kundresa.attribution._rules import rule_credits
from kundresa.attribution._shapley import ShapleyValues, shapley, shapley_game

__all__ = [
    "MODELS",
    "AttributionResult",
    "ChannelReport",
    "Journeys",
    "MarkovChain",
    "RopoReport",
    "ShapleyValues",
    "attribute",
    "build_journeys",
    "channel_report",
    "exclude",
    "markov",
    "ropo_report",
    "rule_credits",
    "shapley",
    "shapley_game",
]

_publish(__name__, [globals()[name] for name in __all__])
