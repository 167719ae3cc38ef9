"""Attribution front door: every model on one journey table, side by side.

>>> from kundresa.attribution import Journeys, attribute
>>> j = Journeys.from_paths([["search", "web"], ["social", "web"], ["social"]],
...                         conversions=[1, 1, 0])
>>> r = attribute(j, model=["first", "last", "markov"])
>>> r.credits["first"]
{'search': 1.0, 'social': 1.0, 'web': 0.0}
>>> r.credits["last"]["web"]
2.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from kundresa._errors import InvalidOptionError
from kundresa._results import Result
from kundresa._util import parse_duration, renamed
from kundresa.attribution._journeys import Journeys, build_journeys
from kundresa.attribution._markov import markov
from kundresa.attribution._rules import RULE_MODELS, rule_credits
from kundresa.attribution._shapley import COALITIONS, shapley

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["MODELS", "AttributionResult", "attribute"]

#: Every model name ``attribute`` accepts (``all`` = every one of them).
MODELS: Final = (*RULE_MODELS, "markov", "shapley", "shapley_ordered")
#: The models the CLI offers by short name; ``all`` runs :data:`MODELS`.
CLI_MODELS: Final = ("first", "last", "linear", "time_decay", "position", "markov", "shapley")


@dataclass(frozen=True)
class AttributionResult(Result):
    """Credits per model and channel for one conversion event.

    ``credits[model][channel]`` are attributed conversions (``value_credits`` the same for
    revenue); every model except ``participation`` sums to ``conversions`` (the converting
    journeys with at least one touch; ``unattributed`` had none in the lookback).
    ``removal_effects`` are Markov's; ``ordered`` are the ordered Shapley credits
    (channel -> credit by position of the channel's first touch).

    >>> from kundresa.attribution import Journeys, attribute
    >>> r = attribute(Journeys.from_paths([["a", "b"]], conversions=[1]), model="linear")
    >>> r.to_frame()
      channel  linear
    0       a     0.5
    1       b     0.5
    """

    _renamed = {"conversion_event": "conversion"}  # noqa: RUF012 (old spelling, one release)

    conversion: str
    models: tuple[str, ...]
    channels: tuple[str, ...]
    credits: Mapping[str, Mapping[str, float]]
    value_credits: Mapping[str, Mapping[str, float]]
    conversions: float
    value: float
    unattributed: float
    journeys: int
    converting_journeys: int
    reach: Mapping[str, int]
    removal_effects: Mapping[str, float]
    ordered: Mapping[str, Sequence[float]]
    settings: Mapping[str, Any]
    #: per-stage attribution (``journey_map``): the map's stages in order, and for every
    #: ``"<stage> / <channel>"`` label in ``channels`` its ``(stage, channel)``
    stages: tuple[str, ...] = ()
    stage_channels: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def shares(self, model: str) -> dict[str, float]:
        """A model's credits as shares of its total.

        >>> from kundresa.attribution import Journeys, attribute
        >>> attribute(Journeys.from_paths([["a"]], conversions=[2]), model="last").shares("last")
        {'a': 1.0}
        """
        c = self.credits[model]
        total = sum(c.values())
        return {k: (v / total if total else 0.0) for k, v in c.items()}

    def to_frame(self) -> Any:
        """One row per channel, one column per model (attributed conversions); per-stage
        attribution has a ``stage`` column and one row per stage x channel.

        >>> from kundresa.attribution import Journeys, attribute
        >>> j = Journeys.from_paths([["a", "b"]], conversions=[1])
        >>> list(attribute(j, model=["first", "markov"]).to_frame().columns)
        ['channel', 'first', 'markov']
        """
        import pandas as pd

        data: dict[str, Any] = {}
        if self.stage_channels:
            data["stage"] = [self.stage_channels[c][0] for c in self.channels]
            data["channel"] = [self.stage_channels[c][1] for c in self.channels]
        else:
            data["channel"] = list(self.channels)
        for m in self.models:
            data[m] = [self.credits[m][c] for c in self.channels]
        return pd.DataFrame(data)

    def stage_totals(self) -> Any:
        """Per-stage attribution: credit per stage (summed over channels), one column per
        model; empty without a journey map.

        >>> from kundresa.attribution import Journeys, attribute
        >>> attribute(Journeys.from_paths([["a"]], conversions=[1])).stage_totals().empty
        True
        """
        import pandas as pd

        if not self.stage_channels:
            return pd.DataFrame()
        frame = self.to_frame().groupby("stage", sort=False)[list(self.models)].sum()
        order = [s for s in self.stages if s in frame.index]
        return frame.loc[order].reset_index()

    def plot(self) -> Any:
        """Grouped bars: attributed conversions per channel, one colour per model; per-stage
        attribution draws one panel per stage (shared legend) in the same figure."""
        import plotly.graph_objects as go
        from plotly.colors import qualitative
        from plotly.subplots import make_subplots

        title = f"Attributed conversions of {self.conversion or 'conversion'} by model"
        colours = qualitative.Plotly + qualitative.D3
        if not self.stage_channels:
            fig = go.Figure()
            for m in self.models:
                fig.add_bar(
                    name=m, x=list(self.channels), y=[self.credits[m][c] for c in self.channels]
                )
            fig.update_layout(
                barmode="group", title=title, xaxis_title="channel", yaxis_title="conversions"
            )
            return fig
        stages = [s for s in self.stages if any(v[0] == s for v in self.stage_channels.values())]
        fig = make_subplots(rows=len(stages), cols=1, subplot_titles=stages)
        for i, st in enumerate(stages):
            labels = [c for c in self.channels if self.stage_channels[c][0] == st]
            x = [self.stage_channels[c][1] for c in labels]
            for k, m in enumerate(self.models):
                fig.add_bar(
                    name=m, x=x, y=[self.credits[m][c] for c in labels], legendgroup=m,
                    marker_color=colours[k % len(colours)], showlegend=i == 0, row=i + 1, col=1,
                )  # fmt: skip
        fig.update_layout(
            barmode="group", title=title + " and journey stage", height=max(400, 260 * len(stages))
        )
        return fig

    def __str__(self) -> str:
        head = (
            f"attribution of {self.conversion or 'conversions'}: "
            f"{self.conversions:,.0f} conversions in {self.journeys:,} journeys"
            + (f" ({self.unattributed:,.0f} without a touch)" if self.unattributed else "")
        )
        keys: dict[str, list[str]] = {}
        if self.stage_channels:
            keys["stage"] = [self.stage_channels[c][0] for c in self.channels]
            keys["channel"] = [self.stage_channels[c][1] for c in self.channels]
        else:
            keys["channel"] = list(self.channels)
        cols = {
            _SHORT.get(m, m): [f"{self.credits[m][c]:,.1f}" for c in self.channels]
            for m in self.models
        }
        return "\n".join([head, *wrap_table(keys, cols)])


#: Short model names for the text table (the JSON and frame keep the full names).
_SHORT = {
    "last_non_direct": "last_nd",
    "participation": "particip",
    "time_decay": "t_decay",
    "shapley_ordered": "shap_ord",
}


def wrap_table(
    keys: dict[str, list[str]], cols: dict[str, list[str]], width: int = 100
) -> list[str]:
    """A text table that fits ``width`` columns: left-aligned ``keys`` on every block, the
    right-aligned ``cols`` wrapped into as many blocks as needed.

    >>> print("\\n".join(wrap_table({"ch": ["a"]}, {"x": ["1.0"], "y": ["2.0"]}, width=8)))
    ch    x
    a   1.0
    <BLANKLINE>
    ch    y
    a   2.0
    """
    kw = {k: max([len(k)] + [len(v) for v in vals]) for k, vals in keys.items()}
    cw = {c: max([len(c)] + [len(v) for v in vals]) for c, vals in cols.items()}
    n = len(next(iter(keys.values()), []))
    prefix = sum(kw.values()) + 2 * (len(kw) - 1)
    blocks: list[list[str]] = [[]]
    used = prefix
    for c in cols:
        if blocks[-1] and used + 2 + cw[c] > width:
            blocks.append([])
            used = prefix
        blocks[-1].append(c)
        used += 2 + cw[c]
    lines: list[str] = []
    for b, block in enumerate(blocks):
        if b:
            lines.append("")
        left = "  ".join(f"{k:<{kw[k]}}" for k in keys)
        lines.append(left + "".join(f"  {c:>{cw[c]}}" for c in block))
        for i in range(n):
            left = "  ".join(f"{keys[k][i]:<{kw[k]}}" for k in keys)
            lines.append(left + "".join(f"  {cols[c][i]:>{cw[c]}}" for c in block))
    return lines


def _models(model: str | Sequence[str]) -> tuple[str, ...]:
    names = [model] if isinstance(model, str) else list(model)
    out: list[str] = []
    for name in names:
        if name == "all":
            out += [m for m in MODELS if m not in out]
        elif name in MODELS:
            if name not in out:
                out.append(name)
        else:
            raise InvalidOptionError("model", name, allowed=(*MODELS, "all"))
    return tuple(out)


@renamed(lookback_scope="unit", order="markov_order")
def attribute(
    source: Workspace | Journeys,
    conversion: str | None = None,
    *,
    model: str | Sequence[str] = "all",
    lookback: str | dt.timedelta = "30d",
    unit: str = "person",
    first_only: bool = False,
    channel_column: str = "channel",
    exclude_channels: Sequence[str] = (),
    markov_order: int = 1,
    half_life: str | dt.timedelta = "7d",
    direct_channels: Sequence[str] = ("direct",),
    custom: tuple[float, float] = (0.3, 0.3),
    coalition: str = "rate",
    journey_map: Any = None,
) -> AttributionResult:
    """Attribute conversions to channels with one or more models.

    ``source`` is a workspace (journeys to ``conversion`` are built on its engine, see
    :func:`build_journeys`) or prebuilt :class:`Journeys`. ``model``: a name from
    :data:`MODELS`, a list of them, or ``"all"``. ``exclude_channels`` drops channels from
    every path first (e.g. direct visits); ``markov_order`` is the Markov order; ``half_life`` the
    time-decay half-life; ``direct_channels`` what ``last_non_direct`` skips; ``custom`` the
    ``(first, last)`` shares of the custom position model; ``coalition`` the Shapley value
    (``rate`` uses non-converting journeys; ``conversions`` is the classic set game).

    ``journey_map`` (a :class:`~kundresa.maps.JourneyMap` or a map file; workspace only)
    makes it per-stage attribution: each touch's channel becomes ``"<stage> / <channel>"``
    with the journey stage the person was in at the touch (the furthest stage of the map
    entered at or before it, ``(before)`` if none), and every model runs on those labels
    (Markov states and Shapley players are stage-channel pairs; ``exclude_channels`` drops a
    channel in every stage). ``to_frame()`` then has a ``stage`` column, ``stage_totals()``
    sums the credit per stage, ``plot()`` draws a panel per stage.

    >>> from kundresa.attribution import Journeys, attribute
    >>> j = Journeys.from_paths([["a", "b"], ["b"]], conversions=[1, 0])
    >>> attribute(j, model="markov").credits["markov"]
    {'a': 0.333..., 'b': 0.666...}
    """
    models = _models(model)
    if coalition not in COALITIONS:
        raise InvalidOptionError("coalition", coalition, allowed=COALITIONS)
    half = parse_duration(half_life, "half_life").total_seconds()
    jm = None
    if journey_map is not None:
        from kundresa.attribution._stages import load_journey_map

        jm = load_journey_map(journey_map)
    if isinstance(source, Journeys):
        if jm is not None:
            raise InvalidOptionError(
                "journey_map", jm.title, fix="pass a workspace (stages come from its events)"
            )
        j = source
    else:
        if conversion is None:
            raise InvalidOptionError("conversion", None, fix="name the conversion event")
        j = build_journeys(
            source,
            conversion,
            lookback=lookback,
            unit=unit,
            first_only=first_only,
            channel_column=channel_column,
            journey_map=jm,
        )
    if exclude_channels:
        drop = list(exclude_channels)
        if jm is not None:  # a channel is dropped in every stage
            from kundresa.attribution._stages import split_label

            drop += [c for c in j.channels if split_label(c)[1] in set(exclude_channels)]
        j = exclude(j, drop)
    credits: dict[str, dict[str, float]] = {}
    value_credits: dict[str, dict[str, float]] = {}
    ordered: dict[str, list[float]] = {}
    removal: dict[str, float] = {}
    settings: dict[str, Any] = {
        "lookback_seconds": j.lookback_seconds,
        "half_life_seconds": half,
        "markov_order": markov_order,
        "shapley_coalition": coalition,
        "exclude_channels": list(exclude_channels),
    }
    ch = j.channels

    def named(values: np.ndarray[Any, Any]) -> dict[str, float]:
        return {c: float(v) for c, v in zip(ch, values, strict=True)}

    for m in models:
        if m in RULE_MODELS:
            kw: dict[str, Any] = {
                "half_life_seconds": half,
                "direct_channels": direct_channels,
                "custom": custom,
            }
            credits[m] = named(rule_credits(j, m, **kw))
            value_credits[m] = named(rule_credits(j, m, weight=j.value, **kw))
        elif m == "markov":
            chain = markov(j, markov_order)
            credits[m] = named(chain.credits)
            value_credits[m] = named(chain.value_credits)
            removal = named(chain.removal_effects)
            settings["markov_states"] = chain.states
            settings["markov_p_conversion"] = chain.p_conversion
        elif m == "shapley":
            sv = shapley(j, coalition=coalition)
            credits[m] = named(sv.credits)
            settings["shapley_method"] = sv.method
            if j.value.any():
                value_credits[m] = named(shapley(j, coalition=coalition, weight=j.value).credits)
            else:
                value_credits[m] = named(np.zeros(len(ch)))
        else:  # shapley_ordered: the conversions game, credited by position
            sv = shapley(j, coalition="conversions")
            credits[m] = named(sv.ordered.sum(axis=1))
            value_credits[m] = named(
                shapley(j, coalition="conversions", weight=j.value).ordered.sum(axis=1)
            )
            ordered = {c: [float(x) for x in row] for c, row in zip(ch, sv.ordered, strict=True)}
    masks = j.channel_sets() if len(ch) <= 62 else np.zeros(j.n_journeys, dtype=np.int64)
    has = j.lengths > 0
    reach = {c: int(((masks >> i) & 1).sum()) for i, c in enumerate(ch)}
    stages: tuple[str, ...] = ()
    stage_channels: dict[str, tuple[str, str]] = {}
    if jm is not None:
        from kundresa.attribution._stages import split_label, stage_ids

        stages = stage_ids(jm)
        stage_channels = {c: split_label(c) for c in ch}
        pos = {s: i for i, s in enumerate(stages)}
        ch = tuple(sorted(ch, key=lambda c: (pos.get(stage_channels[c][0], len(pos)), c)))
        settings["journey_map"] = jm.title
    return AttributionResult(
        conversion=j.conversion or (conversion or ""),
        models=models,
        channels=ch,
        credits=credits,
        value_credits=value_credits,
        conversions=float(j.conversions[has].sum()),
        value=float(j.value[has].sum()),
        unattributed=j.unattributed_conversions,
        journeys=j.n_journeys,
        converting_journeys=int((j.conversions > 0).sum()),
        reach=reach,
        removal_effects=removal,
        ordered=ordered,
        settings=settings,
        stages=stages,
        stage_channels=stage_channels,
    )


def exclude(j: Journeys, channels: Sequence[str]) -> Journeys:
    """Drop ``channels`` from every path (repeats merged again); empty journeys drop out,
    their conversions count as unattributed.

    >>> exclude(Journeys.from_paths([["a", "web", "a"], ["web"]], [1, 1]), ["web"]).paths()
    [('a',)]
    """
    drop = set(channels)
    paths = j.paths()
    keep = [i for i, p in enumerate(paths) if any(c not in drop for c in p)]
    secs = j.seconds_before.tolist()
    off = j.offsets.tolist()
    new_paths = []
    new_secs = []
    for i in keep:
        pairs = [
            (c, s)
            for c, s in zip(paths[i], secs[off[i] : off[i + 1]], strict=True)
            if c not in drop
        ]
        new_paths.append([c for c, _ in pairs])
        new_secs.append([s for _, s in pairs])
    idx = np.asarray(keep, dtype=np.int64)
    lost = float(j.conversions.sum() - j.conversions[idx].sum()) if len(idx) else 0.0
    out = Journeys.from_paths(
        new_paths,
        conversions=j.conversions[idx].tolist(),
        value=j.value[idx].tolist(),
        seconds_before=new_secs,
    )
    return Journeys(
        channels=out.channels,
        offsets=out.offsets,
        codes=out.codes,
        seconds_before=out.seconds_before,
        conversions=out.conversions,
        value=out.value,
        person_id=tuple(j.person_id[i] for i in keep) if j.person_id else (),
        end_channel=tuple(j.end_channel[i] for i in keep) if j.end_channel else (),
        conversion=j.conversion,
        lookback_seconds=j.lookback_seconds,
        unattributed_conversions=lost,
    )
